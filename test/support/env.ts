// Environment shared by every test file (jest `setupFiles`).
// Fake credentials: tests only ever talk to servers on 127.0.0.1.
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = '20';
// aws-cdk-lib's built-in CloudFormation validation costs ~2 s per synth;
// templates are checked by assertions and by cfn-lint instead.
process.env.CDK_VALIDATION ??= 'false';
