import { evaluate, PolicyDocument, wildcard } from './iam-policy';

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:my-db-password-AbCdEf';
const OTHER = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other-XyZ123';

/** The shape of the sample stack's grants: reads on one secret, batch on `*`. */
const workload: PolicyDocument[] = [
  { Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: SECRET }] },
  { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' }] },
];

describe('identity policies', () => {
  test('allows the granted action on the granted resource only', () => {
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: SECRET }, workload).decision).toBe('Allow');
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: OTHER }, workload).decision).toBe('ImplicitDeny');
    expect(evaluate({ action: 'secretsmanager:PutSecretValue', resource: SECRET }, workload).decision).toBe('ImplicitDeny');
    expect(evaluate({ action: 'secretsmanager:BatchGetSecretValue', resource: '*' }, workload).decision).toBe('Allow');
  });

  test('actions match case-insensitively, resources case-sensitively', () => {
    expect(evaluate({ action: 'SecretsManager:getsecretvalue', resource: SECRET }, workload).decision).toBe('Allow');
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: SECRET.toUpperCase() }, workload).decision).toBe('ImplicitDeny');
  });

  test('the six-character suffix wildcard matches exactly six characters', () => {
    const byName: PolicyDocument[] = [{
      Statement: { Effect: 'Allow', Action: 'secretsmanager:Get*', Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:my-db-password-??????' },
    }];
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: SECRET }, byName).decision).toBe('Allow');
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: `${SECRET}x` }, byName).decision).toBe('ImplicitDeny');
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: SECRET.slice(0, -1) }, byName).decision).toBe('ImplicitDeny');
  });

  test('an explicit deny wins over any allow, whatever the order', () => {
    const deny: PolicyDocument = { Statement: [{ Effect: 'Deny', Action: 'secretsmanager:*', Resource: '*' }] };
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: SECRET }, [...workload, deny]).decision).toBe('ExplicitDeny');
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: SECRET }, [deny, ...workload]).decision).toBe('ExplicitDeny');
  });

  test('NotAction and NotResource invert their lists', () => {
    const docs: PolicyDocument[] = [{ Statement: [{ Effect: 'Allow', NotAction: 'iam:*', NotResource: OTHER }] }];
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: SECRET }, docs).decision).toBe('Allow');
    expect(evaluate({ action: 'secretsmanager:GetSecretValue', resource: OTHER }, docs).decision).toBe('ImplicitDeny');
    expect(evaluate({ action: 'iam:CreateRole', resource: SECRET }, docs).decision).toBe('ImplicitDeny');
  });

  test('wildcards treat regular-expression characters literally', () => {
    expect(wildcard('a.b', 'a.b', false)).toBe(true);
    expect(wildcard('a.b', 'axb', false)).toBe(false);
    expect(wildcard('arn:*:secret:x-(1)', 'arn:aws:secretsmanager:r:a:secret:x-(1)', false)).toBe(true);
  });
});

describe('trust policies', () => {
  const issuer = 'oidc.eks.us-east-1.amazonaws.com/id/ABC';
  const provider = `arn:aws:iam::123456789012:oidc-provider/${issuer}`;
  const irsaTrust: PolicyDocument[] = [{
    Statement: [{
      Effect: 'Allow',
      Action: 'sts:AssumeRoleWithWebIdentity',
      Principal: { Federated: provider },
      Condition: { StringEquals: { [`${issuer}:aud`]: 'sts.amazonaws.com', [`${issuer}:sub`]: 'system:serviceaccount:default:my-app' } },
    }],
  }];
  const ask = (sub: string, aud = 'sts.amazonaws.com', id = provider) => evaluate({
    action: 'sts:AssumeRoleWithWebIdentity',
    principal: { type: 'Federated', id },
    context: { [`${issuer}:aud`]: aud, [`${issuer}:SUB`]: sub },
  }, irsaTrust).decision;

  test('IRSA: the right provider, audience and subject only', () => {
    expect(ask('system:serviceaccount:default:my-app')).toBe('Allow');
    expect(ask('system:serviceaccount:default:other')).toBe('ImplicitDeny');
    expect(ask('system:serviceaccount:default:my-app', 'pods.eks.amazonaws.com')).toBe('ImplicitDeny');
    expect(ask('system:serviceaccount:default:my-app', 'sts.amazonaws.com', `${provider}X`)).toBe('ImplicitDeny');
  });

  test('a trust statement does not apply to an identity-policy request (with a resource)', () => {
    expect(evaluate({ action: 'sts:AssumeRoleWithWebIdentity', resource: 'arn:aws:iam::1:role/r' }, irsaTrust).decision).toBe('ImplicitDeny');
  });

  test('Pod Identity: the service principal with both actions', () => {
    const trust: PolicyDocument[] = [{
      Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Principal: { Service: 'pods.eks.amazonaws.com' } }],
    }];
    const service = (id: string, action = 'sts:AssumeRole') => evaluate({ action, principal: { type: 'Service', id } }, trust).decision;
    expect(service('pods.eks.amazonaws.com')).toBe('Allow');
    expect(service('pods.eks.amazonaws.com', 'sts:TagSession')).toBe('Allow');
    expect(service('ec2.amazonaws.com')).toBe('ImplicitDeny');
    expect(evaluate({ action: 'sts:AssumeRole', principal: { type: 'AWS', id: 'arn:aws:iam::1:root' } }, trust).decision).toBe('ImplicitDeny');
  });
});

