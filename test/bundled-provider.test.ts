/**
 * The bundled install mode: the driver's Helm chart and our provider's DaemonSet, RBAC and
 * image, asserted field by field from the synthesized template; the double-install refusals.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnAddon } from 'aws-cdk-lib/aws-eks';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Dependable } from 'constructs';
import {
  BundledProviderInstallOptions, DRIVER_CHART_VERSION, providerImageAsset, PROVIDERS_DIR, SecretsStore, SecretsStoreInstall,
} from '../lib';
import { importedClusterStack } from './construct/util';
import { ensureBundle, REPO_ROOT } from './provider/harness';

const IMAGE = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/secrets-store-provider:1.0.0';
const LABELS = {
  'app': 'csi-secrets-store-provider-aws',
  'app.kubernetes.io/name': 'csi-secrets-store-provider-aws',
  'app.kubernetes.io/component': 'provider',
  'app.kubernetes.io/part-of': 'secrets-store-csi-driver',
  'app.kubernetes.io/managed-by': 'aws-cdk',
};

/** Joins a CloudFormation string (Fn::Join of literals and references) with references as `<ref>`. */
function text(value: any): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) return value['Fn::Join'][1].map(text).join(value['Fn::Join'][0]);
  return '<ref>';
}

/** Synthesizes a SecretsStore in bundled mode on an imported cluster. */
function synth(options: BundledProviderInstallOptions = { image: IMAGE }) {
  const { stack, cluster } = importedClusterStack();
  const store = new SecretsStore(stack, 'Store', { cluster, install: SecretsStoreInstall.bundledProvider(options) });
  const template = Template.fromStack(stack);
  const manifests = template.findResources(eks.KubernetesManifest.RESOURCE_TYPE);
  const objects: any[] = Object.values(manifests).flatMap((r: any) => JSON.parse(text(r.Properties.Manifest)));
  const find = (kind: string) => objects.find((o) => o.kind === kind);
  return { stack, store, template, manifests, objects, find };
}

/** Drops the prune label aws-cdk adds to every applied object. */
function labelsOf(obj: any): Record<string, string> {
  return Object.fromEntries(Object.entries(obj.metadata.labels ?? {}).filter(([k]) => !k.startsWith('aws.cdk.eks/prune-'))) as any;
}

describe('driver Helm chart', () => {
  test('pinned chart, release and namespace; values for both token audiences, rotation, syncing, providers dir, placement', () => {
    const { template } = synth({ image: IMAGE, rotation: true, rotationPollInterval: '30s', syncSecrets: true });
    const charts = Object.values(template.findResources(eks.HelmChart.RESOURCE_TYPE)) as any[];
    expect(charts).toHaveLength(1);
    const props = charts[0].Properties;
    expect(DRIVER_CHART_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(props).toMatchObject({
      Chart: 'secrets-store-csi-driver',
      Repository: 'https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts',
      Version: DRIVER_CHART_VERSION,
      Release: 'csi-secrets-store',
      Namespace: 'kube-system',
      CreateNamespace: true,
    });
    expect(JSON.parse(props.Values)).toEqual({
      tokenRequests: [{ audience: 'sts.amazonaws.com' }, { audience: 'pods.eks.amazonaws.com' }],
      enableSecretRotation: true,
      rotationPollInterval: '30s',
      syncSecret: { enabled: true },
      linux: {
        providersDir: '/var/run/secrets-store-csi-providers',
        tolerations: [{ operator: 'Exists' }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{
                matchExpressions: [
                  { key: 'type', operator: 'NotIn', values: ['virtual-kubelet'] },
                  { key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate'] },
                ],
              }],
            },
          },
        },
      },
    });
  });

  test('defaults: rotation and syncing off, no poll interval; extra values merge over; chart version and namespace overridable', () => {
    const { template } = synth({
      image: IMAGE,
      driverChartVersion: '1.4.8',
      installNamespace: 'secrets-store',
      tolerateAllTaints: false,
      extraDriverValues: { linux: { priorityClassName: 'system-node-critical' }, logVerbosity: 2 },
    });
    const props = (Object.values(template.findResources(eks.HelmChart.RESOURCE_TYPE))[0] as any).Properties;
    expect(props).toMatchObject({ Version: '1.4.8', Namespace: 'secrets-store' });
    const values = JSON.parse(props.Values);
    expect(values).toMatchObject({ enableSecretRotation: false, syncSecret: { enabled: false }, logVerbosity: 2 });
    expect(values).not.toHaveProperty('rotationPollInterval');
    expect(values.linux).toMatchObject({ providersDir: PROVIDERS_DIR, priorityClassName: 'system-node-critical' });
    expect(values.linux).not.toHaveProperty('tolerations');
  });
});

