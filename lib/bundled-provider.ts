import * as fs from 'node:fs';
import * as path from 'node:path';
import { IgnoreMode, Stack, Token } from 'aws-cdk-lib';
import { DockerImageAsset } from 'aws-cdk-lib/aws-ecr-assets';
import { CfnAddon } from 'aws-cdk-lib/aws-eks';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as cdk8s from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, DependencyGroup, IConstruct } from 'constructs';
import { EKS_ADDON_NAME, InstalledSecretsStore, TOKEN_AUDIENCES } from './install';
import { SecretsStoreValidationError } from './private/errors';

/**
 * Version of the driver's Helm chart the bundled mode installs (chart 1.5.x ships driver
 * v1.5.x, which supports `tokenRequests` and the providers directory value used here).
 * Override with `driverChartVersion`.
 */
export const DRIVER_CHART_VERSION = '1.5.6';

/** The driver's Helm chart and where it is published. */
export const DRIVER_CHART = 'secrets-store-csi-driver';
export const DRIVER_CHART_REPOSITORY = 'https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts';

/** Release name of the driver chart: the name the driver's own install guide uses. */
export const DRIVER_RELEASE = 'csi-secrets-store';

/** Node directory the driver looks for provider sockets in; mounted at the same path in the provider. */
export const PROVIDERS_DIR = '/var/run/secrets-store-csi-providers';

/** Name of the provider's DaemonSet, service account and cluster role; also its `app` label. */
export const PROVIDER_APP = 'csi-secrets-store-provider-aws';

/** User and group the provider container runs as (the distroless `nonroot` user of the image). */
export const PROVIDER_USER = 65532;

/** The node label EKS sets to `fargate` on Fargate nodes, where DaemonSets cannot run. */
const COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';

/** Directory of the shipped image sources (`provider/Dockerfile` and the built `provider/dist`). */
const PROVIDER_DIR = path.join(__dirname, '..', 'provider');

/** What enters the image build context: the Dockerfile and the provider bundle (as `provider/.dockerignore`). */
const IMAGE_CONTEXT_EXCLUDE = ['*', '!Dockerfile', '!dist/main.js', '!dist/kube-client.js', '!dist/csi-provider.proto'];

/**
 * Gives the providers directory to the provider's group (group-writable, owner stays root), so the
 * provider can run as a non-root user. Runs in an init container as root with only CAP_CHOWN.
 */
const PREPARE_SOCKET_DIR_SCRIPT =
  'const fs = require(\'fs\'); const dir = process.env.PROVIDER_SOCKET_DIR;' +
  ` fs.chownSync(dir, 0, ${PROVIDER_USER}); fs.chmodSync(dir, 0o775);`;

/** Resource requests and limits of the provider container. */
export interface ProviderResources {
  /**
   * CPU request and limit, in millicores.
   * @default 50
   */
  readonly cpuMillis?: number;

  /**
   * Memory request and limit, in MiB. The provider holds about 90 MiB resident after its first mounts.
   * @default 100
   */
  readonly memoryMebibytes?: number;
}

/** Options of the bundled install: the driver's Helm chart plus this package's own AWS provider. */
export interface BundledProviderInstallOptions {
  /**
   * Version of the driver's Helm chart.
   * @default DRIVER_CHART_VERSION
   */
  readonly driverChartVersion?: string;

  /**
   * Image of the provider, e.g. one you built from `provider/Dockerfile` and pushed yourself.
   * @default - built from the shipped `provider/` directory at `cdk deploy` (a Docker image asset)
   */
  readonly image?: string;

  /**
   * Kubernetes namespace of the driver and the provider.
   * @default 'kube-system'
   */
  readonly installNamespace?: string;

  /**
   * Provider name: the socket `<name>.sock` and the `spec.provider` of the classes it serves.
   * @default 'aws'
   */
  readonly providerName?: string;

  /**
   * Remount every volume each poll interval so that rotated secrets reach the files.
   * @default false
   */
  readonly rotation?: boolean;

  /**
   * How often the driver remounts when rotation is on, in the driver's duration form (`2m`, `30s`).
   * @default - the driver's default (2m)
   */
  readonly rotationPollInterval?: string;

  /**
   * Let the driver mirror mounted objects into Kubernetes Secrets (`secretObjects` of a class).
   * @default false
   */
  readonly syncSecrets?: boolean;

  /**
   * Serve the provider's Prometheus metrics on this container port (`/metrics`).
   * @default - no metrics endpoint
   */
  readonly metricsPort?: number;

  /**
   * Resource requests and limits of the provider container.
   * @default - 50m CPU and 100 MiB memory, requested and limited
   */
  readonly resources?: ProviderResources;