describe('conditions', () => {
  const doc = (Condition: Record<string, Record<string, unknown>>): PolicyDocument[] =>
    [{ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition }] }];
  const check = (Condition: Record<string, Record<string, unknown>>, context: Record<string, string | string[]>) =>
    evaluate({ action: 's:A', resource: 'r', context }, doc(Condition)).decision === 'Allow';

  test('StringLike, negations, IfExists and a missing key', () => {
    expect(check({ StringLike: { k: 'system:serviceaccount:*:my-app' } }, { k: 'system:serviceaccount:prod:my-app' })).toBe(true);
    expect(check({ StringLike: { k: 'a?' } }, { k: 'abc' })).toBe(false);
    expect(check({ StringEquals: { k: 'v' } }, {})).toBe(false);
    expect(check({ StringEqualsIfExists: { k: 'v' } }, {})).toBe(true);
    expect(check({ StringNotEquals: { k: ['a', 'b'] } }, { k: 'c' })).toBe(true);
    expect(check({ StringNotEquals: { k: ['a', 'b'] } }, { k: 'b' })).toBe(false);
    expect(check({ StringEqualsIgnoreCase: { k: 'ABC' } }, { k: 'abc' })).toBe(true);
  });

  test('every key and every operator must hold', () => {
    const both = { StringEquals: { a: '1', b: '2' }, Bool: { 'aws:SecureTransport': 'true' } };
    expect(check(both, { 'a': '1', 'b': '2', 'aws:securetransport': 'true' })).toBe(true);
    expect(check(both, { 'a': '1', 'b': '3', 'aws:securetransport': 'true' })).toBe(false);
    expect(check(both, { 'a': '1', 'b': '2', 'aws:securetransport': 'false' })).toBe(false);
  });

  test('Null, ArnLike and the set prefixes', () => {
    expect(check({ Null: { k: 'true' } }, {})).toBe(true);
    expect(check({ Null: { k: 'false' } }, {})).toBe(false);
    expect(check({ ArnLike: { k: 'arn:aws:eks:*:123456789012:cluster/*' } }, { k: 'arn:aws:eks:us-east-1:123456789012:cluster/c' })).toBe(true);
    expect(check({ 'ForAnyValue:StringEquals': { k: ['x'] } }, { k: ['a', 'x'] })).toBe(true);
    expect(check({ 'ForAllValues:StringEquals': { k: ['x'] } }, { k: ['a', 'x'] })).toBe(false);
    expect(check({ 'ForAllValues:StringEquals': { k: ['x'] } }, {})).toBe(true);
  });

  test('an unknown operator fails closed with a clear error', () => {
    expect(() => check({ NumericLessThan: { k: '3' } }, { k: '1' })).toThrow(/NumericLessThan.*not supported/);
    expect(() => evaluate({ action: 'a', resource: 'r' }, [{ Statement: { Effect: 'Allow' } as any }])).toThrow(/neither Action nor NotAction/);
  });
});
