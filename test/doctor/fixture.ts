/**
 * A cluster and an AWS account for the doctor's tests: AWS objects are real
 * moto resources (unique per scenario), Kubernetes objects a mutable "world"
 * served by the KubeApiStandIn. `healthyWorld` passes every check; each
 * scenario breaks one thing, then `runDoctor` runs the built bundle.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { stringify } from 'yaml';
import { ensureBundles } from '../support/bundle';
import { KubeApiStandIn } from '../support/kube-api';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BUNDLE = path.join(ROOT, 'provider', 'dist', 'doctor.js');
export const NS = 'shop';
export const NODE = 'ip-10-0-1-23.ec2.internal';
/** A secret value planted in the fixture: it must never appear in the doctor's output. */
export const PLANTED = 'PLANTED-v4lue-7f3a9c';

const ACCOUNT = '123456789012';

function endpointConfig(region: string) {
  return { region, endpoint: process.env.MOTO_ENDPOINT, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

/** The AWS side of a scenario. */
export interface AwsFixture {
  readonly id: string;
  readonly db: { readonly name: string; readonly arn: string };
  readonly apiKey: { readonly name: string; readonly arn: string };
  readonly param: { readonly name: string; readonly arn: string };
  readonly roleName: string;
  readonly roleArn: string;
  readonly cluster: string;
  readonly issuerHost: string;
}

export async function createSecret(region: string, name: string, value: string): Promise<string> {
  const out = await new SecretsManagerClient(endpointConfig(region)).send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return out.ARN!;
}

/** The role's trust for IRSA: this issuer, one service account, audience sts. */
export function irsaTrust(issuerHost: string, serviceAccount: string): object {
  return {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuerHost}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${issuerHost}:sub`]: `system:serviceaccount:${NS}:${serviceAccount}`, [`${issuerHost}:aud`]: 'sts.amazonaws.com' } },
    }],
  };
}

/** Least-privilege policy over the given secret and parameter ARNs. */
export function readPolicy(secretArns: string[], parameterArns: string[]): object {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArns },
      { Effect: 'Allow', Action: 'ssm:GetParameters', Resource: parameterArns },
    ],
  };
}

/** Create two secrets, a parameter, an EKS cluster and the pod's role in moto (all named after `id`). */
/** The role's trust for Pod Identity. */
export const podIdentityTrust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
};

/** How the AWS side deviates from the healthy one. */
export interface AwsOptions {
  /** The service account the IRSA trust names. @default 'app' */
  readonly trustedServiceAccount?: string;
  /** Grant the second secret too. @default true */
  readonly grantApiKey?: boolean;
  /** Trust Pod Identity instead of IRSA. @default false */
  readonly podIdentity?: boolean;
}

export async function createAws(id: string, options: AwsOptions = {}): Promise<AwsFixture> {
  const region = 'us-east-1';
  const db = { name: `doctor-${id}/db`, arn: '' };
  db.arn = await createSecret(region, db.name, JSON.stringify({ username: 'app', password: PLANTED }));
  const apiKey = { name: `doctor-${id}/api-key`, arn: await createSecret(region, `doctor-${id}/api-key`, `${PLANTED}-api`) };
  const param = { name: `/doctor-${id}/feature-flags`, arn: `arn:aws:ssm:${region}:${ACCOUNT}:parameter/doctor-${id}/feature-flags` };
  await new SSMClient(endpointConfig(region)).send(new PutParameterCommand({ Name: param.name, Value: '{"beta":"on"}', Type: 'SecureString' }));

  const iam = new IAMClient(endpointConfig(region));
  const eks = new EKSClient(endpointConfig(region));
  const cluster = `doctor-${id}`;
  const roleName = `doctor-${id}-app`;
  await eks.send(new CreateClusterCommand({ name: cluster, roleArn: `arn:aws:iam::${ACCOUNT}:role/eks`, resourcesVpcConfig: {} }));
  const issuer = (await eks.send(new DescribeClusterCommand({ name: cluster }))).cluster!.identity!.oidc!.issuer!;
  const issuerHost = issuer.replace(/^https:\/\//, '');
  const role = await iam.send(new CreateRoleCommand({
    RoleName: roleName,
    AssumeRolePolicyDocument: JSON.stringify(options.podIdentity ? podIdentityTrust : irsaTrust(issuerHost, options.trustedServiceAccount ?? 'app')),
  }));
  const secrets = options.grantApiKey === false ? [db.arn] : [db.arn, apiKey.arn];
  await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'read-secrets', PolicyDocument: JSON.stringify(readPolicy(secrets, [param.arn])) }));
  return { id, db, apiKey, param, roleName, roleArn: role.Role!.Arn!, cluster, issuerHost };
}

/** The Kubernetes side of a scenario: plain objects a test may change before serving. */
export interface World {
  pod: any;
  node: any;
  serviceAccount: any;
  csiDriver?: any;
  /** Classes with their namespace in metadata. */
  classes: any[];
  systemPods: any[];
  daemonSets: any[];
  events: any[];
  logs: Array<{ namespace: string; pod: string; container: string; text: string }>;
}

/** The class objects of a healthy mount: a JSON secret pinned to a label with a jmesPath file, a plain secret, an SSM parameter. */
export function classObjects(aws: AwsFixture): any[] {
  return [
    { objectName: aws.db.name, objectType: 'secretsmanager', objectAlias: 'db', objectVersionLabel: 'AWSCURRENT', jmesPath: [{ path: 'password', objectAlias: 'db-password' }] },
    { objectName: aws.apiKey.name, objectType: 'secretsmanager', objectAlias: 'api-key' },
    { objectName: aws.param.name, objectType: 'ssmparameter', objectAlias: 'feature-flags' },
  ];
}

export function secretProviderClass(name: string, namespace: string, objects: any[], extra: Record<string, string> = {}): any {
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name, namespace },
    spec: {
      provider: 'aws',
      parameters: { objects: stringify(objects), ...extra },
      secretObjects: [{ secretName: 'db', type: 'Opaque', data: [{ objectName: 'db-password', key: 'password' }] }],
    },
  };
}

const meta = (namespace: string, name: string, labels: Record<string, string> = {}) => ({ namespace, name, uid: `uid-${name}`, labels });
const running = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
const providerDirVolume = { name: 'providervol', hostPath: { path: '/var/run/secrets-store-csi-providers' } };

function driverSpec(): any {
  return {
    nodeName: NODE,
    containers: [{ name: 'secrets-store', image: 'registry.k8s.io/csi-secrets-store/driver:v1.5.4', args: ['--endpoint=$(CSI_ENDPOINT)', '--provider-volume=/var/run/secrets-store-csi-providers', '--enable-secret-rotation=true', '--rotation-poll-interval=2m'] }],
    volumes: [providerDirVolume],
  };
}

function providerSpec(): any {
  return {
    nodeName: NODE,
    containers: [{ name: 'provider-aws-installer', image: 'public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:2.1.0' }],
    volumes: [providerDirVolume],
  };
}

export function healthyWorld(aws: AwsFixture): World {
  const driverLabels = { app: 'secrets-store-csi-driver' };
  const providerLabels = { app: 'csi-secrets-store-provider-aws' };
  return {
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(NS, 'checkout-7d9f'),
      spec: {
        nodeName: NODE,
        serviceAccountName: 'app',
        containers: [{ name: 'app', image: 'checkout:1', volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }] }],
        volumes: [{ name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'aws-secrets' } } }],
      },
      status: { phase: 'Pending' },
    },
    node: { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { 'topology.kubernetes.io/region': 'us-east-1', 'alpha.eksctl.io/cluster-name': aws.cluster } }, spec: {} },
    serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { ...meta(NS, 'app'), annotations: { 'eks.amazonaws.com/role-arn': aws.roleArn } } },
    csiDriver: { apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'secrets-store.csi.k8s.io' }, spec: { podInfoOnMount: true, tokenRequests: [{ audience: 'sts.amazonaws.com' }, { audience: 'pods.eks.amazonaws.com' }] } },
    classes: [secretProviderClass('aws-secrets', NS, classObjects(aws))],
    systemPods: [
      { metadata: meta('kube-system', 'csi-secrets-store-x7k2p', driverLabels), spec: driverSpec(), status: running },
      { metadata: meta('kube-system', 'csi-secrets-store-provider-aws-q8n4m', providerLabels), spec: providerSpec(), status: running },
    ],
    daemonSets: [
      { metadata: { namespace: 'kube-system', name: 'csi-secrets-store' }, spec: { selector: {}, template: { metadata: { labels: driverLabels }, spec: driverSpec() } } },
      { metadata: { namespace: 'kube-system', name: 'csi-secrets-store-provider-aws' }, spec: { selector: {}, template: { metadata: { labels: providerLabels }, spec: providerSpec() } } },
    ],
    events: [{ metadata: meta(NS, 'checkout-7d9f.1'), type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${NS}/checkout-7d9f to ${NODE}`, involvedObject: { kind: 'Pod', name: 'checkout-7d9f', namespace: NS } }],
    logs: [
      { namespace: 'kube-system', pod: 'csi-secrets-store-x7k2p', container: 'secrets-store', text: 'I1203 10:00:00.000000       1 main.go:195] "starting manager"\nI1203 10:00:01.000000       1 nodeserver.go:359] "node publish volume complete" pod="shop/checkout-7d9f"' },
      { namespace: 'kube-system', pod: 'csi-secrets-store-provider-aws-q8n4m', container: 'provider-aws-installer', text: 'I1203 10:00:00.5 main.go:50] Listening for connections on address: /var/run/secrets-store-csi-providers/aws.sock' },
    ],
  };
}