  /**
   * Tolerate every taint (driver and provider), so both run on every node where pods can mount.
   * Set false to run them only on untainted nodes.
   * @default true
   */
  readonly tolerateAllTaints?: boolean;

  /**
   * Extra values for the driver's chart, merged over the generated ones.
   * @default - none
   */
  readonly extraDriverValues?: { [key: string]: any };
}

/** The settings of a bundled install with every default applied. */
interface Resolved {
  readonly chartVersion: string;
  readonly namespace: string;
  readonly providerName: string;
  readonly cpuMillis: number;
  readonly memoryMebibytes: number;
  readonly tolerateAll: boolean;
  readonly metricsPort?: number;
}

function resolve(options: BundledProviderInstallOptions): Resolved {
  return {
    chartVersion: options.driverChartVersion ?? DRIVER_CHART_VERSION,
    namespace: options.installNamespace ?? 'kube-system',
    providerName: options.providerName ?? 'aws',
    cpuMillis: options.resources?.cpuMillis ?? 50,
    memoryMebibytes: options.resources?.memoryMebibytes ?? 100,
    tolerateAll: options.tolerateAllTaints ?? true,
    metricsPort: options.metricsPort,
  };
}

/** Checks the options that a wrong value would only reveal on the cluster. */
function checkOptions(scope: IConstruct, options: BundledProviderInstallOptions): void {
  const name = options.providerName;
  if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new SecretsStoreValidationError(scope, `providerName "${name}" is not a plain name; it becomes the socket file <name>.sock. ` +
      'Fix: use letters, digits, ".", "_" or "-", e.g. "aws".');
  }
  const port = options.metricsPort;
  if (port !== undefined && !Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new SecretsStoreValidationError(scope, `metricsPort ${port} is not a port number. Fix: use 1-65535, e.g. 8095.`);
  }
  const { cpuMillis, memoryMebibytes } = options.resources ?? {};
  for (const [key, value] of [['cpuMillis', cpuMillis], ['memoryMebibytes', memoryMebibytes]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new SecretsStoreValidationError(scope, `resources.${key} ${value} must be a positive integer. Fix: e.g. 50 (m CPU) or 100 (MiB).`);
    }
  }
}

/** The driver chart's values: token audiences, rotation, syncing, the providers directory, placement. */
export function driverChartValues(options: BundledProviderInstallOptions): { [key: string]: any } {
  const settings = resolve(options);
  const values: { [key: string]: any } = {
    tokenRequests: TOKEN_AUDIENCES.map((audience) => ({ audience })),
    enableSecretRotation: options.rotation ?? false,
    syncSecret: { enabled: options.syncSecrets ?? false },
    linux: {
      providersDir: PROVIDERS_DIR,
      // the chart's own default (off virtual-kubelet) plus off Fargate, like the provider
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{
              matchExpressions: [
                { key: 'type', operator: 'NotIn', values: ['virtual-kubelet'] },
                { key: COMPUTE_TYPE_LABEL, operator: 'NotIn', values: ['fargate'] },
              ],
            }],
          },
        },
      },
      ...(settings.tolerateAll ? { tolerations: [{ operator: 'Exists' }] } : {}),
    },
  };
  if (options.rotationPollInterval !== undefined) {
    values.rotationPollInterval = options.rotationPollInterval;
  }
  return mergeValues(values, options.extraDriverValues ?? {});
}

function mergeValues(base: { [key: string]: any }, extra: { [key: string]: any }): { [key: string]: any } {
  const out: { [key: string]: any } = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const isObject = value && typeof value === 'object' && !Array.isArray(value);
    out[key] = isObject && out[key] && typeof out[key] === 'object' ? mergeValues(out[key], value) : value;
  }
  return out;
}

/** Labels of every provider object: `kubectl logs -l app=csi-secrets-store-provider-aws` finds the pods. */
export function providerLabels(): { [key: string]: string } {
  return {
    'app': PROVIDER_APP,
    'app.kubernetes.io/name': PROVIDER_APP,
    'app.kubernetes.io/component': 'provider',
    'app.kubernetes.io/part-of': 'secrets-store-csi-driver',
    'app.kubernetes.io/managed-by': 'aws-cdk',
  };
}

/** The environment the provider container gets (the image's command reads its settings from it). */
export function providerEnvironment(options: BundledProviderInstallOptions): { [key: string]: string } {
  const settings = resolve(options);
  return {
    PROVIDER_SOCKET_DIR: PROVIDERS_DIR,
    PROVIDER_NAME: settings.providerName,
    ...(settings.metricsPort !== undefined ? { PROVIDER_METRICS_PORT: String(settings.metricsPort) } : {}),
  };
}

