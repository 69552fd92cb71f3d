import { KubectlV33Layer } from '@aws-cdk/lambda-layer-kubectl-v33';
import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { SecretObject, SecretsStore, SecretsStoreInstall, WorkloadIdentity } from 'cdk-eks-secrets-store';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

declare const stack: Stack;

// An EKS cluster (aws-eks-v2) with a kubectl provider for the manifests.
const cluster = new eks.Cluster(stack, 'Cluster', {
  version: eks.KubernetesVersion.V1_33,
  kubectlProviderOptions: { kubectlLayer: new KubectlV33Layer(stack, 'KubectlLayer') },
});

// The driver and the AWS provider (managed add-on), a secret, and who may read it.
const store = new SecretsStore(stack, 'SecretsStore', { cluster, install: SecretsStoreInstall.eksAddon() });
const secret = store.addSecret('DbPassword', { secretName: 'my-db-password' });
const serviceAccount = store.addServiceAccount('MyApp', { name: 'my-app', identity: WorkloadIdentity.IRSA });

// The SecretProviderClass: the secret, mounted as the file `db-password`.
const secretsClass = store.addSecretProviderClass('AwsSecrets', {
  className: 'aws-secrets',
  serviceAccount,
  objects: [SecretObject.fromSecret(secret, { alias: 'db-password' })],
});

// The workload, running as that service account, with the class mounted at /mnt/secrets-store.
const chart = new Chart(new App(), 'my-app');
const pod = new kplus.Pod(chart, 'Pod', {
  metadata: { name: 'my-app' },
  serviceAccount: serviceAccount.toKubeServiceAccount(chart, 'ServiceAccount'),
  containers: [{ name: 'my-container', image: 'my-app-image' }],
});
secretsClass.mount(pod, '/mnt/secrets-store');
store.addWorkloads('MyAppWorkload', chart);
