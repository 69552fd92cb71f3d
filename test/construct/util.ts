import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** Context every test app gets: the native OIDC provider (no deprecated custom resource). */
export const TEST_CONTEXT = { '@aws-cdk/aws-eks:useNativeOidcProvider': true };

export const ACCOUNT = '111122223333';
export const OIDC_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
export const OIDC_ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

/** A stack in a fixed environment with an imported cluster (OIDC provider and kubectl provider). */
export function importedClusterStack(id = 'Test'): { app: App; stack: Stack; cluster: eks.ICluster } {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new Stack(app, id, { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const kubectlProvider = eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Kubectl', {
    serviceToken: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:kubectl`,
    role: iam.Role.fromRoleArn(stack, 'KubectlRole', `arn:aws:iam::${ACCOUNT}:role/kubectl`),
  });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'prod',
    kubectlProvider,
    openIdConnectProvider: iam.OpenIdConnectProvider.fromOpenIdConnectProviderArn(stack, 'Oidc', OIDC_ARN),
  });
  return { app, stack, cluster };
}

/** A kubectl layer without the 37 MB asset, for clusters created in tests. */
export function fakeKubectlLayer(stack: Stack): lambda.ILayerVersion {
  return lambda.LayerVersion.fromLayerVersionArn(stack, 'KubectlLayer', `arn:aws:lambda:${stack.region}:${ACCOUNT}:layer:kubectl:1`);
}

/**
 * Replaces CloudFormation references in a value with readable placeholders
 * (`<Logical.Attr>`), joining Fn::Join, so a manifest can be parsed back.
 */
export function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (value.Ref) return `<${value.Ref}>`;
  if (value['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  if (value['Fn::Join']) {
    const [sep, parts] = value['Fn::Join'];
    return parts.map(flatten).join(sep);
  }
  return `<${JSON.stringify(value)}>`;
}

/** The Kubernetes objects of every KubernetesManifest in the template, in template order. */
export function kubernetesObjects(template: Template): any[] {
  const resources = template.findResources(eks.KubernetesManifest.RESOURCE_TYPE);
  return Object.values(resources).flatMap((r: any) => JSON.parse(flatten(r.Properties.Manifest)));
}

/** The logical id of the KubernetesManifest holding an object of this kind and name. */
export function manifestIdOf(template: Template, kind: string, name: string): string {
  const resources = template.findResources(eks.KubernetesManifest.RESOURCE_TYPE);
  for (const [id, r] of Object.entries(resources)) {
    const objects = JSON.parse(flatten((r as any).Properties.Manifest));
    if (objects.some((o: any) => o.kind === kind && o.metadata?.name === name)) return id;
  }
  throw new Error(`no manifest with ${kind} ${name}`);
}

/** Drops the labels CDK and cdk8s add for bookkeeping (prune and metadata address). */
export function withoutBookkeeping(obj: any): any {
  const copy = JSON.parse(JSON.stringify(obj));
  const labels = copy.metadata?.labels ?? {};
  for (const key of Object.keys(labels)) {
    if (key.startsWith('aws.cdk.eks/prune-') || key.startsWith('cdk8s.io/')) delete labels[key];
  }
  if (copy.metadata && Object.keys(labels).length === 0) delete copy.metadata.labels;
  return copy;
}