describe('provider RBAC', () => {
  test('service account; cluster role with exactly get on serviceaccounts, pods, nodes; binding to that account', () => {
    const { find } = synth();
    const sa = find('ServiceAccount');
    expect(sa.metadata).toMatchObject({ name: 'csi-secrets-store-provider-aws', namespace: 'kube-system' });
    expect(labelsOf(sa)).toEqual(LABELS);
    expect(sa.automountServiceAccountToken).toBe(true);
    // no IAM role: the provider's own account gets no AWS permissions
    expect(sa.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();

    const role = find('ClusterRole');
    expect(role.metadata.name).toBe('csi-secrets-store-provider-aws');
    expect(role.metadata).not.toHaveProperty('namespace');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
    ]);

    const binding = find('ClusterRoleBinding');
    expect(binding.metadata).not.toHaveProperty('namespace');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csi-secrets-store-provider-aws' });
    expect(binding.subjects).toEqual([{ apiGroup: '', kind: 'ServiceAccount', name: 'csi-secrets-store-provider-aws', namespace: 'kube-system' }]);
  });

  test('the whole install adds no IAM role or policy', () => {
    const { template } = synth();
    expect(template.findResources('AWS::IAM::Role')).toEqual({});
    expect(template.findResources('AWS::IAM::Policy')).toEqual({});
  });
});

