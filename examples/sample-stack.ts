import { KubectlV33Layer } from '@aws-cdk/lambda-layer-kubectl-v33';
import { App as CdkApp, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { acknowledgeFindings } from './nag-acknowledgements';
import { SecretObject, SecretsStore, SecretsStoreInstall, WorkloadIdentity } from '../lib';

/** Where the sample runs: its own new cluster, or an existing one. */
export interface SampleStackProps extends StackProps {
  /** Name of an existing cluster; when absent the stack creates one. */
  readonly clusterName?: string;
  /** Role of the kubectl Lambda for an existing cluster (needs an EKS access entry with cluster-admin). */
  readonly kubectlRoleArn?: string;
  /** ARN of the existing cluster's IAM OIDC provider (IRSA only). */
  readonly oidcProviderArn?: string;
  /** IRSA (default) or Pod Identity. */
  readonly identity?: WorkloadIdentity;
}

/** Forms of the context values: what each must be, and an example for the message. */
const CONTEXT_FORMS: Record<string, { pattern: RegExp; what: string; example: string }> = {
  clusterName: { pattern: /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, what: 'an EKS cluster name', example: 'my-cluster' },
  kubectlRoleArn: {
    pattern: /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
    what: 'an IAM role ARN',
    example: 'arn:aws:iam::111122223333:role/eks-admin',
  },
  oidcProviderArn: {
    pattern: /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[A-Za-z0-9]+$/,
    what: 'the ARN of an EKS cluster\'s IAM OIDC provider',
    example: 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
  },
  account: { pattern: /^\d{12}$/, what: 'a 12-digit AWS account id', example: '111122223333' },
  region: { pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/, what: 'an AWS region', example: 'eu-west-1' },
  identity: { pattern: /^(irsa|pod-identity)$/, what: '"irsa" (the default) or "pod-identity"', example: 'pod-identity' },
};

/** Context keys that only mean something for an existing cluster. */
const EXISTING_CLUSTER_KEYS = ['kubectlRoleArn', 'oidcProviderArn'];

/**
 * The sample's props from the app's context (`-c key=value`, all optional), each value checked up front
 * so that a typo gets a message naming the key instead of a stack trace from deep inside CDK.
 */
export function sampleStackPropsFromContext(app: CdkApp): SampleStackProps {
  const context = readContext(app);
  for (const key of EXISTING_CLUSTER_KEYS) {
    if (context[key] !== undefined && context.clusterName === undefined) {
      throw new Error(`Context "${key}" is set but "clusterName" is not, so it would be ignored and a new cluster created. ` +
        `Fix: add -c clusterName=<existing cluster>, or drop -c ${key}.`);
    }
  }
  if (context.account !== undefined && context.region === undefined) {
    throw new Error(`Context "account" (${context.account}) is set without "region", so it would be ignored. Fix: add -c region=<region>.`);
  }
  checkOidcProvider(context);
  const props: SampleStackProps = {
    env: context.region ? { account: context.account, region: context.region } : undefined,
    clusterName: context.clusterName,
    kubectlRoleArn: context.kubectlRoleArn,
    oidcProviderArn: context.oidcProviderArn,
    identity: context.identity === 'pod-identity' ? WorkloadIdentity.POD_IDENTITY : WorkloadIdentity.IRSA,
  };
  if (props.clusterName) {
    checkExistingCluster(props);
  }
  return props;
}

/** An existing cluster needs a kubectl role (returned), and for IRSA its OIDC provider. */
function checkExistingCluster(props: SampleStackProps): string {
  if (!props.kubectlRoleArn) {
    throw new Error('Context "kubectlRoleArn" is required with "clusterName": the kubectl Lambda needs a role with cluster access. ' +
      'Fix: add -c kubectlRoleArn=arn:aws:iam::<account>:role/<role with an EKS access entry>.');
  }
  const usesIrsa = (props.identity ?? WorkloadIdentity.IRSA) === WorkloadIdentity.IRSA;
  if (usesIrsa && !props.oidcProviderArn) {
    throw new Error('Context "oidcProviderArn" is required with "clusterName" for IRSA. ' +
      'Fix: add -c oidcProviderArn=<the cluster\'s IAM OIDC provider ARN>, or -c identity=pod-identity.');
  }
  return props.kubectlRoleArn;
}

/** Every known context value that is set, checked against its form. */
function readContext(app: CdkApp): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const [key, form] of Object.entries(CONTEXT_FORMS)) {
    const raw = app.node.tryGetContext(key);
    if (raw === undefined || raw === '') {
      continue;
    }
    const value = String(raw);
    if (!form.pattern.test(value)) {
      throw new Error(`Context "${key}" is "${value}", which is not ${form.what}. ` +
        `Fix: pass it in this form: -c ${key}=${form.example} (with your own values).`);
    }
    values[key] = value;
  }
  return values;
}

