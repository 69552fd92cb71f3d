/**
 * Everything the checks read, gathered once: the pod, its node, service
 * account and classes from Kubernetes, the objects and the role from AWS.
 * Each lookup is memoized, so checks share answers and the run makes each
 * call once. Nothing here writes anything.
 */
import { AwsReader, AwsResult, ParameterInfo, SecretInfo, isNotFound } from './aws';
import type { CoreV1Event, KubeReader, SecretProviderClassObject, V1CSIDriver, V1DaemonSet, V1Node, V1Pod, V1ServiceAccount } from './kube';
import { roleOf } from './workloads';
import { MountObject, ValidationResult, validateClassParameters } from '../../../lib/contract';

export const DRIVER_NAME = 'secrets-store.csi.k8s.io';
export const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const REGION_LABEL = 'topology.kubernetes.io/region';

/** What the operator asked about. */
export interface DoctorOptions {
  readonly namespace: string;
  readonly pod?: string;
  /** A class to check; with a pod, defaults to the classes its volumes name. */
  readonly className?: string;
  /** The service account for IAM checks without a pod. */
  readonly serviceAccount?: string;
  /** Region for EKS and IAM calls, and for objects when neither the class nor the node names one. */
  readonly region: string;
  /** EKS cluster name, for the OIDC issuer and Pod Identity lookups. */
  readonly clusterName?: string;
  /** More regions to search when an object is missing from its own. */
  readonly searchRegions: string[];
  /** How many recent log lines of each driver and provider container to scan. */
  readonly logLines: number;
}

/** A class the pod (or the operator) refers to, with its validation by the shared contract. */
export interface ClassView {
  readonly name: string;
  readonly object?: SecretProviderClassObject;
  readonly validation?: ValidationResult;
  /** Region its objects are read in, and where that came from. */
  readonly region: string;
  readonly regionSource: string;
}

/** An object of a valid class, where it is read. */
export interface ObjectView {
  readonly className: string;
  readonly object: MountObject;
  readonly region: string;
  /** True for the copy read in the failover region. */
  readonly failover: boolean;
  /** Describes the object in the class, e.g. `objects[0] "db-password" (secretsmanager, us-east-1)`. */
  readonly label: string;
}

/** The identity the pod's provider calls use. */
export interface Identity {
  readonly kind: 'irsa' | 'pod-identity';
  readonly serviceAccount: string;
  readonly roleArns: string[];
  /** Why no role was found, when none was. */
  readonly problem?: string;
}