/** Serve a world from a new KubeApiStandIn (stop it after the test). */
export async function serve(world: World): Promise<KubeApiStandIn> {
  const kube = new KubeApiStandIn();
  const pod = world.pod;
  kube.set(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, pod);
  kube.set(`/api/v1/nodes/${world.node.metadata.name}`, world.node);
  kube.set(`/api/v1/namespaces/${NS}/serviceaccounts/${world.serviceAccount.metadata.name}`, world.serviceAccount);
  if (world.csiDriver) kube.set('/apis/storage.k8s.io/v1/csidrivers/secrets-store.csi.k8s.io', world.csiDriver);
  const spc = '/apis/secrets-store.csi.x-k8s.io/v1';
  for (const c of world.classes) kube.set(`${spc}/namespaces/${c.metadata.namespace}/secretproviderclasses/${c.metadata.name}`, c);
  kube.serveList(`${spc}/secretproviderclasses`, world.classes, 'SecretProviderClassList');
  kube.addHandler((r) => {
    const m = new RegExp(`^${spc}/namespaces/([^/]+)/secretproviderclasses$`).exec(r.path);
    return m ? { status: 200, body: { kind: 'SecretProviderClassList', items: world.classes.filter((c) => c.metadata.namespace === m[1]) } } : undefined;
  });
  kube.serveList('/api/v1/pods', [pod, ...world.systemPods], 'PodList');
  kube.serveList('/apis/apps/v1/daemonsets', world.daemonSets, 'DaemonSetList');
  kube.serveList(`/api/v1/namespaces/${NS}/events`, world.events, 'EventList');
  for (const l of world.logs) kube.serveLog(l.namespace, l.pod, l.container, l.text);
  return kube.start();
}

/** What one run of the doctor printed and returned. */
export interface DoctorRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Build provider/dist/doctor.js (with the other bundles) when it is missing or stale. */
export function ensureBundle(): void {
  ensureBundles();
}

/** Run the bundled doctor against a stand-in and moto; an `undefined` in `extraEnv` unsets that variable. */
export function runDoctor(kubeconfig: string, args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<DoctorRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    AWS_ENDPOINT_URL: process.env.MOTO_ENDPOINT,
    AWS_REGION: 'us-east-1',
    NO_COLOR: '1',
    ...extraEnv,
  };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  return new Promise((resolve) => {
    execFile(process.execPath, [BUNDLE, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr });
    });
  });
}
