// Pure parts of the doctor (no cluster, no AWS): policy evaluation, name
// matching, event mapping, driver/provider recognition, the check table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKS } from '../../provider/src/doctor/checks';
import { concerning } from '../../provider/src/doctor/checks/driver-logs';
import { whyNotScheduled } from '../../provider/src/doctor/checks/driver-on-node';
import { mapEvent } from '../../provider/src/doctor/checks/events';
import { cmkArn } from '../../provider/src/doctor/checks/permissions';
import { flag } from '../../provider/src/doctor/checks/rotation';
import { nearMiss } from '../../provider/src/doctor/checks/volume-csi';
import { conditionValues, evaluate, statements, wildcardMatch } from '../../provider/src/doctor/policy';
import { redact } from '../../provider/src/doctor/report';
import { roleOf } from '../../provider/src/doctor/workloads';

describe('the check table', () => {
  test('every check id is its file name, and every check file is listed', () => {
    const dir = path.join(__dirname, '..', '..', 'provider', 'src', 'doctor', 'checks');
    const files = fs.readdirSync(dir).filter((f) => f !== 'index.ts').map((f) => f.replace(/\.ts$/, '')).sort();
    const ids = CHECKS.map((c) => c.id).sort();
    expect(ids).toEqual(files);
  });

  test('ranks are unique, so the root cause is always well defined', () => {
    expect(new Set(CHECKS.map((c) => c.rank)).size).toBe(CHECKS.length);
  });
});

describe('evaluate', () => {
  const allowDb = { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:us-east-1:1:secret:db-*' }] };

  test('allows an action on a resource matched by a wildcard', () => {
    expect(evaluate([allowDb], 'secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf')).toBe('allowed');
  });

  test('returns implicitDeny when no statement matches the resource', () => {
    expect(evaluate([allowDb], 'secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:us-east-1:1:secret:api-AbCdEf')).toBe('implicitDeny');
  });

  test('returns explicitDeny when an unconditional Deny matches, whatever allows', () => {
    const deny = { Statement: { Effect: 'Deny', NotAction: 'ssm:*', Resource: '*' } };
    expect(evaluate([allowDb, deny], 'SecretsManager:getSecretValue', 'arn:aws:secretsmanager:us-east-1:1:secret:db-x')).toBe('explicitDeny');
  });

  test('returns conditional when only a statement with a Condition allows', () => {
    const conditional = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'a' } } }] };
    expect(evaluate([conditional], 'kms:Decrypt', 'arn:aws:kms:us-east-1:1:key/k')).toBe('conditional');
  });

  test('reads conditions case-insensitively by key and knows Like operators', () => {
    const s = statements({ Statement: [{ Condition: { StringLike: { 'OIDC/ID/X:SUB': 'system:serviceaccount:shop:*' } } }] })[0];
    expect(conditionValues(s, 'oidc/id/x:sub')).toEqual({ values: ['system:serviceaccount:shop:*'], like: true });
    expect(wildcardMatch('system:serviceaccount:shop:*', 'system:serviceaccount:shop:app')).toBe(true);
    expect(wildcardMatch('a?c', 'abbc')).toBe(false);
  });
});

describe('small helpers', () => {
  test('nearMiss suggests close names only', () => {
    expect(nearMiss('aws-secret', ['aws-secrets', 'other'])).toBe('aws-secrets');
    expect(nearMiss('payments', ['aws-secrets'])).toBeUndefined();
  });

  test('mapEvent maps FailedMount messages to the check that explains them', () => {
    expect(mapEvent('failed to get secretproviderclass shop/x, error: not found')).toBe('volume-csi');
    expect(mapEvent('rpc error: AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue')).toBe('permissions / trust');
    expect(mapEvent('ResourceNotFoundException: Secrets Manager can\'t find the specified secret')).toBe('objects-exist');
    expect(mapEvent('back-off restarting failed container')).toBe('unmapped');
  });

  test('concerning keeps error lines that name the pod', () => {
    const log = 'I1203 ok pod="shop/a"\nE1203 failed pod="shop/a"\nE1203 failed pod="shop/b"';
    expect(concerning(log, ['shop/a'])).toEqual(['E1203 failed pod="shop/a"']);
  });

  test('roleOf recognizes the driver and the AWS provider', () => {
    expect(roleOf({ containers: [{ name: 'x', args: ['--provider-volume=/p'] }] })).toBe('driver');
    expect(roleOf({ containers: [{ name: 'x' }], volumes: [{ name: 'p', hostPath: { path: '/etc/kubernetes/secrets-store-csi-providers' } }] })).toBe('provider');
    expect(roleOf({ containers: [{ name: 'x', image: 'registry.k8s.io/csi-secrets-store/driver:v1.5.4' }] })).toBe('driver');
    expect(roleOf({ containers: [{ name: 'x', image: 'public.ecr.aws/aws-secrets-manager/secrets-store-csi-driver-provider-aws:2.1.0' }] })).toBe('provider');
    expect(roleOf({ containers: [{ name: 'x', image: 'nginx' }] })).toBeUndefined();
  });

  test('whyNotScheduled names a nodeSelector mismatch', () => {
    const ds = { metadata: { namespace: 'k', name: 'p' }, spec: { selector: {}, template: { spec: { containers: [], nodeSelector: { pool: 'system' } } } } };
    expect(whyNotScheduled(ds, { metadata: { name: 'n', labels: { pool: 'apps' } } })).toBe('DaemonSet k/p has nodeSelector pool=system, which node n does not match');
  });

  test('cmkArn ignores the AWS managed key and expands key ids', () => {
    const secret = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbCdEf';
    expect(cmkArn(undefined, secret, 'alias/aws/secretsmanager')).toBeUndefined();
    expect(cmkArn('alias/aws/secretsmanager', secret, 'alias/aws/secretsmanager')).toBeUndefined();
    expect(cmkArn('1234abcd', secret, 'alias/aws/secretsmanager')).toBe('arn:aws:kms:eu-west-1:111122223333:key/1234abcd');
  });

  test('flag reads --name=value, --name value and bare flags', () => {
    expect(flag(['--rotation-poll-interval=30s'], 'rotation-poll-interval')).toBe('30s');
    expect(flag(['--enable-secret-rotation', '--x'], 'enable-secret-rotation')).toBe('true');
    expect(flag(['--rotation-poll-interval', '1m'], 'rotation-poll-interval')).toBe('1m');
  });

  test('redact blanks every remembered value', () => {
    expect(redact('a hunter22 b', ['hunter22'])).toBe('a <redacted> b');
  });
});
