import { status } from '@grpc/grpc-js';
import { checkClassParameters } from '../../lib/contract';
import { CallContext } from '../../provider/src/calls';
import { ClusterInfo, ClusterReader } from '../../provider/src/cluster';
import { awsErrorLike, isServerOrNetworkError, MountError } from '../../provider/src/errors';
import { fetchWithFailover } from '../../provider/src/failover';
import { buildOutput } from '../../provider/src/files';
import { Limiter } from '../../provider/src/limiter';
import { capDetails } from '../../provider/src/server';
import { planCalls } from '../../provider/src/ssm';
import { tokenFor } from '../../provider/src/tokens';

const calls = () => new CallContext(new AbortController().signal, new Limiter(4), 2);
const spc = (objects: string, extra: Record<string, string> = {}) => checkClassParameters({ objects, ...extra }, { region: 'us-east-1' });

describe('tokens (rule 10)', () => {
  const attr = (v: unknown) => ({ 'csi.storage.k8s.io/serviceAccount.tokens': typeof v === 'string' ? v : JSON.stringify(v) });
  test.each([
    ['missing', {}, 'sent no service account tokens'],
    ['not JSON', attr('{'), 'not valid JSON'],
    ['not an object', attr('[1]'), 'not a JSON object'],
    ['missing audience', attr({ other: { token: 'x' } }), 'no token for the audience sts.amazonaws.com'],
    ['empty', attr({ 'sts.amazonaws.com': { token: '' } }), 'is empty'],
  ])('%s -> UNAUTHENTICATED naming tokenRequests', (_n, attributes, message) => {
    expect(() => tokenFor(attributes as Record<string, string>, 'sts.amazonaws.com')).toThrow(expect.objectContaining({ code: status.UNAUTHENTICATED }));
    expect(() => tokenFor(attributes as Record<string, string>, 'sts.amazonaws.com')).toThrow(new RegExp(`${message}.*tokenRequests`));
  });
  test('a present token is returned with its expiry', () => {
    const t = tokenFor(attr({ 'sts.amazonaws.com': { token: 'abc', expirationTimestamp: '2030-01-01T00:00:00Z' } }), 'sts.amazonaws.com');
    expect(t).toEqual({ token: 'abc', expiresAt: new Date('2030-01-01T00:00:00Z') });
  });
});

