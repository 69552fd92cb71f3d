import { status } from '@grpc/grpc-js';
import { CallContext } from './calls';
import { clause, MountError } from './errors';

/** The annotation IRSA reads the role from (contract rule 11). */
export const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
/** The well-known node label with the node's region. */
export const REGION_LABEL = 'topology.kubernetes.io/region';

/**
 * The three Kubernetes reads a mount may need. Implemented by `kube.ts` (the
 * only module that loads @kubernetes/client-node) and by fakes in unit tests.
 * A missing object resolves to undefined; other failures reject.
 */
export interface ClusterReader {
  serviceAccountAnnotations(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The pod's node name (undefined while unscheduled); the pod itself is undefined when it does not exist. */
  pod(namespace: string, name: string): Promise<{ readonly nodeName?: string } | undefined>;
  nodeLabels(name: string): Promise<Record<string, string> | undefined>;
}

interface Entry<T> {
  readonly value: Promise<T>;
  readonly expires: number;
}

/**
 * Answers the mount's Kubernetes questions (role annotation, node region) with
 * a short TTL cache, so a burst of pods on one node costs one read each. In-flight
 * reads are shared; failures are not cached.
 */
export class ClusterInfo {
  private readonly cache = new Map<string, Entry<unknown>>();

  constructor(private readonly reader: ClusterReader, private readonly ttlMs: number) {}

  /** Contract rule 11: the IRSA role of a service account. */
  public async roleArn(namespace: string, serviceAccount: string, calls: CallContext): Promise<string> {
    const annotations = await this.cached(`sa/${namespace}/${serviceAccount}`, 'serviceaccounts', calls,
      () => this.reader.serviceAccountAnnotations(namespace, serviceAccount));
    if (annotations === undefined) {
      throw new MountError(status.PERMISSION_DENIED,
        `Service account ${namespace}/${serviceAccount} was not found. Fix: create it, or point the pod at an existing one.`, 'ServiceAccountNotFound');
    }
    const role = annotations[ROLE_ANNOTATION];
    if (!role) {
      throw new MountError(status.PERMISSION_DENIED,
        `Service account ${namespace}/${serviceAccount} has no ${ROLE_ANNOTATION} annotation, so IRSA has no role to assume. `
        + `Fix: annotate it with the IAM role ARN (kubectl annotate sa -n ${namespace} ${serviceAccount} ${ROLE_ANNOTATION}=arn:aws:iam::<account>:role/<name>), `
        + 'or set usePodIdentity: "true" in the SecretProviderClass to use EKS Pod Identity.', 'MissingRoleAnnotation');
    }
    return role;
  }

  /** The region label of the node the pod runs on (asked only when neither the class nor AWS_REGION gives a region). */
  public async nodeRegion(namespace: string, pod: string, calls: CallContext): Promise<string> {
    const found = await this.cached(`pod/${namespace}/${pod}`, 'pods', calls, () => this.reader.pod(namespace, pod));
    const fix = 'Fix: set region in the SecretProviderClass parameters, or AWS_REGION on the provider.';
    if (!found) {
      throw new MountError(status.NOT_FOUND,
        `Cannot find the region: pod ${namespace}/${pod} was not found in the Kubernetes API, and the region comes from the label of the pod's node `
        + `when the class gives none. ${fix}`, 'PodNotFound');
    }
    const nodeName = found.nodeName;
    if (!nodeName) {
      throw new MountError(status.FAILED_PRECONDITION,
        `Cannot find the region: pod ${namespace}/${pod} is not scheduled on a node yet, and the region comes from the node's label `
        + `when the class gives none. ${fix}`, 'NoRegion');
    }
    const labels = await this.cached(`node/${nodeName}`, 'nodes', calls, () => this.reader.nodeLabels(nodeName));
    const region = labels?.[REGION_LABEL];
    if (!region) {
      throw new MountError(status.FAILED_PRECONDITION,
        `Cannot find the region: node ${nodeName} has no ${REGION_LABEL} label. ${fix}`,
        'NoRegion');
    }
    return region;
  }

  private cached<T>(key: string, resource: string, calls: CallContext, read: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value as Promise<T>;
    calls.kubeCall(resource);
    const value = read().catch((err) => {
      this.cache.delete(key);
      throw new MountError(status.UNAVAILABLE,
        `Reading ${resource} ${key.split('/').slice(1).join('/')} from the Kubernetes API failed: ${clause((err as Error)?.message ?? String(err))}. `
        + 'Fix: check the provider can reach the API server and its RBAC allows get on serviceaccounts, pods and nodes.', 'KubernetesApi');
    });
    this.cache.set(key, { value, expires: Date.now() + this.ttlMs });
    return value;
  }
}
