import { App } from 'aws-cdk-lib';
import { WorkloadIdentity } from '../lib';
import { SampleStack } from './sample-stack';

// Context (all optional): -c clusterName=... -c kubectlRoleArn=... -c oidcProviderArn=...
// -c identity=pod-identity, -c account=... -c region=... (the stack is environment-agnostic without them).
const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key) || undefined;
const identity = context('identity');
if (identity !== undefined && !['irsa', 'pod-identity'].includes(identity)) {
  throw new Error(`Context "identity" is "${identity}". Fix: use "irsa" (default) or "pod-identity".`);
}

new SampleStack(app, 'SecretsStoreSample', {
  env: context('region') ? { account: context('account'), region: context('region') } : undefined,
  clusterName: context('clusterName'),
  kubectlRoleArn: context('kubectlRoleArn'),
  oidcProviderArn: context('oidcProviderArn'),
  identity: identity === 'pod-identity' ? WorkloadIdentity.POD_IDENTITY : WorkloadIdentity.IRSA,
});
