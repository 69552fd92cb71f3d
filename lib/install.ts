import { Stack, Token } from 'aws-cdk-lib';
import { CfnAddon } from 'aws-cdk-lib/aws-eks';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct, IConstruct, IDependable } from 'constructs';
import { BundledProviderInstallOptions, installBundledProvider } from './bundled-provider';
import { SecretsStoreValidationError } from './private/errors';

/** Name of the managed EKS add-on that installs the driver and the AWS provider. */
export const EKS_ADDON_NAME = 'aws-secrets-store-csi-driver-provider';

/** Namespace the managed add-on installs into. */
export const EKS_ADDON_NAMESPACE = 'aws-secrets-manager';

/** Token audiences the driver must request so that both identity types can mount. */
export const TOKEN_AUDIENCES = ['sts.amazonaws.com', 'pods.eks.amazonaws.com'];

/** What an install mode put on the cluster, as the rest of the integration needs it. */
export interface InstalledSecretsStore {
  /** How the driver and provider were installed, e.g. `eks-addon`. */
  readonly mode: string;

  /**
   * What Kubernetes objects using the driver (classes, workloads) must wait for.
   * @default - nothing to wait for (the driver was already on the cluster)
   */
  readonly dependable?: IDependable;

  /** The `spec.provider` names this install serves (`aws` for the AWS provider). */
  readonly providerNames: string[];

  /** True when the driver syncs mounted objects to Kubernetes Secrets (`secretObjects`). */
  readonly syncSecrets: boolean;
}

/** Options of the managed EKS add-on install. */
export interface EksAddonInstallOptions {
  /**
   * Version of the add-on, e.g. `v3.1.3-eksbuild.1` (see `aws eks describe-addon-versions`).
   * @default - the default version EKS picks for the cluster's Kubernetes version
   */
  readonly version?: string;

  /**
   * Remount every volume each poll interval so that rotated secrets reach the files.
   * @default false
   */
  readonly rotation?: boolean;

  /**
   * How often the driver remounts when rotation is on, in the driver's duration form (`2m`, `30s`, `1h`).
   * @default - the driver's default (2m)
   */
  readonly rotationPollInterval?: string;

  /**
   * Let the driver mirror mounted objects into Kubernetes Secrets (`secretObjects` of a class).
   * @default false
   */
  readonly syncSecrets?: boolean;

  /**
   * Extra configuration values merged over the generated ones (the AWS provider chart's keys,
   * and the driver chart's keys under `secrets-store-csi-driver`).
   * @default - none
   */
  readonly extraConfiguration?: { [key: string]: any };

  /**
   * How EKS resolves conflicts with fields changed on the cluster: `OVERWRITE`, `NONE` or `PRESERVE`.
   * @default 'OVERWRITE'
   */
  readonly resolveConflicts?: string;
}

/**
 * How the Secrets Store CSI driver and an AWS provider get onto the cluster.
 *
 * One install per cluster: a second one is refused at synth.
 */
export abstract class SecretsStoreInstall {
  /**
   * Install both the driver and the AWS provider as the managed EKS add-on
   * `aws-secrets-store-csi-driver-provider`.
   * @see https://docs.aws.amazon.com/eks/latest/userguide/manage-secrets.html
   */
  public static eksAddon(options: EksAddonInstallOptions = {}): SecretsStoreInstall {
    return new EksAddonInstall(options);
  }

  /**
   * Install nothing: the driver (with `tokenRequests` for both audiences) and an
   * AWS provider are already on the cluster, e.g. installed by another stack.
   */
  public static existing(options: ExistingInstallOptions = {}): SecretsStoreInstall {
    return new ExistingInstall(options);
  }

  /**
   * Install the driver from its Helm chart and this package's own AWS provider as a DaemonSet
   * (image built from the shipped `provider/` directory at `cdk deploy`, or one you give).
   */
  public static bundledProvider(options: BundledProviderInstallOptions = {}): SecretsStoreInstall {
    return new BundledProviderInstall(options);
  }

  /** Short name of the mode, for messages. */
  public abstract readonly mode: string;

  /** Whether this mode installs the driver (and so counts as the cluster's one install). */
  public abstract readonly installsDriver: boolean;

  /** Add what this mode installs to `scope`, for `cluster`. */
  public abstract bind(scope: Construct, cluster: eks.ICluster): InstalledSecretsStore;

  /**
   * @internal
   * Refuses bad options before anything is added, with `scope` named in the error.
   */
  public _checkOptions(_scope: IConstruct): void {
    return;
  }
}

/** Options of an install that is already on the cluster. */
export interface ExistingInstallOptions {
  /**
   * Whether that install syncs to Kubernetes Secrets.
   * @default false
   */
  readonly syncSecrets?: boolean;

  /**
   * Provider names the existing install serves.
   * @default ['aws']
   */
  readonly providerNames?: string[];
}

class BundledProviderInstall extends SecretsStoreInstall {
  public readonly mode = 'bundled-provider';
  public readonly installsDriver = true;

  constructor(private readonly options: BundledProviderInstallOptions) {
    super();
  }

  public bind(scope: Construct, cluster: eks.ICluster): InstalledSecretsStore {
    return installBundledProvider(scope, cluster, this.options);
  }
}

class ExistingInstall extends SecretsStoreInstall {
  public readonly mode = 'existing';
  public readonly installsDriver = false;

  constructor(private readonly options: ExistingInstallOptions) {
    super();
  }

