import { KubectlV33Layer } from '@aws-cdk/lambda-layer-kubectl-v33';
import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
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
    if (!props.kubectlRoleArn) {
      throw new Error('Context "kubectlRoleArn" is required with "clusterName": the kubectl Lambda needs a role with cluster access.');
    }
    const usesIrsa = (props.identity ?? WorkloadIdentity.IRSA) === WorkloadIdentity.IRSA;
    if (usesIrsa && !props.oidcProviderArn) {
      throw new Error('Context "oidcProviderArn" is required with "clusterName" for IRSA (or set identity=pod-identity).');
    }
    const clusterName = props.clusterName!;
    const bare = eks.Cluster.fromClusterAttributes(this, 'ClusterForKubectl', { clusterName });
    const kubectlProvider = new eks.KubectlProvider(this, 'KubectlProvider', {
      cluster: bare,
      kubectlLayer: new KubectlV33Layer(this, 'KubectlLayer'),
      role: iam.Role.fromRoleArn(this, 'KubectlRole', props.kubectlRoleArn, { mutable: false }),
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