export class DoctorContext {
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    public readonly options: DoctorOptions,
    public readonly kube: KubeReader,
    public readonly aws: AwsReader,
  ) {}

  /** The pod under diagnosis; undefined with `--class` only or when it does not exist. */
  public pod(): Promise<V1Pod | undefined> {
    const { namespace, pod } = this.options;
    return this.once('pod', async () => (pod ? this.kube.getPod(namespace, pod) : undefined));
  }

  public node(): Promise<V1Node | undefined> {
    return this.once('node', async () => {
      const nodeName = (await this.pod())?.spec?.nodeName;
      return nodeName ? this.kube.getNode(nodeName) : undefined;
    });
  }

  /** The pod's CSI volumes (any driver). */
  public async csiVolumes(): Promise<Array<{ name: string; driver: string; readOnly?: boolean; attributes: Record<string, string> }>> {
    const volumes = (await this.pod())?.spec?.volumes ?? [];
    return volumes.filter((v) => v.csi).map((v) => ({
      name: v.name, driver: v.csi!.driver, readOnly: v.csi!.readOnly, attributes: v.csi!.volumeAttributes ?? {},
    }));
  }

  /** Class names to check: `--class`, else those the pod's secrets-store volumes name. */
  public async classNames(): Promise<string[]> {
    if (this.options.className) return [this.options.className];
    const names = (await this.csiVolumes()).filter((v) => v.driver === DRIVER_NAME).map((v) => v.attributes.secretProviderClass);
    return [...new Set(names.filter((n): n is string => !!n))];
  }

  public classesInNamespace(): Promise<SecretProviderClassObject[]> {
    return this.once('classes-ns', () => this.kube.listClasses(this.options.namespace));
  }

  public classesEverywhere(): Promise<SecretProviderClassObject[]> {
    return this.once('classes-all', () => this.kube.listClasses());
  }

  /** Every class to check, fetched and validated with the shared contract rules. */
  public classes(): Promise<ClassView[]> {
    return this.once('class-views', async () => {
      const views: ClassView[] = [];
      for (const name of await this.classNames()) {
        const object = await this.kube.getClass(this.options.namespace, name);
        const params = object?.spec?.parameters ?? {};
        const { region, source } = await this.resolveRegion(params.region);
        const validation = object ? validateClassParameters(params, { region }) : undefined;
        views.push({ name, object, validation, region, regionSource: source });
      }
      return views;
    });
  }

  /** The objects of every class that passed validation, each failover object as its own view in the failover region. */
  public async objects(): Promise<ObjectView[]> {
    const views: ObjectView[] = [];
    for (const c of await this.classes()) {
      const failoverRegion = c.validation?.value?.settings.failoverRegion;
      for (const object of c.validation?.value?.objects ?? []) {
        const where = `${c.name} objects[${object.index}]`;
        views.push({ className: c.name, object, region: c.region, failover: false, label: `${where} "${object.name}" (${object.type}, ${c.region})` });
        if (!failoverRegion) continue;
        const f = object.failover ?? { name: object.name, version: object.version, versionLabel: object.versionLabel };
        const failover: MountObject = { ...object, name: f.name, arn: f.arn, version: f.version, versionLabel: f.versionLabel };
        views.push({ className: c.name, object: failover, region: failoverRegion, failover: true, label: `${where} failover "${f.name}" (${object.type}, ${failoverRegion})` });
      }
    }
    return views;
  }

  /** Metadata of an object in a region (Secrets Manager or SSM). */
  public lookup(object: MountObject, region: string): Promise<AwsResult<SecretInfo | ParameterInfo>> {
    const name = object.name;
    return object.type === 'secretsmanager' ? this.aws.describeSecret(region, name) : this.aws.describeParameter(region, parameterName(name));
  }

  /** Regions worth searching when an object is missing from its own. */
  public async otherRegions(region: string): Promise<string[]> {
    const candidates = [this.options.region, nodeRegion(await this.node()), process.env.AWS_REGION, process.env.AWS_DEFAULT_REGION];
    for (const c of await this.classes()) candidates.push(c.region, c.validation?.value?.settings.failoverRegion);
    candidates.push(...this.options.searchRegions);
    return [...new Set(candidates.filter((r): r is string => !!r && r !== region))];
  }

  /** Whether an object is missing in its region (only a definite NotFound counts). */
  public async missing(view: ObjectView): Promise<boolean> {
    return isNotFound(await this.lookup(view.object, view.region));
  }

  public serviceAccountName(): string | undefined {
    return this.options.serviceAccount;
  }

  /** The service account the provider acts for: `--service-account`, else the pod's. */
  public async serviceAccount(): Promise<{ name: string; object?: V1ServiceAccount } | undefined> {
    return this.once('sa', async () => {
      const name = this.options.serviceAccount ?? ((await this.pod()) ? (await this.pod())?.spec?.serviceAccountName ?? 'default' : undefined);
      if (!name) return undefined;
      return { name, object: await this.kube.getServiceAccount(this.options.namespace, name) };
    });
  }

  /** IRSA or Pod Identity, as the (first) class says, and the role(s) it leads to. */
  public identity(): Promise<Identity | undefined> {
    return this.once('identity', async () => {
      const sa = await this.serviceAccount();
      if (!sa) return undefined;
      const podIdentity = (await this.classes()).some((c) => c.validation?.value?.settings.usePodIdentity);
      if (!podIdentity) {
        const role = sa.object?.metadata?.annotations?.[ROLE_ANNOTATION];
        return { kind: 'irsa', serviceAccount: sa.name, roleArns: role ? [role] : [], problem: role ? undefined : sa.object ? 'annotation' : 'no-sa' };
      }
      const cluster = await this.clusterName();
      if (!cluster) return { kind: 'pod-identity', serviceAccount: sa.name, roleArns: [], problem: 'no-cluster' };
      const roles = await this.aws.podIdentityRoles(this.options.region, cluster, this.options.namespace, sa.name);
      if (!roles.ok) return { kind: 'pod-identity', serviceAccount: sa.name, roleArns: [], problem: `${roles.code}: ${roles.message}` };
      return { kind: 'pod-identity', serviceAccount: sa.name, roleArns: roles.value, problem: roles.value.length ? undefined : 'association' };
    });
  }

  /**
   * The EKS cluster name: `--cluster-name`, else the kubeconfig cluster when it
   * is an EKS ARN (`aws eks update-kubeconfig` writes those), else the node's
   * `alpha.eksctl.io/cluster-name` label.
   */
  public clusterName(): Promise<string | undefined> {
    return this.once('cluster', async () => {
      if (this.options.clusterName) return this.options.clusterName;
      const fromArn = /^arn:[^:]+:eks:[^:]*:\d*:cluster\/(.+)$/.exec(this.kube.target().cluster)?.[1];
      return fromArn ?? (await this.node())?.metadata?.labels?.['alpha.eksctl.io/cluster-name'];
    });
  }

  public podsOnNode(): Promise<V1Pod[]> {
    return this.once('node-pods', async () => {
      const nodeName = (await this.pod())?.spec?.nodeName;
      return nodeName ? this.kube.listPodsOnNode(nodeName) : [];
    });
  }

  public daemonSets(): Promise<V1DaemonSet[]> {
    return this.once('daemonsets', () => this.kube.listDaemonSets());
  }

  public csiDriver(): Promise<V1CSIDriver | undefined> {
    return this.once('csidriver', () => this.kube.getCsiDriver(DRIVER_NAME));
  }

  public events(): Promise<CoreV1Event[]> {
    return this.once('events', async () => (this.options.pod ? this.kube.listPodEvents(this.options.namespace, this.options.pod) : []));
  }

  /** Memoize one lookup for the run. */
  public once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (!this.memo.has(key)) this.memo.set(key, fn());
    return this.memo.get(key) as Promise<T>;
  }

  /**
   * The provider's order: the class's `region`, else the AWS_REGION of the
   * provider pod on the node, else the node's region label; `--region` last.
   */
  private async resolveRegion(classRegion: string | undefined): Promise<{ region: string; source: string }> {
    if (classRegion) return { region: classRegion, source: 'the class parameter region' };
    const provider = (await this.podsOnNode()).find((p) => roleOf(p.spec, p.metadata?.labels) === 'provider');
    const fromEnv = provider?.spec?.containers.flatMap((c) => c.env ?? []).find((e) => e.name === 'AWS_REGION')?.value;
    if (fromEnv) return { region: fromEnv, source: `AWS_REGION of provider pod ${provider?.metadata?.name}` };
    const fromNode = nodeRegion(await this.node());
    if (fromNode) return { region: fromNode, source: `the node label ${REGION_LABEL}` };
    return { region: this.options.region, source: '--region / AWS_REGION' };
  }
}

export function nodeRegion(node: V1Node | undefined): string | undefined {
  return node?.metadata?.labels?.[REGION_LABEL];
}

/** SSM name for API calls: an SSM ARN's resource `parameter/x` is the name `/x` (or `x`). */
export function parameterName(name: string): string {
  const m = /^arn:[^:]+:ssm:[^:]*:\d*:parameter(\/.*)$/.exec(name);
  return m ? m[1] : name;
}