describe('service account role (rule 11) and node region', () => {
  const reader = (annotations?: Record<string, string>): ClusterReader & { reads: number } => ({
    reads: 0,
    async serviceAccountAnnotations() { this.reads++; return annotations; },
    async pod() { this.reads++; return { nodeName: 'n1' }; },
    async nodeLabels() { this.reads++; return { 'topology.kubernetes.io/region': 'eu-central-1' }; },
  });
  test('without the annotation: PERMISSION_DENIED naming the service account and the annotation', async () => {
    const info = new ClusterInfo(reader({}), 1000);
    await expect(info.roleArn('ns', 'sa', calls())).rejects.toThrow(/ns\/sa has no eks.amazonaws.com\/role-arn annotation/);
  });
  test('reads are cached for the TTL and shared while in flight', async () => {
    const r = reader({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/r' });
    const info = new ClusterInfo(r, 60_000);
    const c = calls();
    await Promise.all([info.roleArn('ns', 'sa', c), info.roleArn('ns', 'sa', c), info.nodeRegion('ns', 'p', c)]);
    expect(await info.nodeRegion('ns', 'p', c)).toBe('eu-central-1');
    expect(r.reads).toBe(3);
    expect(c.kube).toEqual({ serviceaccounts: 1, pods: 1, nodes: 1 });
  });
});

describe('SSM call plan', () => {
  test('at most 10 names a call, each parameter once per call', () => {
    const targets = [
      ...Array.from({ length: 12 }, (_, i) => ({ key: i, id: `/p${i}` })),
      { key: 20, id: '/p0', version: '1' }, { key: 21, id: '/p0', versionLabel: 'x' }, { key: 22, id: '/p0' },
    ];
    const plan = planCalls(targets);
    for (const call of plan) {
      expect(call.length).toBeLessThanOrEqual(10);
      expect(new Set(call.map((t) => t.id)).size).toBe(call.length);
    }
    expect(plan.flat()).toHaveLength(14);
  });
});

describe('failover', () => {
  const objects = spc('- objectName: a\n  objectType: secretsmanager\n  objectAlias: a\n', { failoverRegion: 'us-west-2' }).objects;
  const value = (region: string) => ({ value: { bytes: Buffer.from(region), version: 'v', region } });
  test.each([
    ['5xx', awsErrorLike('InternalServiceError', 'boom', 500), ['us-east-1', 'us-west-2']],
    ['network', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), ['us-east-1', 'us-west-2']],
    ['4xx not found', awsErrorLike('ResourceNotFoundException', 'nope', 400), ['us-east-1']],
    ['access denied', awsErrorLike('AccessDeniedException', 'no', 400), ['us-east-1']],
  ])('primary fails with %s', async (_n, error, expected) => {
    const regions: string[] = [];
    const run = fetchWithFailover(objects, 'us-east-1', 'us-west-2', async (region) => {
      regions.push(region);
      return new Map([[0, region === 'us-east-1' ? { error } : value(region)]]);
    });
    if (expected.length === 2) await expect(run).resolves.toEqual(new Map([[0, value('us-west-2').value]]));
    else await expect(run).rejects.toBeInstanceOf(MountError);
    expect(regions).toEqual(expected);
    expect(isServerOrNetworkError(error)).toBe(expected.length === 2);
  });
});

describe('files and versions', () => {
  test('jmesPath files get their own mode and the secret version; results must be strings', () => {
    const { objects } = spc('- objectName: s\n  objectType: secretsmanager\n  filePermission: "0640"\n  jmesPath:\n    - path: a\n      objectAlias: a\n    - path: b\n      objectAlias: b\n      filePermission: "0600"\n');
    const values = new Map([[0, { bytes: Buffer.from('{"a":"x","b":"y"}'), version: 'v7', region: 'r' }]]);
    const out = buildOutput(objects, values, 0o644);
    expect(out.files.map((f) => [f.path, f.mode])).toEqual([['s', 0o640], ['a', 0o640], ['b', 0o600]]);
    expect(out.versions).toEqual([{ id: 's', version: 'v7' }, { id: 'a', version: 'v7' }, { id: 'b', version: 'v7' }]);
    const list = new Map([[0, { bytes: Buffer.from('{"a":["x"],"b":"y"}'), version: 'v7', region: 'r' }]]);
    expect(() => buildOutput(objects, list, 0o644)).toThrow(/jmesPath "a" gives a list, not a string/);
  });
});

describe('jmesPath messages', () => {
  // lib/contract rejects unquoted hyphen keys first; this is the provider's own wording when one gets through.
  const object = (p: string) => ({ ...spc('- objectName: s\n  objectType: secretsmanager\n').objects[0], jmesPath: [{ path: p, alias: 'f', fileName: 'f' }] });
  const values = new Map([[0, { bytes: Buffer.from('{"db-host":"h","nested":{"a":"b"}}'), version: 'v', region: 'r' }]]);
  test('an unquoted key with a hyphen: the quoted fix, not the parser internals', () => {
    expect(() => buildOutput([object('db-host')], values, 0o644)).toThrow(/because keys with hyphens must be quoted\. Fix: Quote keys that contain a hyphen: path: '"db-host"'\./);
    expect(() => buildOutput([object('db-host')], values, 0o644)).not.toThrow(/Unexpected token/);
  });
  test('an object result says "an object"', () => {
    expect(() => buildOutput([object('nested')], values, 0o644)).toThrow(/gives an object, not a string/);
  });
});

describe('status details cap', () => {
  test('keeps the first lines within the limit once percent-encoded, then counts the rest', () => {
    const message = `300 objects failed:\n${Array.from({ length: 300 }, (_, i) => `- secret "s ${i}" failed`).join('\n')}`;
    const capped = capDetails(message, 1000);
    expect(encodeURI(capped).length).toBeLessThanOrEqual(1000);
    expect(capped).toMatch(/^300 objects failed:\n- secret "s 0" failed\n- secret "s 1" failed\n/);
    const kept = capped.split('\n').length - 2;
    expect(capped).toMatch(new RegExp(`\n- … and ${300 - kept} more problems \\(see the provider log\\)$`));
    expect(capDetails('short')).toBe('short');
    const long = capDetails('x é'.repeat(5000), 500);
    expect(encodeURI(long).length).toBeLessThanOrEqual(500);
    expect(long).toMatch(/^x éx é.* … \(cut; see the provider log\)$/);
  });
});

describe('Limiter', () => {
  test('never runs more than its limit at once', async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 20 }, () => limiter.run(async () => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 2));
      active--;
    })));
    expect(peak).toBe(3);
  });
});