/**
 * The provider as a cdk8s chart (its own cdk8s App, as `addCdk8sChart` expects): service account,
 * cluster role with get on serviceaccounts, pods and nodes, its binding, and the DaemonSet.
 */
export function providerChart(image: string, options: BundledProviderInstallOptions): cdk8s.Chart {
  const settings = resolve(options);
  // no chart namespace: the cluster role and its binding are cluster-scoped objects
  const chart = new cdk8s.Chart(new cdk8s.App(), 'SecretsStoreProvider', { disableResourceNameHashes: true });
  const serviceAccount = providerAccess(chart, settings.namespace);
  const daemonSet = new kplus.DaemonSet(chart, 'DaemonSet', {
    metadata: { name: PROVIDER_APP, namespace: settings.namespace, labels: providerLabels() },
    podMetadata: { labels: providerLabels() },
    select: false,
    serviceAccount,
    // the provider reads service accounts, pods and nodes with this account's token
    automountServiceAccountToken: true,
    securityContext: { ensureNonRoot: true, user: PROVIDER_USER, group: PROVIDER_USER },
  });
  daemonSet.select(kplus.LabelSelector.of({ labels: { app: PROVIDER_APP } }));
  placeOnMountingNodes(daemonSet, settings);
  const providersDir = kplus.Volume.fromHostPath(chart, 'ProvidersDir', 'providers-dir', {
    path: PROVIDERS_DIR,
    type: kplus.HostPathVolumeType.DIRECTORY_OR_CREATE,
  });
  addSocketDirInit(daemonSet, image, providersDir);
  addProviderContainer(daemonSet, image, providersDir, options);
  return chart;
}

/** Service account, cluster role (exactly get on serviceaccounts, pods, nodes) and its binding. */
function providerAccess(chart: cdk8s.Chart, namespace: string): kplus.ServiceAccount {
  const metadata = { name: PROVIDER_APP, labels: providerLabels() };
  const serviceAccount = new kplus.ServiceAccount(chart, 'ServiceAccount', { metadata: { ...metadata, namespace }, automountToken: true });
  const role = new kplus.ClusterRole(chart, 'ClusterRole', { metadata });
  role.allowGet(kplus.ApiResource.SERVICE_ACCOUNTS, kplus.ApiResource.PODS, kplus.ApiResource.NODES);
  const binding = new kplus.ClusterRoleBinding(chart, 'ClusterRoleBinding', { metadata, role });
  binding.addSubjects(serviceAccount);
  // an empty resourceNames list means "all" already; leave the field out of the rules
  for (const index of [0, 1, 2]) {
    cdk8s.ApiObject.of(role).addJsonPatch(cdk8s.JsonPatch.remove(`/rules/${index}/resourceNames`));
  }
  return serviceAccount;
}

/** Every node where pods mount: all taints tolerated (unless turned off), never Fargate (no DaemonSets there). */
function placeOnMountingNodes(daemonSet: kplus.DaemonSet, settings: Resolved): void {
  if (settings.tolerateAll) {
    daemonSet.scheduling.tolerate(kplus.Node.tainted(kplus.NodeTaintQuery.any()));
  }
  daemonSet.scheduling.attract(kplus.Node.labeled(kplus.NodeLabelQuery.notIn(COMPUTE_TYPE_LABEL, ['fargate'])));
}

/** Locked-down container settings shared by both containers; `root` only for the init step. */
function lockedDown(root: boolean): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: !root,
    user: root ? 0 : PROVIDER_USER,
    group: root ? 0 : PROVIDER_USER,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: [kplus.Capability.ALL], add: root ? [kplus.Capability.CHOWN] : undefined },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}

/**
 * The node's providers directory is created by the driver as root:root 0755. This init step
 * (root, CAP_CHOWN only) makes it group-writable for the provider's group, so the provider
 * itself runs as a non-root user with no capabilities.
 */
function addSocketDirInit(daemonSet: kplus.DaemonSet, image: string, providersDir: kplus.Volume): void {
  daemonSet.addInitContainer({
    name: 'prepare-socket-dir',
    image,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
    command: ['/nodejs/bin/node', '-e', PREPARE_SOCKET_DIR_SCRIPT],
    envVariables: { PROVIDER_SOCKET_DIR: kplus.EnvValue.fromValue(PROVIDERS_DIR) },
    securityContext: lockedDown(true),
    resources: {
      cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(50) },
      memory: { request: cdk8s.Size.mebibytes(32), limit: cdk8s.Size.mebibytes(64) },
    },
    volumeMounts: [{ path: PROVIDERS_DIR, volume: providersDir }],
  });
}

