import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { App, Chart, Testing } from 'cdk8s';
import { ACCOUNT, importedClusterStack } from './util';
import { classProblems, SecretObject, SecretProviderClass, SecretsStore, SecretsStoreClassOptions, SecretsStoreInstall } from '../../lib';

type ClassInput = Omit<SecretsStoreClassOptions, 'className' | 'serviceAccount'>;

/** Synthesizes a class in eu-west-1 and returns the synth error message ('' when it synthesizes). */
function synthError(input: ClassInput, install?: SecretsStoreInstall): string {
  const { stack, cluster } = importedClusterStack();
  const store = new SecretsStore(stack, 'Store', { cluster, install });
  const serviceAccount = store.addServiceAccount('Sa', { name: 'app' });
  store.addSecretProviderClass('Bad', { className: 'bad-class', serviceAccount, ...input });
  try {
    Template.fromStack(stack);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

const arn = (region: string, name: string) => `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-AbCdEf`;

describe('synth-time rules of the provider contract', () => {
  test.each<[string, ClassInput, RegExp]>([
    [
      'duplicate file names across objects and jmesPath entries',
      { objects: [SecretObject.fromSecretName('a', { alias: 'same' }), SecretObject.fromSecretName('b', { jmesPath: [{ path: 'x', alias: 'same' }] })] },
      /same/,
    ],
    ['a path escaping the mount after translation', { pathTranslation: 'False', objects: [SecretObject.fromSecretName('a', { alias: '../etc/passwd' })] }, /\.\./],
    ['a file permission that is not four octal digits', { objects: [SecretObject.fromSecretName('a', { filePermission: '644' })] }, /644/],
    ['a jmesPath entry without a path', { objects: [SecretObject.fromSecretName('a', { jmesPath: [{ path: '', alias: 'x' }] })] }, /jmesPath|path/],
    [
      'a failover object without an alias',
      { failoverRegion: 'eu-central-1', objects: [SecretObject.fromSecretName('a', { failover: { objectName: 'a-replica' } })] },
      /objectAlias|alias/,
    ],
    ['a failover object without a failover region', { objects: [SecretObject.fromSecretName('a', { alias: 'a', failover: { objectName: 'b' } })] }, /failoverRegion/],
    ['an ARN in another region than the class', { objects: [SecretObject.fromSecretCompleteArn(arn('us-east-1', 'x'), { alias: 'x' })] }, /us-east-1/],
    ['an SSM object with version and label', { objects: [SecretObject.fromParameterName('p', { version: '2', versionLabel: 'prod' })] }, /objectVersion|label/i],
    ['a failover region equal to the region', { region: 'eu-west-1', failoverRegion: 'eu-west-1', objects: [SecretObject.fromSecretName('a')] }, /failoverRegion/],
    ['a path translation longer than one character', { pathTranslation: '--', objects: [SecretObject.fromSecretName('a')] }, /pathTranslation/],
  ])('%s fails synth, naming the construct, the object and the fix', (_name, input, detail) => {
    const message = synthError(input);
    expect(message).toContain('Test/Store/Bad');
    expect(message).toContain('SecretProviderClass "bad-class"');
    expect(message).toMatch(detail);
    expect(message).toContain('Fix:');
  });

  test('an unknown object type is reported', () => {
    // The typed API cannot produce one; the cdk8s class is checked the same way for hand-written parameters.
    const chart = new Chart(new App(), 'c');
    const spc = new SecretProviderClass(chart, 'Spc', { objects: [SecretObject.fromSecretName('a')] });
    const bad = { ...spc.parameters, objects: '- objectName: "a"\n  objectType: "s3"\n' };
    expect(classProblems(bad).join('\n')).toMatch(/objectType.*s3|s3.*objectType/s);
  });

  test('secretObjects without sync enabled on the install fails with the fix', () => {
    const message = synthError({
      objects: [SecretObject.fromSecretName('a', { alias: 'a' })],
      secretObjects: [{ secretName: 'k8s', data: [{ key: 'A', objectName: 'a' }] }],
    });
    expect(message).toMatch(/has secretObjects, but the driver \(eks-addon\) does not sync secrets\. Fix: install with syncSecrets: true/);
  });

  test('a class that follows every rule synthesizes', () => {
    expect(synthError({ failoverRegion: 'eu-central-1', objects: [SecretObject.fromSecretName('a', { alias: 'a', filePermission: '0400' })] })).toBe('');
  });

  test('unresolved tokens are skipped, not guessed', () => {
    const { stack, cluster } = importedClusterStack();
    const store = new SecretsStore(stack, 'Store', { cluster });
    const serviceAccount = store.addServiceAccount('Sa', { name: 'app' });
    const unnamed = new secretsmanager.Secret(stack, 'Unnamed');
    store.addSecretProviderClass('Tok', {
      className: 'tok',
      serviceAccount,
      objects: [SecretObject.fromSecret(unnamed), SecretObject.fromSecretCompleteArn(unnamed.secretArn, { alias: 'by-arn' })],
    });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('SecretProviderClass (cdk8s)', () => {
  test('validates when the cdk8s app synthesizes', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c');
    new SecretProviderClass(chart, 'Spc', { metadata: { name: 'x' }, objects: [SecretObject.fromSecretName('a', { filePermission: '9999' })] });
    expect(() => app.synth()).toThrow(/9999/);
  });

  test('renders provider aws, string parameters and usePodIdentity', () => {
    const chart = Testing.chart();
    new SecretProviderClass(chart, 'Spc', {
      metadata: { name: 'x' },
      usePodIdentity: true,
      preferredAddressType: 'ipv6',
      objects: [SecretObject.fromParameterName('/a/b', { alias: 'b' })],
    });
    const [spc] = Testing.synth(chart);
    expect(spc).toEqual({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'x' },
      spec: {
        provider: 'aws',
        parameters: {
          objects: '- objectName: "/a/b"\n  objectType: "ssmparameter"\n  objectAlias: "b"\n',
          usePodIdentity: 'true',
          preferredAddressType: 'ipv6',
        },
      },
    });
  });
});