/** The OIDC provider must be in the stack's region and account: IAM roles trust only providers of their own account. */
function checkOidcProvider(context: Record<string, string | undefined>): void {
  const arn = context.oidcProviderArn;
  if (arn === undefined) {
    return;
  }
  const [, , , , account, resource] = arn.split(':');
  const issuerRegion = resource.split('/')[1].split('.')[2];
  if (context.region !== undefined && issuerRegion !== context.region) {
    throw new Error(`Context "oidcProviderArn" is for an issuer in ${issuerRegion}, but "region" is ${context.region}; ` +
      'the cluster and the stack must be in the same region. Fix: pass the OIDC provider of the cluster in ' +
      `${context.region}, or -c region=${issuerRegion}.`);
  }
  if (context.account !== undefined && account !== context.account) {
    throw new Error(`Context "oidcProviderArn" is in account ${account}, but "account" is ${context.account}; ` +
      `a role can trust only an OIDC provider of its own account. Fix: use the provider in ${context.account}, or -c account=${account}.`);
  }
}

/**
 * The integration from the user's write-up: the secret `my-db-password`
 * mounted as `/mnt/secrets-store/db-password` in pod `my-app`.
 */
export class SampleStack extends Stack {
  constructor(scope: Construct, id: string, props: SampleStackProps = {}) {
    super(scope, id, props);
    const cluster = props.clusterName ? this.importCluster(props) : this.createCluster();

    // The driver and the AWS provider, as the managed EKS add-on.
    const store = new SecretsStore(this, 'SecretsStore', { cluster, install: SecretsStoreInstall.eksAddon() });

    // The secret (generated), the service account that may read it, and the class that mounts it.
    const secret = store.addSecret('DbPassword', { secretName: 'my-db-password' });
    const serviceAccount = store.addServiceAccount('MyApp', {
      name: 'my-app',
      namespace: 'default',
      identity: props.identity ?? WorkloadIdentity.IRSA,
    });
    const secretsClass = store.addSecretProviderClass('AwsSecrets', {
      className: 'aws-secrets',
      serviceAccount,
      objects: [SecretObject.fromSecret(secret, { alias: 'db-password' })],
    });

    // The pod, running as that service account, with the class mounted read-only.
    const chart = new Chart(new App(), 'my-app');
    const pod = new kplus.Pod(chart, 'Pod', {
      metadata: { name: 'my-app' },
      serviceAccount: serviceAccount.toKubeServiceAccount(chart, 'ServiceAccount'),
      containers: [{ name: 'my-container', image: 'my-app-image' }],
    });
    secretsClass.mount(pod, '/mnt/secrets-store');
    store.addWorkloads('MyAppWorkload', chart);

    new CfnOutput(this, 'SecretArn', { value: secret.secretArn });
    new CfnOutput(this, 'WorkloadRoleArn', { value: serviceAccount.role.roleArn });
    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    acknowledgeFindings(this, !props.clusterName);
  }

  /** A new EKS cluster (Auto Mode) with a kubectl provider for the manifests. */
  private createCluster(): eks.ICluster {
    return new eks.Cluster(this, 'Cluster', {
      version: eks.KubernetesVersion.V1_33,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      kubectlProviderOptions: { kubectlLayer: new KubectlV33Layer(this, 'KubectlLayer') },
    });
  }

  /** An existing cluster: its OIDC provider for IRSA and a kubectl provider running as the given role. */
  private importCluster(props: SampleStackProps): eks.ICluster {
    const kubectlRoleArn = checkExistingCluster(props);
    const clusterName = props.clusterName!;
    const bare = eks.Cluster.fromClusterAttributes(this, 'ClusterForKubectl', { clusterName });
    const kubectlProvider = new eks.KubectlProvider(this, 'KubectlProvider', {
      cluster: bare,
      kubectlLayer: new KubectlV33Layer(this, 'KubectlLayer'),
      role: iam.Role.fromRoleArn(this, 'KubectlRole', kubectlRoleArn, { mutable: false }),
    });
    return eks.Cluster.fromClusterAttributes(this, 'Cluster', {
      clusterName,
      kubectlProvider,
      openIdConnectProvider: props.oidcProviderArn
        ? iam.OpenIdConnectProvider.fromOpenIdConnectProviderArn(this, 'OidcProvider', props.oidcProviderArn)
        : undefined,
    });
  }
}