/** The provider: the image's own command, settings through the environment, the socket on the hostPath. */
function addProviderContainer(daemonSet: kplus.DaemonSet, image: string, providersDir: kplus.Volume, options: BundledProviderInstallOptions): void {
  const settings = resolve(options);
  const env = Object.fromEntries(Object.entries(providerEnvironment(options)).map(([key, value]) => [key, kplus.EnvValue.fromValue(value)]));
  daemonSet.addContainer({
    name: 'provider',
    image,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
    envVariables: env,
    ports: settings.metricsPort !== undefined ? [{ name: 'metrics', number: settings.metricsPort, protocol: kplus.Protocol.TCP }] : [],
    securityContext: lockedDown(false),
    resources: {
      cpu: { request: kplus.Cpu.millis(settings.cpuMillis), limit: kplus.Cpu.millis(settings.cpuMillis) },
      memory: { request: cdk8s.Size.mebibytes(settings.memoryMebibytes), limit: cdk8s.Size.mebibytes(settings.memoryMebibytes) },
    },
    volumeMounts: [{ path: PROVIDERS_DIR, volume: providersDir }],
  });
}

/** The Docker image asset of the shipped `provider/` directory (only the Dockerfile and the bundle count). */
export function providerImageAsset(scope: Construct, id: string, directory: string = PROVIDER_DIR): DockerImageAsset {
  if (!fs.existsSync(path.join(directory, 'dist', 'main.js'))) {
    throw new SecretsStoreValidationError(scope, `The provider bundle ${path.join(directory, 'dist', 'main.js')} is missing, ` +
      'so its image cannot be built. Fix: run `npx projen bundle` (or `node provider/build.mjs`) in a source checkout, ' +
      'or pass `image` with a provider image you built.');
  }
  return new DockerImageAsset(scope, id, { directory, exclude: IMAGE_CONTEXT_EXCLUDE, ignoreMode: IgnoreMode.DOCKER });
}

/**
 * Installs the driver's Helm chart and the provider DaemonSet on `cluster` (fixed ids on the cluster:
 * one driver install per cluster is enforced by `claimDriverInstall`); the provider waits for the
 * driver chart, which creates the namespace. Returns what classes and workloads must wait for.
 */
export function installBundledProvider(scope: Construct, cluster: eks.ICluster, options: BundledProviderInstallOptions): InstalledSecretsStore {
  checkOptions(scope, options);
  const settings = resolve(options);
  const driver = cluster.addHelmChart('SecretsStoreCsiDriver', {
    chart: DRIVER_CHART,
    repository: DRIVER_CHART_REPOSITORY,
    version: settings.chartVersion,
    release: DRIVER_RELEASE,
    namespace: settings.namespace,
    createNamespace: true,
    values: driverChartValues(options),
  });
  const image = options.image ?? providerImageAsset(scope, 'ProviderImage').imageUri;
  const provider = cluster.addCdk8sChart('SecretsStoreProviderAws', providerChart(image, options));
  provider.node.addDependency(driver);
  refuseAddonServingSameSocket(scope, cluster, settings.providerName);
  return {
    mode: 'bundled-provider',
    dependable: new DependencyGroup(driver, provider),
    providerNames: [settings.providerName],
    syncSecrets: options.syncSecrets ?? false,
  };
}

/**
 * At synth (after the whole app is built, so the order of constructs does not matter): refuse the
 * managed add-on on the same cluster when it serves the same socket name, `aws`.
 */
function refuseAddonServingSameSocket(scope: Construct, cluster: eks.ICluster, providerName: string): void {
  scope.node.addValidation({
    validate: () => {
      const addon = findAddon(scope, cluster);
      if (!addon) {
        return [];
      }
      return [
        new SecretsStoreValidationError(scope, `The managed add-on ${EKS_ADDON_NAME} (${addon}) and the bundled provider both ` +
          `install the driver on cluster ${cluster.node.path}` + (providerName === 'aws' ? ' and both serve the socket aws.sock' : '') +
          '. Fix: keep one: remove the add-on, or use SecretsStoreInstall.eksAddon() instead of bundledProvider().').message,
      ];
    },
  });
}

/** Path of a CfnAddon of the AWS add-on on the same cluster anywhere in the app. */
function findAddon(scope: IConstruct, cluster: eks.ICluster): string | undefined {
  const clusterStack = Stack.of(cluster);
  const clusterName = JSON.stringify(clusterStack.resolve(cluster.clusterName));
  for (const child of scope.node.root.node.findAll()) {
    if (child instanceof CfnAddon && child.addonName === EKS_ADDON_NAME) {
      const name = JSON.stringify(Stack.of(child).resolve(child.clusterName));
      const sameStack = Stack.of(child) === clusterStack;
      const sameCluster = name === clusterName && (sameStack || !Token.isUnresolved(child.clusterName));
      if (sameCluster) {
        return child.node.path;
      }
    }
  }
  return undefined;
}
