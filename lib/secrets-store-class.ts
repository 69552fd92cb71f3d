import { Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { InstalledSecretsStore } from './install';
import { SecretsStoreValidationError } from './private/errors';
import { checkKubeName } from './private/kube-names';
import { classProblems, SecretProviderClass, SecretProviderClassOptions } from './secret-provider-class';
import { decryptRegions, SecretsStoreServiceAccount, WorkloadIdentity } from './workload-identity';

/** Name of the Secrets Store CSI driver, as volumes refer to it. */
export const CSI_DRIVER_NAME = 'secrets-store.csi.k8s.io';

/** A SecretProviderClass to create, and the service account that mounts it. */
export interface SecretsStoreClassOptions extends SecretProviderClassOptions {
  /** Name of the SecretProviderClass (`metadata.name`). */
  readonly className: string;

  /** The service account whose pods mount this class; it is granted exactly these objects. */
  readonly serviceAccount: SecretsStoreServiceAccount;
}

/** Props of a SecretsStoreClass. */
export interface SecretsStoreClassProps extends SecretsStoreClassOptions {
  /** The cluster the class is applied to. */
  readonly cluster: eks.ICluster;

  /** The driver install the class depends on. */
  readonly installed: InstalledSecretsStore;
}

/** How a class is mounted into a workload. */
export interface MountSecretsOptions {
  /**
   * The container that gets the mount.
   * @default - every container of the workload
   */
  readonly container?: kplus.Container;

  /**
   * Name of the CSI volume in the pod.
   * @default 'secrets-store'
   */
  readonly volumeName?: string;
}

/** Classes mounted into workloads of each cdk8s chart, so that applying the chart waits for them. */
const mountedClasses = new WeakMap<Chart, Set<SecretsStoreClass>>();

/** The class each CSI volume added by `mount` belongs to. */
const volumeClasses = new WeakMap<kplus.Volume, SecretsStoreClass>();

/** Classes per cluster, by `namespace/name`, with the path of the construct that made each. */
const classesByCluster = new WeakMap<eks.ICluster, Map<string, string>>();

/**
 * A SecretProviderClass applied to the cluster, with its objects granted to its
 * service account. Checked against the provider's rules at synth.
 */
export class SecretsStoreClass extends Construct {
  /** @internal classes mounted into the workloads of `chart`. */
  public static _mountedIn(chart: Chart): SecretsStoreClass[] {
    return [...(mountedClasses.get(chart) ?? [])];
  }

  /** Name of the SecretProviderClass. */
  public readonly className: string;

  /** Namespace of the SecretProviderClass (its service account's). */
  public readonly classNamespace: string;

  /** The service account that mounts it. */
  public readonly serviceAccount: SecretsStoreServiceAccount;

  /** The `spec.parameters` as rendered. */
  public readonly parameters: { [key: string]: string };

  /** The manifest that applies the class. */
  public readonly manifest: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: SecretsStoreClassProps) {
    super(scope, id);
    this.className = props.className;
    this.serviceAccount = props.serviceAccount;
    this.classNamespace = props.serviceAccount.serviceAccountNamespace;

    // A name Kubernetes accepts, a service account on this cluster, and one class per name and namespace.
    checkKubeName(this, 'className', this.className, 'subdomain');
    this.checkServiceAccountCluster(props.cluster);
    this.claimName(props.cluster);

    // Render the class as a cdk8s object (a chart must be rooted in its own cdk8s App).
    const chart = new Chart(new App(), 'SecretProviderClass');
    const spc = new SecretProviderClass(chart, 'Class', {
      ...props,
      metadata: { name: this.className, namespace: this.classNamespace },
      usePodIdentity: this.serviceAccount.identity === WorkloadIdentity.POD_IDENTITY ? true : undefined,
    });
    this.parameters = spc.parameters;

    // Apply it after the driver (its CRD) and the service account with its role. The object is rendered
    // alone (not chart.toJson(), which would validate it without the stack's region and path): the rules
    // run below, at synth, naming this construct.
    this.manifest = new eks.KubernetesManifest(this, 'Manifest', { cluster: props.cluster, manifest: [spc.toJson()], overwrite: true });
    if (props.installed.dependable) {
      this.manifest.node.addDependency(props.installed.dependable);
    }
    this.manifest.node.addDependency(this.serviceAccount);

    // Grant exactly these objects, in the class's regions, to the service account's role.
    const rendered = props.objects.map((o) => o._render(this, props.failoverRegion));
    this.serviceAccount._grantRead(rendered.map((r) => r.grants), decryptRegions(props.region ?? Stack.of(this).region, props.failoverRegion));

    // Whole-class rules run at synth, when every value is known.
    this.node.addValidation({ validate: () => this.validate(props) });
  }

  /**
   * Mounts this class into a cdk8s-plus Pod, Deployment or other workload at `path`, read-only.
   * The workload must run as this class's service account, in its namespace.
   */
  public mount(workload: kplus.AbstractPod, path: string, options: MountSecretsOptions = {}): void {
    this.checkWorkload(workload);
    this.checkMountPath(workload, path);
    const volumeName = options.volumeName ?? 'secrets-store';
    const containers = options.container ? [options.container] : workload.containers;
    if (containers.length === 0) {
      throw new SecretsStoreValidationError(this, `Workload ${workload.node.path} has no containers to mount class "${this.className}" into. Fix: add the containers before calling mount().`);
    }
    const volume = this.volumeFor(workload, volumeName);
    for (const container of containers) {
      this.checkContainer(workload, container, volume, path);
    }
    for (const container of containers) {
      container.mount(path, volume, { readOnly: true });
    }
    const chart = Chart.of(workload);
    mountedClasses.set(chart, (mountedClasses.get(chart) ?? new Set()).add(this));
  }

  /** The CSI volume of this class in `workload`: the one an earlier mount added, else a new one. */
  private volumeFor(workload: kplus.AbstractPod, volumeName: string): kplus.Volume {
    const id = `SecretsStore-${volumeName}`;
    const existing = workload.node.tryFindChild(id);
    if (existing === undefined) {
      const volume = kplus.Volume.fromCsi(workload, id, CSI_DRIVER_NAME, {
        name: volumeName,
        readOnly: true,
        attributes: { secretProviderClass: this.className },
      });
      volumeClasses.set(volume, this);
      return volume;
    }
    const owner = volumeClasses.get(existing as kplus.Volume);
    if (owner !== this) {
      const what = owner ? `class "${owner.className}"` : 'another construct';
      throw new SecretsStoreValidationError(this, `Workload ${workload.node.path} already has a volume "${volumeName}" from ${what}, ` +
        `so class "${this.className}" cannot use that volume name. Fix: pass mount(..., { volumeName: '<another name>' }).`);
    }
    return existing as kplus.Volume;
  }

  /** The mount path must be absolute. */
  private checkMountPath(workload: kplus.AbstractPod, path: string): void {
    if (Token.isUnresolved(path) || path.startsWith('/')) {
      return;
    }
    throw new SecretsStoreValidationError(this, `Mount path "${path}" of class "${this.className}" in workload ` +
      `${workload.node.path} is not absolute. Fix: use an absolute path, e.g. "/mnt/secrets-store".`);
  }

  /** A container gets each class once, and nothing else at the same path. */
  private checkContainer(workload: kplus.AbstractPod, container: kplus.Container, volume: kplus.Volume, path: string): void {
    const where = `container "${container.name}" of workload ${workload.node.path}`;
    const again = container.mounts.find((m) => m.volume === volume);
    if (again) {
      throw new SecretsStoreValidationError(this, `Class "${this.className}" is already mounted into ${where} at "${again.path}". ` +
        'Fix: call mount() once per class and container; to add it to one more container only, pass { container }.');
    }
    const taken = container.mounts.find((m) => m.path === path);
    if (taken) {
      throw new SecretsStoreValidationError(this, `Path "${path}" of ${where} already mounts volume "${taken.volume.name}". ` +
        `Fix: mount class "${this.className}" at another path.`);
    }
  }

  /** The service account must live on the cluster the class is applied to. */
  private checkServiceAccountCluster(cluster: eks.ICluster): void {
    const other = this.serviceAccount.cluster;
    const sameName = !Token.isUnresolved(other.clusterName) && other.clusterName === cluster.clusterName;
    if (other === cluster || sameName) {
      return;
    }
    throw new SecretsStoreValidationError(this, `Class "${this.className}" is applied to cluster ${cluster.node.path}, but its ` +
      `service account "${this.serviceAccount.serviceAccountName}" (${this.serviceAccount.node.path}) is on cluster ` +
      `${other.node.path}; pods could never mount it. Fix: use a service account added to the SecretsStore of the same cluster.`);
  }

  /** Refuses a second class of the same name and namespace on the same cluster. */
  private claimName(cluster: eks.ICluster): void {
    const key = `${this.classNamespace}/${this.className}`;
    if (Token.isUnresolved(key)) {
      return;
    }
    const claimed = classesByCluster.get(cluster) ?? new Map<string, string>();
    classesByCluster.set(cluster, claimed);
    const owner = claimed.get(key);
    if (owner !== undefined) {
      throw new SecretsStoreValidationError(this, `SecretProviderClass "${key}" is already defined by ${owner} on cluster ` +
        `${cluster.node.path}; the second would overwrite the first. Fix: give this class another className, or add its ` +
        'objects to the existing class.');
    }
    claimed.set(key, this.node.path);
  }

  /** The workload must run as the granted service account, else the mount is denied at runtime. */
  private checkWorkload(workload: kplus.AbstractPod): void {
    const saName = this.serviceAccount.serviceAccountName;
    const actual = workload.serviceAccount?.name;
    if (actual !== saName) {
      throw new SecretsStoreValidationError(this, `Workload ${workload.node.path} runs as service account "${actual ?? 'default'}", ` +
        `but class "${this.className}" is granted to "${saName}". Fix: give the workload ` +
        'serviceAccount: <SecretsStoreServiceAccount>.toKubeServiceAccount(chart, \'ServiceAccount\').');
    }
    const namespace = workload.metadata.namespace ?? Chart.of(workload).namespace ?? 'default';
    if (namespace !== this.classNamespace) {
      throw new SecretsStoreValidationError(this, `Workload ${workload.node.path} is in namespace "${namespace}", but class ` +
        `"${this.className}" is in "${this.classNamespace}". Fix: put the workload in namespace "${this.classNamespace}".`);
    }
  }

  private validate(props: SecretsStoreClassProps): string[] {
    const problems = classProblems(this.parameters, props.region ?? Stack.of(this).region)
      .map((p) => `SecretProviderClass "${this.className}": ${p}`);
    if (props.secretObjects && props.secretObjects.length > 0 && !props.installed.syncSecrets) {
      problems.push(`SecretProviderClass "${this.className}" has secretObjects, but the driver (${props.installed.mode}) ` +
        'does not sync secrets. Fix: install with syncSecrets: true, or remove secretObjects.');
    }
    if (!props.installed.providerNames.includes('aws')) {
      problems.push(`SecretProviderClass "${this.className}" uses provider "aws", which the ${props.installed.mode} install ` +
        `does not serve (it serves ${props.installed.providerNames.join(', ')}). Fix: choose an install with the AWS provider.`);
    }
    return problems;
  }
}
