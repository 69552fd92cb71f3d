import { Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { importedClusterStack } from './util';
import { SecretObject, SecretsStore, SecretsStoreClass, SecretsStoreInstall, SecretsStoreServiceAccount, WorkloadIdentity } from '../../lib';

/** A store on an imported cluster in eu-west-1 (stack `Test`, store `Store`). */
function newStore(install?: SecretsStoreInstall) {
  const { stack, cluster } = importedClusterStack();
  const store = new SecretsStore(stack, 'Store', { cluster, install });
  return { stack, cluster, store };
}

/** Another cluster (or the same one again) imported by name, with the stack's kubectl provider. */
function importCluster(stack: Stack, id: string, clusterName: string): eks.ICluster {
  const kubectlProvider = stack.node.findChild('Kubectl') as eks.IKubectlProvider;
  return eks.Cluster.fromClusterAttributes(stack, id, { clusterName, kubectlProvider });
}

/** A class `cls` granted to service account `app` in namespace `default`. */
function newClass(store: SecretsStore, sa?: SecretsStoreServiceAccount): SecretsStoreClass {
  const serviceAccount = sa ?? store.addServiceAccount('Sa', { name: 'app' });
  return store.addSecretProviderClass('Cls', { className: 'cls', serviceAccount, objects: [SecretObject.fromSecretName('a')] });
}

/** A Pod running as the class's service account, with the given containers. */
function podFor(cls: SecretsStoreClass, containers: string[] = ['main']): { chart: Chart; pod: kplus.Pod } {
  const chart = new Chart(new App(), 'workloads');
  const pod = new kplus.Pod(chart, 'Pod', {
    serviceAccount: cls.serviceAccount.toKubeServiceAccount(chart, 'ServiceAccount'),
    containers: containers.map((name) => ({ name, image: 'app' })),
  });
  return { chart, pod };
}

describe('one service account and one class per name and namespace', () => {
  test('a second service account with the same name and namespace is refused, naming both constructs', () => {
    const { store } = newStore();
    store.addServiceAccount('First', { name: 'app', namespace: 'payments' });
    expect(() => store.addServiceAccount('Second', { name: 'app', namespace: 'payments' })).toThrow(
      /^\[Test\/Store\/Second\] Service account "payments\/app" is already defined by Test\/Store\/First .*overwrite each other's role\. Fix: /,
    );
  });

  test('the same name in another namespace, or on another cluster, is accepted', () => {
    const { stack, store } = newStore();
    store.addServiceAccount('First', { name: 'app' });
    expect(() => store.addServiceAccount('Other', { name: 'app', namespace: 'payments' })).not.toThrow();
    const other = importCluster(stack, 'OtherCluster', 'other');
    expect(() => new SecretsStoreServiceAccount(stack, 'Elsewhere', { cluster: other, name: 'app', identity: WorkloadIdentity.POD_IDENTITY }))
      .not.toThrow();
  });

  test('a second class with the same className in the same namespace is refused', () => {
    const { store } = newStore();
    const cls = newClass(store);
    expect(() => store.addSecretProviderClass('Again', { className: 'cls', serviceAccount: cls.serviceAccount, objects: [] })).toThrow(
      /^\[Test\/Store\/Again\] SecretProviderClass "default\/cls" is already defined by Test\/Store\/Cls .*Fix: give this class another className/,
    );
  });

  test('the same className in another namespace is accepted', () => {
    const { stack, store } = newStore();
    newClass(store);
    const sa = store.addServiceAccount('Payments', { name: 'app', namespace: 'payments' });
    store.addSecretProviderClass('InPayments', { className: 'cls', serviceAccount: sa, objects: [SecretObject.fromSecretName('b')] });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('Kubernetes names', () => {
  test.each<[string, () => unknown, RegExp]>([
    [
      'a className with upper case and underscore',
      () => newClassNamed('Db_Secrets'),
      /\[Test\/Store\/Named\] className "Db_Secrets" is not a DNS-1123 subdomain.*Fix: use a name like "db-secrets"/,
    ],
    [
      'a service account name with a space',
      () => newStore().store.addServiceAccount('Sa', { name: 'my app' }),
      /\[Test\/Store\/Sa\] Service account name "my app" is not a DNS-1123 subdomain.*Fix: use a name like "my-app"/,
    ],
    [
      'a namespace with a dot (a subdomain but not a label)',
      () => newStore().store.addServiceAccount('Sa', { name: 'app', namespace: 'team.payments' }),
      /\[Test\/Store\/Sa\] Namespace "team\.payments" is not a DNS-1123 label.*Fix: use a name like "team-payments"/,
    ],
    [
      'a namespace longer than 63 characters',
      () => newStore().store.addServiceAccount('Sa', { name: 'app', namespace: 'n'.repeat(64) }),
      /Namespace "n{64}" is 64 characters long \(at most 63\)/,
    ],
    [
      'a service account name ending in a dash',
      () => newStore().store.addServiceAccount('Sa', { name: 'app-' }),
      /Service account name "app-" is not a DNS-1123 subdomain.*"app"/,
    ],
  ])('%s is refused at construction', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test('valid names, dotted service account names and unresolved tokens are accepted', () => {
    const { stack, store } = newStore();
    const sa = store.addServiceAccount('Sa', { name: 'app.v2', namespace: Lazy.string({ produce: () => 'payments' }) });
    store.addSecretProviderClass('Cls', { className: 'db.secrets-1', serviceAccount: sa, objects: [SecretObject.fromSecretName('a')] });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  function newClassNamed(className: string): SecretsStoreClass {
    const { store } = newStore();
    const serviceAccount = store.addServiceAccount('Sa', { name: 'app' });
    return store.addSecretProviderClass('Named', { className, serviceAccount, objects: [SecretObject.fromSecretName('a')] });
  }
});

describe('mount', () => {
  test('a relative path is refused', () => {
    const cls = newClass(newStore().store);
    const { pod } = podFor(cls);
    expect(() => cls.mount(pod, 'mnt/secrets')).toThrow(
      /\[Test\/Store\/Cls\] Mount path "mnt\/secrets" of class "cls" in workload workloads\/Pod is not absolute\. Fix: use an absolute path/,
    );
  });

  test('mounting the same class twice into the same container is refused with the class, container and workload', () => {
    const cls = newClass(newStore().store);
    const { pod } = podFor(cls);
    cls.mount(pod, '/mnt/secrets');
    expect(() => cls.mount(pod, '/mnt/other')).toThrow(
      /\[Test\/Store\/Cls\] Class "cls" is already mounted into container "main" of workload workloads\/Pod at "\/mnt\/secrets"\. Fix: /,
    );
  });

  test('one class mounted into two containers one by one shares one volume', () => {
    const cls = newClass(newStore().store);
    const { chart, pod } = podFor(cls, ['main', 'sidecar']);
    cls.mount(pod, '/mnt/secrets', { container: pod.containers[0] });
    cls.mount(pod, '/etc/secrets', { container: pod.containers[1] });
    const [rendered] = chart.toJson();
    expect(rendered.spec.volumes).toEqual([
      { name: 'secrets-store', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'cls' } } },
    ]);
    expect(rendered.spec.containers.map((c: any) => c.volumeMounts)).toEqual([
      [{ mountPath: '/mnt/secrets', name: 'secrets-store', readOnly: true }],
      [{ mountPath: '/etc/secrets', name: 'secrets-store', readOnly: true }],
    ]);
  });

  test('a second class under the same volume name, or at the same path, is refused', () => {
    const { store } = newStore();
    const cls = newClass(store);
    const other = store.addSecretProviderClass('Other', {
      className: 'other', serviceAccount: cls.serviceAccount, objects: [SecretObject.fromSecretName('b')],
    });
    const { pod } = podFor(cls);
    cls.mount(pod, '/mnt/secrets');
    expect(() => other.mount(pod, '/mnt/other')).toThrow(
      /\[Test\/Store\/Other\] Workload workloads\/Pod already has a volume "secrets-store" from class "cls".*Fix: pass mount\(\.\.\., \{ volumeName/,
    );
    expect(() => other.mount(pod, '/mnt/secrets', { volumeName: 'other' })).toThrow(
      /Path "\/mnt\/secrets" of container "main" of workload workloads\/Pod already mounts volume "secrets-store"\. Fix: mount class "other" at another path/,
    );
    expect(() => other.mount(pod, '/mnt/other', { volumeName: 'other' })).not.toThrow();
  });
});

describe('a class and its service account on different clusters', () => {
  test('is refused, naming both clusters', () => {
    const { stack, store } = newStore();
    const sa = store.addServiceAccount('Sa', { name: 'app' });
    const otherCluster = importCluster(stack, 'OtherCluster', 'other');
    const otherStore = new SecretsStore(stack, 'OtherStore', { cluster: otherCluster, install: SecretsStoreInstall.existing() });
    expect(() => otherStore.addSecretProviderClass('Cls', { className: 'cls', serviceAccount: sa, objects: [SecretObject.fromSecretName('a')] }))
      .toThrow(/^\[Test\/OtherStore\/Cls\] Class "cls" is applied to cluster Test\/OtherCluster, but its service account "app" \(Test\/Store\/Sa\) is on cluster Test\/Cluster; .*Fix: use a service account added to the SecretsStore of the same cluster/);
  });

  test('the same cluster imported twice under its name is the same cluster', () => {
    const { stack, store } = newStore();
    const sa = store.addServiceAccount('Sa', { name: 'app' });
    const again = importCluster(stack, 'SameClusterAgain', 'prod');
    const second = new SecretsStore(stack, 'Second', { cluster: again, install: SecretsStoreInstall.existing() });
    expect(() => second.addSecretProviderClass('Cls', { className: 'cls', serviceAccount: sa, objects: [SecretObject.fromSecretName('a')] }))
      .not.toThrow();
  });
});

describe('add-on version', () => {
  test.each(['latest', '3.1.3', 'v3.1.3', 'v3.1-eksbuild.1', 'v3.1.3-eksbuild'])('"%s" is refused before anything is added', (version) => {
    const { stack, cluster } = importedClusterStack();
    expect(() => new SecretsStore(stack, 'Store', { cluster, install: SecretsStoreInstall.eksAddon({ version }) })).toThrow(
      new RegExp(`^\\[Test/Store\\] Add-on version "${version}" is not an EKS add-on version .*Fix: use one listed by ` +
        '`aws eks describe-addon-versions'),
    );
    // nothing half-written: the cluster can still get its one install
    expect(() => new SecretsStore(stack, 'Store2', { cluster })).not.toThrow();
  });

  test.each(['v3.1.3-eksbuild.1', 'v1.10.0-eksbuild.12'])('"%s" is accepted', (version) => {
    const { stack, cluster } = importedClusterStack();
    new SecretsStore(stack, 'Store', { cluster, install: SecretsStoreInstall.eksAddon({ version }) });
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Addon', { AddonVersion: version });
  });

  test('an unresolved token is left to deploy', () => {
    const { stack, cluster } = importedClusterStack();
    const version = Lazy.string({ produce: () => 'v3.1.3-eksbuild.1' });
    expect(() => new SecretsStore(stack, 'Store', { cluster, install: SecretsStoreInstall.eksAddon({ version }) })).not.toThrow();
  });
});