  public bind(): InstalledSecretsStore {
    return { mode: this.mode, providerNames: this.options.providerNames ?? ['aws'], syncSecrets: this.options.syncSecrets ?? false };
  }
}

class EksAddonInstall extends SecretsStoreInstall {
  public readonly mode = 'eks-addon';
  public readonly installsDriver = true;

  constructor(private readonly options: EksAddonInstallOptions) {
    super();
  }

  public _checkOptions(scope: IConstruct): void {
    checkAddonVersion(scope, this.options.version);
  }

  public bind(scope: Construct, cluster: eks.ICluster): InstalledSecretsStore {
    // The add-on needs nodes to schedule on; for a cluster built here that is implied by clusterName.
    const addon = new CfnAddon(scope, 'Addon', {
      addonName: EKS_ADDON_NAME,
      clusterName: cluster.clusterName,
      addonVersion: this.options.version,
      resolveConflicts: this.options.resolveConflicts ?? 'OVERWRITE',
      configurationValues: JSON.stringify(addonConfiguration(this.options)),
    });
    return { mode: this.mode, dependable: addon, providerNames: ['aws'], syncSecrets: this.options.syncSecrets ?? false };
  }
}

/** Form of an EKS add-on version: `v<major>.<minor>.<patch>-eksbuild.<n>`. */
const ADDON_VERSION = /^v\d+\.\d+\.\d+-eksbuild\.\d+$/;

/** Refuses an add-on version EKS would reject at deploy; unresolved tokens are skipped. */
function checkAddonVersion(scope: IConstruct, version: string | undefined): void {
  if (version === undefined || Token.isUnresolved(version) || ADDON_VERSION.test(version)) {
    return;
  }
  throw new SecretsStoreValidationError(scope, `Add-on version "${version}" is not an EKS add-on version ` +
    '(v<major>.<minor>.<patch>-eksbuild.<n>). Fix: use one listed by `aws eks describe-addon-versions --addon-name ' +
    `${EKS_ADDON_NAME}\`, e.g. "v3.1.3-eksbuild.1", or leave version out for the cluster's default.`);
}

/** The add-on's configuration values: driver chart keys live under `secrets-store-csi-driver`. */
export function addonConfiguration(options: EksAddonInstallOptions): { [key: string]: any } {
  const driver: { [key: string]: any } = {
    tokenRequests: TOKEN_AUDIENCES.map((audience) => ({ audience })),
    syncSecret: { enabled: options.syncSecrets ?? false },
    enableSecretRotation: options.rotation ?? false,
  };
  if (options.rotationPollInterval !== undefined) {
    driver.rotationPollInterval = options.rotationPollInterval;
  }
  return mergeDeep({ 'secrets-store-csi-driver': driver }, options.extraConfiguration ?? {});
}

function mergeDeep(base: { [key: string]: any }, extra: { [key: string]: any }): { [key: string]: any } {
  const out: { [key: string]: any } = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const isObject = value && typeof value === 'object' && !Array.isArray(value);
    out[key] = isObject && typeof out[key] === 'object' ? mergeDeep(out[key], value) : value;
  }
  return out;
}

/** Id of the marker child that records the one driver install of a cluster. */
const MARKER_ID = 'SecretsStoreDriverInstalled';

/**
 * Refuses a second install of the driver on `cluster`: another install through this
 * library (a marker on the cluster), or a `CfnAddon` of the same add-on in the stacks involved.
 */
export function claimDriverInstall(owner: IConstruct, cluster: eks.ICluster, install: SecretsStoreInstall): void {
  if (!install.installsDriver) {
    return;
  }
  const existing = cluster.node.tryFindChild(MARKER_ID) as InstallMarker | undefined;
  if (existing) {
    throw new SecretsStoreValidationError(
      owner,
      `The Secrets Store CSI driver is already installed on cluster ${cluster.node.path} by ${existing.owner}; ` +
        'a second install would run two drivers. Fix: create one SecretsStore per cluster and add every class to it, ' +
        'or use SecretsStoreInstall.existing() for the second one.',
    );
  }
  const foreign = findAddon(owner, cluster);
  if (foreign) {
    throw new SecretsStoreValidationError(
      owner,
      `Cluster ${cluster.node.path} already gets the add-on ${EKS_ADDON_NAME} from ${foreign}; installing it again would fail ` +
        'or fight over the driver. Fix: remove that add-on, or use SecretsStoreInstall.existing().',
    );
  }
  new InstallMarker(cluster, MARKER_ID, owner.node.path);
}

class InstallMarker extends Construct {
  constructor(scope: Construct, id: string, public readonly owner: string) {
    super(scope, id);
  }
}

/** Path of a CfnAddon named like ours targeting the same cluster, in the owner's or the cluster's stack. */
function findAddon(owner: IConstruct, cluster: eks.ICluster): string | undefined {
  const stacks = new Set([Stack.of(owner), Stack.of(cluster)]);
  for (const stack of stacks) {
    const clusterName = stack.resolve(cluster.clusterName);
    for (const child of stack.node.findAll()) {
      if (!(child instanceof CfnAddon) || child.addonName !== EKS_ADDON_NAME) {
        continue;
      }
      const sameCluster = Token.isUnresolved(child.clusterName)
        ? JSON.stringify(stack.resolve(child.clusterName)) === JSON.stringify(clusterName)
        : child.clusterName === clusterName;
      if (sameCluster) {
        return child.node.path;
      }
    }
  }
  return undefined;
}