describe('provider DaemonSet', () => {
  test('name, labels, selector, service account, placement, volume', () => {
    const { find } = synth();
    const ds = find('DaemonSet');
    expect(ds.metadata).toMatchObject({ name: 'csi-secrets-store-provider-aws', namespace: 'kube-system' });
    expect(labelsOf(ds)).toEqual(LABELS);
    expect(ds.spec.selector).toEqual({ matchLabels: { app: 'csi-secrets-store-provider-aws' } });
    const pod = ds.spec.template;
    expect(pod.metadata.labels).toMatchObject(LABELS);
    expect(pod.spec.serviceAccountName).toBe('csi-secrets-store-provider-aws');
    expect(pod.spec.automountServiceAccountToken).toBe(true);
    expect(pod.spec.hostNetwork).toBe(false);
    expect(pod.spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.spec.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate'] }] },
          ],
        },
      },
    });
    expect(pod.spec.volumes).toEqual([{ name: 'providers-dir', hostPath: { path: '/var/run/secrets-store-csi-providers', type: 'DirectoryOrCreate' } }]);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 });
  });

  test('provider container: image command, env settings, resources, locked-down security context, socket mount, no metrics port', () => {
    const { find } = synth();
    const [container, ...others] = find('DaemonSet').spec.template.spec.containers;
    expect(others).toEqual([]);
    expect(container.name).toBe('provider');
    expect(container.image).toBe(IMAGE);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    // the image's own ENTRYPOINT runs (test/provider/image.test.ts starts it with this env)
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
    expect(container.env).toEqual([
      { name: 'PROVIDER_SOCKET_DIR', value: '/var/run/secrets-store-csi-providers' },
      { name: 'PROVIDER_NAME', value: 'aws' },
    ]);
    expect(container.ports ?? []).toEqual([]);
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '100Mi' }, limits: { cpu: '50m', memory: '100Mi' } });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.volumeMounts).toEqual([{ name: 'providers-dir', mountPath: '/var/run/secrets-store-csi-providers' }]);
  });

  test('init container makes the root-owned providers dir group-writable with CAP_CHOWN only', () => {
    const { find } = synth();
    const [init, ...others] = find('DaemonSet').spec.template.spec.initContainers;
    expect(others).toEqual([]);
    expect(init.image).toBe(IMAGE);
    expect(init.command.slice(0, 2)).toEqual(['/nodejs/bin/node', '-e']);
    expect(init.command[2]).toContain('fs.chownSync(dir, 0, 65532)');
    expect(init.command[2]).toContain('fs.chmodSync(dir, 0o775)');
    expect(init.env).toEqual([{ name: 'PROVIDER_SOCKET_DIR', value: '/var/run/secrets-store-csi-providers' }]);
    expect(init.securityContext).toEqual({
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['CHOWN'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(init.volumeMounts).toEqual([{ name: 'providers-dir', mountPath: '/var/run/secrets-store-csi-providers' }]);
  });

  test('options: metrics port, provider name, namespace, resources, no tolerations', () => {
    const { find, store } = synth({
      image: IMAGE,
      metricsPort: 8095,
      providerName: 'aws-bundled',
      installNamespace: 'secrets-store',
      resources: { cpuMillis: 20, memoryMebibytes: 96 },
      tolerateAllTaints: false,
    });
    const ds = find('DaemonSet');
    const container = ds.spec.template.spec.containers[0];
    expect(ds.metadata.namespace).toBe('secrets-store');
    expect(find('ClusterRoleBinding').subjects[0].namespace).toBe('secrets-store');
    expect(container.env).toEqual([
      { name: 'PROVIDER_SOCKET_DIR', value: '/var/run/secrets-store-csi-providers' },
      { name: 'PROVIDER_NAME', value: 'aws-bundled' },
      { name: 'PROVIDER_METRICS_PORT', value: '8095' },
    ]);
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 8095, protocol: 'TCP' }]);
    expect(container.resources).toEqual({ requests: { cpu: '20m', memory: '96Mi' }, limits: { cpu: '20m', memory: '96Mi' } });
    expect(ds.spec.template.spec.tolerations).toBeUndefined();
    expect(store.installed).toMatchObject({ mode: 'bundled-provider', providerNames: ['aws-bundled'], syncSecrets: false });
  });

  test('order: the provider manifest waits for the driver chart; classes and workloads wait for both', () => {
    const { template, manifests, store } = synth();
    const chartId = Object.keys(template.findResources(eks.HelmChart.RESOURCE_TYPE))[0];
    const [providerId, provider] = Object.entries(manifests)[0] as [string, any];
    expect(provider.DependsOn).toEqual([chartId]);
    const deps = store.installed.dependable!;
    const targets = Dependable.of(deps).dependencyRoots.map((c: any) => Stack.of(c).getLogicalId(c.node.defaultChild));
    expect(targets.sort()).toEqual([chartId, providerId].sort());
  });

  test.each([
    [{ providerName: '../aws' }, 'providerName "../aws" is not a plain name'],
    [{ metricsPort: 70000 }, 'metricsPort 70000 is not a port number'],
    [{ resources: { memoryMebibytes: 0 } }, 'resources.memoryMebibytes 0 must be a positive integer'],
  ])('bad option %j: %s', (options, message) => {
    expect(() => synth({ image: IMAGE, ...options })).toThrow(message);
  });
});

