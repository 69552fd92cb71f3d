/** Requests, tokens, cluster objects and AWS data for provider tests. */
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LabelParameterVersionCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AwsProxy } from './aws-proxy';
import { MountRequest, ProviderProcess } from './harness';
import { KubeApiStandIn } from '../support/kube-api';

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/app-secrets';

/** A name unique to this run. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The driver's token attribute for the given audiences (tokens are opaque strings here). */
export function tokensAttribute(tokens: Record<string, string>): string {
  const expirationTimestamp = new Date(Date.now() + 3600_000).toISOString();
  return JSON.stringify(Object.fromEntries(Object.entries(tokens).map(([aud, token]) => [aud, { token, expirationTimestamp }])));
}

/** Options of a MountRequest built like the driver builds it. */
export interface RequestOptions {
  /** SecretProviderClass spec.parameters. */
  readonly params: Record<string, string>;
  readonly pod?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  /** Token attribute value; default an IRSA token. `null` leaves the attribute out. */
  readonly tokens?: string | null;
  readonly targetPath?: string;
  /** Default mode, decimal. @default 420 (0644) */
  readonly permission?: number;
  readonly currentObjectVersion?: Array<{ id: string; version: string }>;
}

export function mountRequest(o: RequestOptions): MountRequest {
  const attributes: Record<string, string> = {
    ...o.params,
    'csi.storage.k8s.io/pod.name': o.pod ?? 'app-0',
    'csi.storage.k8s.io/pod.namespace': o.namespace ?? 'default',
    'csi.storage.k8s.io/pod.uid': '8f2e4c1a-0000-4000-8000-000000000001',
    'csi.storage.k8s.io/serviceAccount.name': o.serviceAccount ?? 'app',
    'secretProviderClass': 'aws-secrets',
  };
  const tokens = o.tokens === undefined ? tokensAttribute({ 'sts.amazonaws.com': `irsa-token-${unique('t')}` }) : o.tokens;
  if (tokens !== null) attributes['csi.storage.k8s.io/serviceAccount.tokens'] = tokens;
  return {
    attributes: JSON.stringify(attributes),
    secrets: 'null',
    targetPath: o.targetPath ?? '/var/lib/kubelet/pods/8f2e4c1a/volumes/kubernetes.io~csi/secrets-store/mount',
    permission: String(o.permission ?? 420),
    currentObjectVersion: o.currentObjectVersion ?? [],
  };
}

/** A Kubernetes API stand-in with a service account (annotated with `role` unless null), a pod and its node. */
export async function startCluster(options: { role?: string | null; region?: string; namespace?: string; serviceAccount?: string } = {}) {
  const ns = options.namespace ?? 'default';
  const sa = options.serviceAccount ?? 'app';
  const annotations = options.role === null ? {} : { 'eks.amazonaws.com/role-arn': options.role ?? ROLE_ARN };
  const kube = await new KubeApiStandIn({
    [`/api/v1/namespaces/${ns}/serviceaccounts/${sa}`]: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns, annotations } },
    [`/api/v1/namespaces/${ns}/pods/app-0`]: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app-0', namespace: ns }, spec: { nodeName: 'node-a', containers: [] } },
    '/api/v1/nodes/node-a': { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/region': options.region ?? 'us-east-1' } } },
  }).start();
  return kube;
}

function clientConfig(region: string) {
  return { region, endpoint: process.env.MOTO_ENDPOINT!, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

/** Test data in moto, written directly (not through the proxy). */
export class MotoData {
  public static secrets(region = 'us-east-1') {
    return new SecretsManagerClient(clientConfig(region));
  }

  public static ssm(region = 'us-east-1') {
    return new SSMClient(clientConfig(region));
  }

  /** Creates a secret; returns its ARN and first VersionId. */
  public static async createSecret(name: string, value: string | Buffer, region = 'us-east-1') {
    const input = typeof value === 'string' ? { Name: name, SecretString: value } : { Name: name, SecretBinary: value };
    const out = await MotoData.secrets(region).send(new CreateSecretCommand(input));
    return { arn: out.ARN!, versionId: out.VersionId! };
  }

  /** Puts a new current value; returns its VersionId. */
  public static async rotateSecret(name: string, value: string, region = 'us-east-1') {
    const out = await MotoData.secrets(region).send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
    return out.VersionId!;
  }

  /** Puts a parameter value (new version); returns the version number. */
  public static async putParameter(name: string, value: string, region = 'us-east-1') {
    const out = await MotoData.ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: true }));
    return out.Version!;
  }

  public static async labelParameter(name: string, version: number, label: string, region = 'us-east-1') {
    await MotoData.ssm(region).send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: version, Labels: [label] }));
  }
}

/** Files of a response as name -> text. */
export function filesAsText(response: { files: Array<{ path: string; contents: Buffer }> }): Record<string, string> {
  return Object.fromEntries(response.files.map((f) => [f.path, Buffer.from(f.contents).toString('utf8')]));
}

/** The provider as its own process, AWS through a recording proxy in front of moto, Kubernetes through the stand-in. */
export interface ProviderBehindProxy {
  readonly proxy: AwsProxy;
  readonly kube: KubeApiStandIn;
  readonly provider: ProviderProcess;
  stop(): Promise<void>;
}

/** Starts a provider behind a recording AWS proxy (one AWS attempt per call, so faults are not retried away). */
export async function startProviderBehindProxy(): Promise<ProviderBehindProxy> {
  const proxy = await new AwsProxy(process.env.MOTO_ENDPOINT!).start();
  const kube = await startCluster();
  const provider = await ProviderProcess.start({ kube, env: { AWS_ENDPOINT_URL: proxy.url, AWS_MAX_ATTEMPTS: '1' } });
  return {
    proxy,
    kube,
    provider,
    async stop() {
      await provider.stop();
      await kube.stop();
      await proxy.stop();
    },
  };
}
