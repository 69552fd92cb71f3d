/**
 * The doctor's only door to Kubernetes, and the only module that imports
 * @kubernetes/client-node (ESM-only: the rest of the doctor stays loadable by
 * jest, which injects its own KubeReader). Read-only: gets and lists.
 */
import type * as k8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { FatalError } from './errors';

export type {
  CoreV1Event,
  V1CSIDriver,
  V1DaemonSet,
  V1Node,
  V1Pod,
  V1PodSpec,
  V1ServiceAccount,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import',
  };

/** A SecretProviderClass as served by the API (only the fields the doctor reads). */
export interface SecretProviderClassObject {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: {
    readonly provider?: string;
    readonly parameters?: Record<string, string | undefined>;
    readonly secretObjects?: Array<{
      readonly secretName?: string;
      readonly type?: string;
      readonly data?: Array<{ readonly objectName?: string; readonly key?: string }>;
    }>;
  };
}

/** Where the current kubeconfig context points. */
export interface KubeTarget {
  readonly context: string;
  /** The kubeconfig's cluster name (for EKS often the cluster ARN). */
  readonly cluster: string;
  readonly server: string;
  /** The context's default namespace, if it sets one. */
  readonly namespace?: string;
}

/** Read-only Kubernetes lookups the checks need; `undefined` means 404. */
export interface KubeReader {
  target(): KubeTarget;
  getPod(namespace: string, name: string): Promise<k8s.V1Pod | undefined>;
  getServiceAccount(namespace: string, name: string): Promise<k8s.V1ServiceAccount | undefined>;
  getNode(name: string): Promise<k8s.V1Node | undefined>;
  getCsiDriver(name: string): Promise<k8s.V1CSIDriver | undefined>;
  getClass(namespace: string, name: string): Promise<SecretProviderClassObject | undefined>;
  /** Classes in one namespace, or in all namespaces when `namespace` is undefined. */
  listClasses(namespace?: string): Promise<SecretProviderClassObject[]>;
  listPodsOnNode(nodeName: string): Promise<k8s.V1Pod[]>;
  listDaemonSets(): Promise<k8s.V1DaemonSet[]>;
  listPodEvents(namespace: string, podName: string): Promise<k8s.CoreV1Event[]>;
  readLog(namespace: string, pod: string, container: string, tailLines: number): Promise<string>;
}

const SPC = { group: 'secrets-store.csi.x-k8s.io', version: 'v1', plural: 'secretproviderclasses' };

/** Turn a 404 into `undefined`; rethrow anything else with the path that failed. */
async function orMissing<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw kubeError(what, err);
  }
}

function kubeError(what: string, err: unknown): FatalError {
  const code = (err as { code?: number | string }).code;
  const reason = typeof code === 'number' ? `HTTP ${code}` : (code ?? (err as Error).message);
  return new FatalError(`Kubernetes API: reading ${what} failed (${reason}).`, 'Check the kubeconfig context and your RBAC read access.');
}

async function orThrow<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw kubeError(what, err);
  }
}

/**
 * True when `loadFromDefault` found nothing to load: it then falls back to an
 * unauthenticated http://localhost:8080 (context "loaded-context", cluster
 * "cluster"), whose first request fails with an unrelated TLS message.
 */
function isNoConfigFallback(config: KubeConfigLike): boolean {
  if (process.env.KUBECONFIG) return false;
  const cluster = config.getCurrentCluster();
  return config.getCurrentContext() === 'loaded-context' && cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080';
}

type KubeConfigLike = Pick<k8s.KubeConfig, 'getCurrentContext' | 'getCurrentCluster'>;

/** A KubeReader over the current context of the default kubeconfig (KUBECONFIG, ~/.kube/config, in-cluster). */
export async function createKubeReader(contextName?: string): Promise<KubeReader> {
  // A dynamic import: the client is ESM-only (esbuild bundles it into the CLI).
  const client = await import('./kube-client.mjs');
  const config = new client.KubeConfig();
  try {
    config.loadFromDefault();
  } catch (err) {
    throw new FatalError(`cannot load the kubeconfig (${(err as Error).message}).`, 'Set KUBECONFIG or fix ~/.kube/config.');
  }
  if (isNoConfigFallback(config)) {
    throw new FatalError(
      'no kubeconfig found: KUBECONFIG is not set, ~/.kube/config does not exist, and this is not a pod in a cluster.',
      'Set KUBECONFIG or create ~/.kube/config (for EKS: aws eks update-kubeconfig --name <cluster>).',
    );
  }
  if (contextName && !config.getContextObject(contextName)) {
    throw new FatalError(
      `kubeconfig has no context "${contextName}".`,
      `Pass one of its contexts to --context: ${config.getContexts().map((c) => c.name).join(', ')}.`,
    );
  }
  if (contextName) config.setCurrentContext(contextName);
  const core = config.makeApiClient(client.CoreV1Api);
  const storage = config.makeApiClient(client.StorageV1Api);
  const apps = config.makeApiClient(client.AppsV1Api);
  const custom = config.makeApiClient(client.CustomObjectsApi);

  return {
    target: () => ({
      context: config.getCurrentContext(),
      cluster: config.getCurrentCluster()?.name ?? '',
      server: config.getCurrentCluster()?.server ?? '',
      namespace: config.getContextObject(config.getCurrentContext())?.namespace,
    }),
    getPod: (namespace, name) => orMissing(`pod ${namespace}/${name}`, () => core.readNamespacedPod({ namespace, name })),
    getServiceAccount: (namespace, name) =>
      orMissing(`service account ${namespace}/${name}`, () => core.readNamespacedServiceAccount({ namespace, name })),
    getNode: (name) => orMissing(`node ${name}`, () => core.readNode({ name })),
    getCsiDriver: (name) => orMissing(`CSIDriver ${name}`, () => storage.readCSIDriver({ name })),
    getClass: (namespace, name) =>
      orMissing(`SecretProviderClass ${namespace}/${name}`, () =>
        custom.getNamespacedCustomObject({ ...SPC, namespace, name }) as Promise<SecretProviderClassObject>),
    listClasses: async (namespace) => {
      const list = (await orThrow('SecretProviderClasses', () =>
        namespace
          ? custom.listNamespacedCustomObject({ ...SPC, namespace })
          : custom.listClusterCustomObject(SPC))) as { items?: SecretProviderClassObject[] };
      return list.items ?? [];
    },
    listPodsOnNode: async (nodeName) =>
      (await orThrow(`pods on node ${nodeName}`, () =>
        core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` }))).items,
    listDaemonSets: async () => (await orThrow('DaemonSets', () => apps.listDaemonSetForAllNamespaces())).items,
    listPodEvents: async (namespace, podName) =>
      (await orThrow(`events of pod ${namespace}/${podName}`, () =>
        core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${podName}` }))).items,
    readLog: (namespace, pod, container, tailLines) =>
      orThrow(`logs of ${namespace}/${pod} container ${container}`, () =>
        core.readNamespacedPodLog({ namespace, name: pod, container, tailLines })),
  };
}
