import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { parse } from 'yaml';
import { ACCOUNT, importedClusterStack, kubernetesObjects, OIDC_ARN, OIDC_ISSUER } from './util';
import { SecretObject, SecretsStore, SecretsStoreInstall, WorkloadIdentity } from '../../lib';

/** The statement of the workload role's default policy with these actions. */
function statementFor(template: Template, action: string): any {
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as any[]) {
    const found = policy.Properties.PolicyDocument.Statement.find((s: any) => [s.Action].flat().includes(action));
    if (found) return found;
  }
  throw new Error(`no statement with ${action}`);
}

describe('imported cluster with IRSA and every kind of object', () => {
  // GIVEN an imported cluster in eu-west-1 with a failover region, WHEN a class mounts one object of each kind
  const { stack, cluster } = importedClusterStack();
  const store = new SecretsStore(stack, 'Store', {
    cluster,
    install: SecretsStoreInstall.eksAddon({ version: 'v3.1.3-eksbuild.1', rotation: true, rotationPollInterval: '30s', syncSecrets: true }),
  });
  const key = new kms.Key(stack, 'Key');
  const created = store.addSecret('Api', { secretName: 'api-key', encryptionKey: key });
  const sa = store.addServiceAccount('Billing', { name: 'billing', namespace: 'payments', createNamespace: true });
  store.addSecretProviderClass('Class', {
    className: 'billing-secrets',
    serviceAccount: sa,
    failoverRegion: 'eu-central-1',
    objects: [
      SecretObject.fromSecret(created, { alias: 'api-key', filePermission: '0400' }),
      SecretObject.fromSecretName('db/creds', { alias: 'db', jmesPath: [{ path: 'username', alias: 'db-user' }] }),
      SecretObject.fromSecretCompleteArn(`arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:shared-AbCdEf`, { alias: 'shared' }),
      SecretObject.fromParameterName('/billing/endpoint', { alias: 'endpoint' }),
      SecretObject.fromParameter(ssm.StringParameter.fromStringParameterName(stack, 'Flag', 'feature-flag'), { alias: 'flag' }),
    ],
    secretObjects: [{ secretName: 'billing-env', data: [{ key: 'API_KEY', objectName: 'api-key' }] }],
  });
  const template = Template.fromStack(stack);
  const objects = kubernetesObjects(template);

  test('the trust pins aud and sub of the imported OIDC provider', () => {
    const json = Object.values(template.findResources('Custom::AWSCDKCfnJson'))[0] as any;
    expect(json.Properties.Value).toBe(JSON.stringify({
      [`${OIDC_ISSUER}:aud`]: 'sts.amazonaws.com',
      [`${OIDC_ISSUER}:sub`]: 'system:serviceaccount:payments:billing',
    }));
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Federated: OIDC_ARN } })] },
    });
  });

  test('secret reads are granted on exact ARNs, names with -??????, failover region included', () => {
    const statement = statementFor(template, 'secretsmanager:GetSecretValue');
    const arn = (region: string, name: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${region}:${ACCOUNT}:secret:${name}`]],
    });
    expect(statement.Action).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']);
    expect(statement.Resource).toEqual(expect.arrayContaining([
      { Ref: Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0] },
      arn('eu-west-1', 'db/creds-??????'),
      arn('eu-central-1', 'db/creds-??????'),
      `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:shared-AbCdEf`,
      `arn:aws:secretsmanager:eu-central-1:${ACCOUNT}:secret:shared-AbCdEf`,
    ]));
    expect(statement.Resource).toHaveLength(6);
    expect(statement.Resource).not.toContain('*');
  });

  test('parameter reads use parameter/ ARNs without a doubled slash', () => {
    const statement = statementFor(template, 'ssm:GetParameters');
    const text = JSON.stringify(statement.Resource);
    expect(text).toContain(`:ssm:eu-west-1:${ACCOUNT}:parameter/billing/endpoint`);
    expect(text).toContain(`:ssm:eu-central-1:${ACCOUNT}:parameter/feature-flag`);
    expect(text).not.toContain('parameter//');
    expect(statement.Resource).toHaveLength(4);
  });

  test('kms:Decrypt only on the secret key, only through Secrets Manager and SSM of both regions', () => {
    const statement = statementFor(template, 'kms:Decrypt');
    expect([statement.Resource].flat()).toEqual([{ 'Fn::GetAtt': [Object.keys(template.findResources('AWS::KMS::Key'))[0], 'Arn'] }]);
    expect(statement.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': [
          'secretsmanager.eu-west-1.amazonaws.com', 'ssm.eu-west-1.amazonaws.com',
          'secretsmanager.eu-central-1.amazonaws.com', 'ssm.eu-central-1.amazonaws.com',
        ],
      },
    });
  });

  test('BatchGetSecretValue is the one action on *, in its own policy, acknowledged with its reason', () => {
    const batch = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p).includes('BatchGetSecretValue')) as any[];
    expect(batch).toHaveLength(1);
    expect(batch[0].Properties.PolicyDocument.Statement).toEqual([
      { Action: 'secretsmanager:BatchGetSecretValue', Effect: 'Allow', Resource: '*' },
    ]);
  });

  test('the add-on carries version, rotation, poll interval and sync', () => {
    template.hasResourceProperties('AWS::EKS::Addon', { AddonVersion: 'v3.1.3-eksbuild.1', ClusterName: 'prod' });
    const addon = Object.values(template.findResources('AWS::EKS::Addon'))[0] as any;
    expect(JSON.parse(addon.Properties.ConfigurationValues)['secrets-store-csi-driver']).toEqual({
      tokenRequests: [{ audience: 'sts.amazonaws.com' }, { audience: 'pods.eks.amazonaws.com' }],
      syncSecret: { enabled: true },
      enableSecretRotation: true,
      rotationPollInterval: '30s',
    });
  });

  test('renders every parameter as a string and objects as one YAML list', () => {
    const spc = objects.find((o) => o.kind === 'SecretProviderClass');
    for (const value of Object.values(spc.spec.parameters)) expect(typeof value).toBe('string');
    expect(spc.spec.parameters.failoverRegion).toBe('eu-central-1');
    const entries = parse(spc.spec.parameters.objects);
    expect(entries[0]).toEqual({ objectName: 'api-key', objectType: 'secretsmanager', objectAlias: 'api-key', filePermission: '0400' });
    expect(entries[1].jmesPath).toEqual([{ path: 'username', objectAlias: 'db-user' }]);
    expect(entries[3]).toEqual({ objectName: '/billing/endpoint', objectType: 'ssmparameter', objectAlias: 'endpoint' });
    expect(spc.spec.secretObjects).toEqual([{ secretName: 'billing-env', type: 'Opaque', data: [{ objectName: 'api-key', key: 'API_KEY' }] }]);
  });

  test('creates the namespace before the service account', () => {
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['payments']);
    const resources = template.toJSON().Resources;
    const nsId = Object.keys(resources).find((id) => id.startsWith('StoreNamespacepayments'))!;
    const saId = Object.keys(resources).find((id) => id.startsWith('StoreBillingManifest'))!;
    expect(resources[saId].DependsOn).toContain(nsId);
  });
});

describe('one driver install per cluster', () => {
  test('a second SecretsStore installing on the same cluster is refused', () => {
    const { stack, cluster } = importedClusterStack();
    new SecretsStore(stack, 'First', { cluster });
    expect(() => new SecretsStore(stack, 'Second', { cluster })).toThrow(
      /\[Test\/Second\] The Secrets Store CSI driver is already installed on cluster Test\/Cluster by Test\/First/,
    );
  });

  test('an add-on of the same name already in the stack is refused', () => {
    const { stack, cluster } = importedClusterStack();
    new eks.Addon(stack, 'Manual', { cluster, addonName: 'aws-secrets-store-csi-driver-provider' });
    expect(() => new SecretsStore(stack, 'Store', { cluster })).toThrow(/already gets the add-on aws-secrets-store-csi-driver-provider from Test\/Manual/);
  });

  test('SecretsStoreInstall.existing() adds classes without installing', () => {
    const { stack, cluster } = importedClusterStack();
    new SecretsStore(stack, 'First', { cluster });
    const second = new SecretsStore(stack, 'Second', { cluster, install: SecretsStoreInstall.existing() });
    expect(second.installed.mode).toBe('existing');
    Template.fromStack(stack).resourceCountIs('AWS::EKS::Addon', 1);
  });
});

describe('mount', () => {
  function setup() {
    const { stack, cluster } = importedClusterStack();
    const store = new SecretsStore(stack, 'Store', { cluster });
    const sa = store.addServiceAccount('Sa', { name: 'web', identity: WorkloadIdentity.POD_IDENTITY });
    const cls = store.addSecretProviderClass('Class', { className: 'web', serviceAccount: sa, objects: [SecretObject.fromSecretName('web-token')] });
    const chart = new Chart(new App(), 'web');
    return { stack, store, sa, cls, chart };
  }

  test('mounts into every container of a Deployment, read-only, and applies it after the class', () => {
    const { stack, store, sa, cls, chart } = setup();
    const deployment = new kplus.Deployment(chart, 'Web', {
      serviceAccount: sa.toKubeServiceAccount(chart, 'Sa'),
      containers: [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }],
    });
    cls.mount(deployment, '/secrets', { volumeName: 'web-secrets' });
    store.addWorkloads('Web', chart);

    const template = Template.fromStack(stack);
    const spec = kubernetesObjects(template).find((o) => o.kind === 'Deployment').spec.template.spec;
    expect(spec.volumes).toEqual([{ name: 'web-secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: 'web' } } }]);
    for (const c of spec.containers) expect(c.volumeMounts).toEqual([{ mountPath: '/secrets', name: 'web-secrets', readOnly: true }]);
    const resources = template.toJSON().Resources;
    const workloadId = Object.keys(resources).find((id) => id.startsWith('StoreWeb'))!;
    expect(resources[workloadId].DependsOn).toEqual(expect.arrayContaining([Object.keys(resources).find((id) => id.startsWith('StoreClassManifest'))]));
  });

  test('refuses a workload running as another service account, naming the fix', () => {
    const { cls, chart } = setup();
    const pod = new kplus.Pod(chart, 'Pod', { containers: [{ image: 'x' }] });
    expect(() => cls.mount(pod, '/secrets')).toThrow(
      /\[Test\/Store\/Class\] Workload web\/Pod runs as service account "default", but class "web" is granted to "web"\. Fix: give the workload serviceAccount/,
    );
  });

  test('refuses a workload in another namespace', () => {
    const { cls, chart, sa } = setup();
    const pod = new kplus.Pod(chart, 'Pod', {
      metadata: { namespace: 'other' },
      serviceAccount: sa.toKubeServiceAccount(chart, 'Sa'),
      containers: [{ image: 'x' }],
    });
    expect(() => cls.mount(pod, '/secrets')).toThrow(/is in namespace "other", but class "web" is in "default"/);
  });
});

describe('SecretObject factories', () => {
  test('fromSecretCompleteArn refuses a partial ARN with the fix', () => {
    expect(() => SecretObject.fromSecretCompleteArn('arn:aws:secretsmanager:us-east-1:111122223333:secret:name')).toThrow(
      /is not a complete secret ARN .* Fix: give the full ARN/,
    );
  });

  test('fromSecret uses the literal name of a secret created in the app', () => {
    const stack = new Stack();
    const secret = new secretsmanager.Secret(stack, 'S', { secretName: 'literal' });
    expect(SecretObject.fromSecret(secret).objectName).toBe('literal');
    expect(SecretObject.fromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'I', 'imported')).objectName).toBe('imported');
  });
});
