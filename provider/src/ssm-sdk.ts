// What the provider uses of the SSM client package, built as a bundle of its own
// (provider/dist/ssm-sdk.js) that main.js loads on the first SSM call (aws-clients.ts,
// loadSsm). Evaluating the package registers its ~200 error classes and schemas,
// which costs ~7 MiB of RSS that a provider whose classes name no SSM parameters
// never needs. The bundle carries its own copy of the SDK's core (~0.4 MB).
export { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