describe('provider image asset', () => {
  /** A copy of the shipped provider directory (Dockerfile, .dockerignore, dist) in a temp dir. */
  function shippedCopy(): string {
    ensureBundle();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provider-image-'));
    for (const file of ['Dockerfile', '.dockerignore', 'dist/main.js', 'dist/kube-client.js', 'dist/csi-provider.proto']) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, 'provider', file), path.join(dir, file));
    }
    return dir;
  }

  function assetHash(directory: string): string {
    const stack = new Stack(new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdkout-')) }), 'S');
    return providerImageAsset(stack, 'Image', directory).assetHash;
  }

  test('without an image URI the DaemonSet uses a Docker image asset of the shipped provider directory', () => {
    ensureBundle();
    const { stack, find } = synth({});
    const container = find('DaemonSet').spec.template.spec.containers[0];
    expect(container.image).toContain('<ref>');
    const assembly = (stack.node.root as App).synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
    const images = Object.values(manifest.dockerImages) as any[];
    expect(images).toHaveLength(1);
    // staged build context: the Dockerfile, the bundle and its proto only
    const staged = path.join(assembly.directory, images[0].source.directory);
    const files = fs.readdirSync(staged, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .map((e) => path.relative(staged, path.join(e.parentPath, e.name))).sort();
    expect(files).toEqual(['.dockerignore', 'Dockerfile', 'dist/csi-provider.proto', 'dist/kube-client.js', 'dist/main.js']);
  });

  test('the hash follows the Dockerfile and the bundle, not sources or tests next to them', () => {
    const dir = shippedCopy();
    const before = assetHash(dir);
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'main.ts'), 'export {};\n');
    fs.writeFileSync(path.join(dir, 'dist', 'doctor.js'), '// not in the image\n');
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{}\n');
    expect(assetHash(dir)).toBe(before);
    fs.appendFileSync(path.join(dir, 'dist', 'main.js'), '\n// changed\n');
    expect(assetHash(dir)).not.toBe(before);
    fs.rmSync(dir, { recursive: true });
  });

  test('a missing bundle is a synth error with the fix', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'no-bundle-'));
    fs.copyFileSync(path.join(REPO_ROOT, 'provider', 'Dockerfile'), path.join(dir, 'Dockerfile'));
    expect(() => assetHash(dir)).toThrow(/dist\/main\.js is missing.*Fix: run `npx projen bundle`/s);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('one driver per cluster', () => {
  test('a bundled install after the add-on install through the library is refused', () => {
    const { stack, cluster } = importedClusterStack();
    new SecretsStore(stack, 'AddonStore', { cluster, install: SecretsStoreInstall.eksAddon() });
    expect(() => new SecretsStore(stack, 'BundledStore', { cluster, install: SecretsStoreInstall.bundledProvider({ image: IMAGE }) }))
      .toThrow(/\[Test\/BundledStore\] The Secrets Store CSI driver is already installed on cluster Test\/Cluster by Test\/AddonStore/);
  });

  test('an add-on install after the bundled one is refused', () => {
    const { stack, cluster } = importedClusterStack();
    new SecretsStore(stack, 'BundledStore', { cluster, install: SecretsStoreInstall.bundledProvider({ image: IMAGE }) });
    expect(() => new SecretsStore(stack, 'AddonStore', { cluster, install: SecretsStoreInstall.eksAddon() }))
      .toThrow(/already installed on cluster Test\/Cluster by Test\/BundledStore/);
  });

  test('a CfnAddon of the AWS add-on added before the bundled install is refused', () => {
    const { stack, cluster } = importedClusterStack();
    new CfnAddon(stack, 'ManualAddon', { clusterName: cluster.clusterName, addonName: 'aws-secrets-store-csi-driver-provider' });
    expect(() => new SecretsStore(stack, 'Store', { cluster, install: SecretsStoreInstall.bundledProvider({ image: IMAGE }) }))
      .toThrow(/already gets the add-on aws-secrets-store-csi-driver-provider from Test\/ManualAddon/);
  });

  test('the add-on (L2 Addon) added after the bundled install fails synth: both would serve aws.sock', () => {
    const { app, stack, cluster } = importedClusterStack();
    new SecretsStore(stack, 'Store', { cluster, install: SecretsStoreInstall.bundledProvider({ image: IMAGE }) });
    new eks.Addon(stack, 'LateAddon', { cluster, addonName: 'aws-secrets-store-csi-driver-provider' });
    expect(() => app.synth()).toThrow(
      /\[Test\/Store\/Install\] The managed add-on aws-secrets-store-csi-driver-provider \(Test\/LateAddon\/Resource\) and the bundled provider both install the driver on cluster Test\/Cluster and both serve the socket aws\.sock\. Fix: keep one/,
    );
  });

  test('an add-on on another cluster is fine', () => {
    const { app, stack, cluster } = importedClusterStack();
    new SecretsStore(stack, 'Store', { cluster, install: SecretsStoreInstall.bundledProvider({ image: IMAGE }) });
    new CfnAddon(stack, 'OtherAddon', { clusterName: 'other-cluster', addonName: 'aws-secrets-store-csi-driver-provider' });
    expect(() => app.synth()).not.toThrow();
  });
});
