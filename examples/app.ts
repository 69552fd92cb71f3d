import { App } from 'aws-cdk-lib';
import { SampleStack, SampleStackProps, sampleStackPropsFromContext } from './sample-stack';

// Context (all optional): -c clusterName=... -c kubectlRoleArn=... -c oidcProviderArn=...
// -c identity=pod-identity, -c account=... -c region=... (the stack is environment-agnostic without them).
const app = new App();

// Every value is checked before anything is built; a bad one gets its message, not a stack trace.
let props: SampleStackProps;
try {
  props = sampleStackPropsFromContext(app);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
new SampleStack(app, 'SecretsStoreSample', props);
