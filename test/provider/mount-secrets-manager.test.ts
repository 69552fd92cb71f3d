import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { AwsProxy } from './aws-proxy';
import { filesAsText, MotoData, mountRequest, ProviderBehindProxy, startProviderBehindProxy, tokensAttribute, unique } from './fixtures';
import { ProviderProcess } from './harness';
import { KubeApiStandIn } from '../support/kube-api';
import { writeUp } from '../support/write-up';

// The provider as its own process, AWS through a recording proxy in front of
// moto, Kubernetes through the API stand-in, IRSA through moto's STS.
let proxy: AwsProxy;
let kube: KubeApiStandIn;
let provider: ProviderProcess;
let setup: ProviderBehindProxy | undefined;

beforeAll(async () => {
  setup = await startProviderBehindProxy();
  ({ proxy, kube, provider } = setup);
});

afterAll(() => setup?.stop());

beforeEach(() => {
  proxy.reset();
  proxy.clearFaults();
});

const objects = (yaml: string) => ({ objects: yaml });

describe('Secrets Manager', () => {
  test('mounts the shared example class unchanged: my-db-password as db-password', async () => {
    // GIVEN the example's secret (unique name per run, same shape as shared/examples)
    const name = unique('my-db-password');
    const { versionId } = await MotoData.createSecret(name, 'hunter2-example');
    // (the write-up's class as it is, but for the secret's name: moto is shared by the whole run)
    const example = writeUp('secret-provider-class.yaml');
    const params = { ...example.spec.parameters, objects: example.spec.parameters.objects.replace('"my-db-password"', `"${name}"`) };
    expect(params.objects).not.toEqual(example.spec.parameters.objects);

    // WHEN
    const response = await provider.mount(mountRequest({ params }));

    // THEN one file, its version, mode 0644
    expect(filesAsText(response)).toEqual({ 'db-password': 'hunter2-example' });
    expect(response.files[0].mode).toBe(0o644);
    expect(response.objectVersion).toEqual([{ id: 'db-password', version: versionId }]);
  });

  test('by name and by ARN, current values in one BatchGetSecretValue, with the pod credentials from STS', async () => {
    const a = unique('app/a');
    const b = unique('b');
    await MotoData.createSecret(a, 'value-a');
    const { arn } = await MotoData.createSecret(b, 'value-b');

    const response = await provider.mount(mountRequest({
      params: objects(`- objectName: ${a}\n  objectType: secretsmanager\n- objectName: ${arn}\n  objectAlias: b.txt\n  filePermission: "0600"\n`),
    }));

    expect(filesAsText(response)).toEqual({ [a.replace('/', '_')]: 'value-a', 'b.txt': 'value-b' });
    expect(response.files.find((f) => f.path === 'b.txt')!.mode).toBe(0o600);
    const sm = proxy.callsTo('secretsmanager');
    expect(sm.map((c) => c.action)).toEqual(['BatchGetSecretValue']);
    // Signed with the key STS issued for the pod's role, not the provider's own (it has none).
    const sts = proxy.callsTo('sts', 'AssumeRoleWithWebIdentity');
    expect(sts).toHaveLength(1);
    expect(sts[0].body).toContain(encodeURIComponent('arn:aws:iam::123456789012:role/app-secrets'));
    expect(sm[0].accessKeyId).toMatch(/^ASIA/);
  });

  test('binary secrets stay bytes', async () => {
    const name = unique('bin');
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x0a]);
    await MotoData.createSecret(name, bytes);
    const response = await provider.mount(mountRequest({ params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n`) }));
    expect(Buffer.from(response.files[0].contents).equals(bytes)).toBe(true);
  });

  test('jmesPath files carry their secret version; an unquoted hyphen key gets the quoted form', async () => {
    const name = unique('json');
    const { versionId } = await MotoData.createSecret(name, JSON.stringify({ 'username': 'admin', 'db-host': 'db.internal', 'port': 5432 }));
    const ok = await provider.mount(mountRequest({
      params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n  objectAlias: db\n  jmesPath:\n    - path: username\n      objectAlias: user\n    - path: '"db-host"'\n      objectAlias: host\n      filePermission: "0640"\n`),
    }));
    expect(filesAsText(ok)).toEqual({ db: expect.any(String), user: 'admin', host: 'db.internal' });
    expect(ok.files.find((f) => f.path === 'host')!.mode).toBe(0o640);
    expect(ok.objectVersion).toEqual([{ id: 'db', version: versionId }, { id: 'user', version: versionId }, { id: 'host', version: versionId }]);

    const unquoted = provider.mount(mountRequest({ params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n  jmesPath:\n    - path: db-host\n      objectAlias: host\n`) }));
    await expect(unquoted).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('"db-host"') });

    const notString = provider.mount(mountRequest({ params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n  jmesPath:\n    - path: port\n      objectAlias: port\n`) }));
    await expect(notString).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/gives a number, not a string.*not a permission problem/) });
  });

  test('a secret that is not JSON, with jmesPath, is INVALID_ARGUMENT without its value', async () => {
    const name = unique('notjson');
    await MotoData.createSecret(name, 'planted-NOTJSON-value');
    const result = provider.mount(mountRequest({ params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n  jmesPath:\n    - path: a\n      objectAlias: a\n`) }));
    await expect(result).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('is not valid JSON') });
    await result.catch((e) => expect(e.details).not.toContain('planted-NOTJSON-value'));
  });

  test('a missing secret is NOT_FOUND naming the secret, region and AWS code; nothing is mounted', async () => {
    const present = unique('present');
    await MotoData.createSecret(present, 'x');
    const missing = unique('missing');
    const result = provider.mount(mountRequest({ params: objects(`- objectName: ${present}\n  objectType: secretsmanager\n- objectName: ${missing}\n  objectType: secretsmanager\n`) }));
    await expect(result).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: expect.stringMatching(new RegExp(`secret "${missing}" in us-east-1 \\(secretsmanager\\): ResourceNotFoundException`)),
    });
  });

  test('pinned versions and labels use GetSecretValue; current versions one batch', async () => {
    const name = unique('rot');
    const { versionId: v1 } = await MotoData.createSecret(name, 'one');
    const v2 = await MotoData.rotateSecret(name, 'two');
    const response = await provider.mount(mountRequest({
      params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n  objectAlias: current\n`
        + `- objectName: ${name}\n  objectType: secretsmanager\n  objectAlias: previous\n  objectVersionLabel: AWSPREVIOUS\n`
        + `- objectName: ${name}\n  objectType: secretsmanager\n  objectAlias: first\n  objectVersion: ${v1}\n`),
    }));
    expect(filesAsText(response)).toEqual({ current: 'two', previous: 'one', first: 'one' });
    expect(response.objectVersion).toEqual([{ id: 'current', version: v2 }, { id: 'previous', version: v1 }, { id: 'first', version: v1 }]);
    expect(proxy.callsTo('secretsmanager').map((c) => c.action).sort()).toEqual(['BatchGetSecretValue', 'GetSecretValue', 'GetSecretValue']);
  });

  test('rotation with current_object_version: new values in one call; an unchanged pinned version is read from the volume', async () => {
    // GIVEN a volume that holds a pinned version (as the driver wrote it)
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-'));
    const cur = unique('cur');
    const pinned = unique('pinned');
    await MotoData.createSecret(cur, 'v1');
    const { versionId: pv } = await MotoData.createSecret(pinned, 'pinned-value');
    fs.writeFileSync(path.join(target, 'pinned'), 'pinned-value');
    const params = objects(`- objectName: ${cur}\n  objectType: secretsmanager\n  objectAlias: cur\n- objectName: ${pinned}\n  objectType: secretsmanager\n  objectAlias: pinned\n  objectVersion: ${pv}\n`);
    const tokens = tokensAttribute({ 'sts.amazonaws.com': `irsa-token-${unique('rot')}` });
    const first = await provider.mount(mountRequest({ params, tokens, targetPath: target }));
    const v2 = await MotoData.rotateSecret(cur, 'v2');
    proxy.reset();

    // WHEN the driver remounts with the versions it holds
    const again = await provider.mount(mountRequest({ params, tokens, targetPath: target, currentObjectVersion: first.objectVersion }));

    // THEN the full file set, the new current value, and one AWS call (STS cached, pinned version not downloaded)
    expect(filesAsText(again)).toEqual({ cur: 'v2', pinned: 'pinned-value' });
    expect(again.objectVersion).toEqual([{ id: 'cur', version: v2 }, { id: 'pinned', version: pv }]);
    expect(proxy.calls.map((c) => `${c.service}:${c.action}`)).toEqual(['secretsmanager:BatchGetSecretValue']);
    fs.rmSync(target, { recursive: true });
  });

  test('a pinned file that links out of the volume is downloaded again, never read through the link', async () => {
    // GIVEN a volume whose pinned file was replaced by a link to a file outside it
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-'));
    const outside = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'outside-')), 'host-file');
    fs.writeFileSync(outside, 'host-only-content');
    const pinned = unique('pinned');
    const { versionId } = await MotoData.createSecret(pinned, 'pinned-value');
    fs.symlinkSync(outside, path.join(target, 'pinned'));
    const params = objects(`- objectName: ${pinned}\n  objectType: secretsmanager\n  objectAlias: pinned\n  objectVersion: ${versionId}\n`);
    proxy.reset();

    // WHEN the driver remounts claiming to hold that version
    const again = await provider.mount(mountRequest({ params, targetPath: target, currentObjectVersion: [{ id: 'pinned', version: versionId! }] }));

    // THEN the secret's own value, fetched from AWS
    expect(filesAsText(again)).toEqual({ pinned: 'pinned-value' });
    expect(proxy.calls.map((c) => `${c.service}:${c.action}`)).toContain('secretsmanager:GetSecretValue');
    fs.rmSync(target, { recursive: true });
    fs.rmSync(path.dirname(outside), { recursive: true });
  });

  test('more than 20 current secrets: batches of 20 in parallel', async () => {
    const names = Array.from({ length: 23 }, (_, i) => unique(`many${i}`));
    await Promise.all(names.map((n, i) => MotoData.createSecret(n, `value-${i}`)));
    const response = await provider.mount(mountRequest({ params: objects(names.map((n) => `- objectName: ${n}\n  objectType: secretsmanager\n`).join('')) }));
    expect(response.files).toHaveLength(23);
    expect(filesAsText(response)[names[22]]).toBe('value-22');
    expect(proxy.callsTo('secretsmanager', 'BatchGetSecretValue')).toHaveLength(2);
  });

  test('a role denied BatchGetSecretValue falls back to GetSecretValue, and remembers it', async () => {
    // GIVEN a role (own service account) whose policy lacks the batch permission (moto does not enforce IAM: the proxy denies)
    const role = 'arn:aws:iam::123456789012:role/no-batch';
    kube.set('/api/v1/namespaces/default/serviceaccounts/nobatch', { metadata: { name: 'nobatch', namespace: 'default', annotations: { 'eks.amazonaws.com/role-arn': role } } });
    proxy.addFault((c) => (c.action === 'BatchGetSecretValue' ? { status: 400, code: 'AccessDeniedException', message: 'not authorized to perform: secretsmanager:BatchGetSecretValue' } : undefined));
    const a = unique('fa');
    const b = unique('fb');
    await MotoData.createSecret(a, 'A');
    await MotoData.createSecret(b, 'B');
    const request = () => mountRequest({ serviceAccount: 'nobatch', params: objects(`- objectName: ${a}\n  objectType: secretsmanager\n- objectName: ${b}\n  objectType: secretsmanager\n`) });

    // WHEN mounted twice
    expect(filesAsText(await provider.mount(request()))).toEqual({ [a]: 'A', [b]: 'B' });
    const firstActions = proxy.callsTo('secretsmanager').map((c) => c.action).sort();
    proxy.reset();
    expect(filesAsText(await provider.mount(request()))).toEqual({ [a]: 'A', [b]: 'B' });

    // THEN the first tries the batch once; the second goes straight to GetSecretValue
    expect(firstActions).toEqual(['BatchGetSecretValue', 'GetSecretValue', 'GetSecretValue']);
    expect(proxy.callsTo('secretsmanager').map((c) => c.action)).toEqual(['GetSecretValue', 'GetSecretValue']);
  });

  test('failover on a 5xx: the failover region serves; a 4xx does not fail over', async () => {
    const name = unique('replicated');
    await MotoData.createSecret(name, 'primary-value', 'us-east-1');
    await MotoData.createSecret(name, 'replica-value', 'us-west-2');
    const params = { objects: `- objectName: ${name}\n  objectType: secretsmanager\n  objectAlias: db\n`, region: 'us-east-1', failoverRegion: 'us-west-2' };
    proxy.addFault((c) => (c.service === 'secretsmanager' && c.region === 'us-east-1' ? { status: 503, code: 'ServiceUnavailable' } : undefined));

    const response = await provider.mount(mountRequest({ params }));
    expect(filesAsText(response)).toEqual({ db: 'replica-value' });
    expect(proxy.callsTo('secretsmanager').map((c) => c.region)).toEqual(['us-east-1', 'us-west-2']);

    proxy.clearFaults();
    proxy.reset();
    proxy.addFault((c) => (c.service === 'secretsmanager' && c.region === 'us-east-1' ? { status: 400, code: 'AccessDeniedException' } : undefined));
    await expect(provider.mount(mountRequest({ params }))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    // (the batch denial falls back to GetSecretValue, which is denied too; neither is a reason to fail over)
    expect(proxy.callsTo('secretsmanager').map((c) => c.region)).toEqual(['us-east-1', 'us-east-1']);
  });

  test('a failover object is read in the failover region under its own name', async () => {
    const primary = unique('prim');
    const other = unique('other');
    await MotoData.createSecret(primary, 'p', 'us-east-1');
    await MotoData.createSecret(other, 'o', 'eu-west-1');
    proxy.addFault((c) => (c.service === 'secretsmanager' && c.region === 'us-east-1' ? { status: 500, code: 'InternalServiceError' } : undefined));
    const response = await provider.mount(mountRequest({
      params: { region: 'us-east-1', failoverRegion: 'eu-west-1', objects: `- objectName: ${primary}\n  objectType: secretsmanager\n  objectAlias: db\n  failoverObject:\n    objectName: ${other}\n` },
    }));
    expect(filesAsText(response)).toEqual({ db: 'o' });
  });

  test('planted secret values and tokens never reach logs or errors', async () => {
    const planted = `PLANTED-${unique('v')}`;
    const token = `PLANTED-TOKEN-${unique('t')}`;
    const name = unique('planted');
    await MotoData.createSecret(name, JSON.stringify({ key: planted, n: 1 }));
    const tokens = JSON.stringify({ 'sts.amazonaws.com': { token, expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() } });

    const ok = await provider.mount(mountRequest({ tokens, params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n  jmesPath:\n    - path: key\n      objectAlias: k\n`) }));
    expect(filesAsText(ok).k).toBe(planted);
    const errors: string[] = [];
    for (const path_ of ['n', 'missing', 'key.sub']) {
      await provider.mount(mountRequest({ tokens, params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n  jmesPath:\n    - path: ${path_}\n      objectAlias: k\n`) }))
        .catch((e) => errors.push(e.details));
    }
    await provider.mount(mountRequest({ tokens: 'not json ' + token, params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n`) }))
      .catch((e) => errors.push(e.details));

    expect(errors).toHaveLength(4);
    await provider.settledMountLogs();
    for (const text of [provider.output, ...errors]) {
      expect(text).not.toContain(planted);
      expect(text).not.toContain(token);
    }
  });

  test('one JSON log line per mount with pod, class, region, role, counts, duration and outcome', async () => {
    const name = unique('logged');
    await MotoData.createSecret(name, 'x');
    // (earlier tests' lines may still be on their way: count once every mount sent has logged)
    const before = (await provider.settledMountLogs()).length;
    await provider.mount(mountRequest({ pod: 'logged-pod', params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n`) }));
    const line = await provider.waitForLog((l) => l.pod === 'logged-pod');
    expect((await provider.settledMountLogs()).length).toBe(before + 1);
    expect(line).toMatchObject({
      level: 30,
      namespace: 'default',
      serviceAccount: 'app',
      class: 'aws-secrets',
      region: 'us-east-1',
      identity: 'irsa',
      role: 'arn:aws:iam::123456789012:role/app-secrets',
      objects: 1,
      outcome: 'OK',
      awsCalls: expect.any(Number),
      durationMs: expect.any(Number),
    });
    expect(line.warnings).toBeUndefined();
  });

  test('unknown object fields are warnings in the mount log line (level warn), naming the field, never values', async () => {
    const name = unique('typo');
    await MotoData.createSecret(name, 'typo-planted-value');
    const response = await provider.mount(mountRequest({ pod: 'typo-pod', params: objects(`- objectName: ${name}\n  objectType: secretsmanager\n  objectAlais: renamed\n`) }));
    expect(filesAsText(response)).toEqual({ [name]: 'typo-planted-value' });
    const line = await provider.waitForLog((l) => l.pod === 'typo-pod');
    expect(line).toMatchObject({ level: 40, msg: 'mount', outcome: 'OK' });
    expect(line.warnings).toEqual([expect.stringMatching(/^objects\[0\].*: has the field "objectAlais", which the provider ignores/)]);
    expect(JSON.stringify(line)).not.toContain('renamed');
    expect(JSON.stringify(line)).not.toContain('typo-planted-value');
  });
});

describe('error messages', () => {
  test('a missing secret: one full stop before the fix', async () => {
    const missing = unique('gone');
    const error = await provider.mount(mountRequest({ params: objects(`- objectName: ${missing}\n  objectType: secretsmanager\n`) })).catch((e) => e);
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toMatch(/ResourceNotFoundException: .*[^.]\. Fix: /);
    expect(error.details).not.toContain('.. Fix');
  });

  test('350 missing secrets: NOT_FOUND with the first objects, in order, within 8 KB; the connection keeps working', async () => {
    // GIVEN a class with 350 secrets that do not exist (> 70 KB of error text in full)
    const names = Array.from({ length: 350 }, (_, i) => `${unique('absent')}-${String(i).padStart(3, '0')}`);
    const request = mountRequest({ pod: 'many-missing', params: objects(names.map((n) => `- objectName: ${n}\n  objectType: secretsmanager\n`).join('')) });

    // WHEN mounted
    const error = await provider.mount(request, 20_000).catch((e) => e);

    // THEN the client gets the status (not DEADLINE_EXCEEDED), objects[0..] first, a note on the rest
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toMatch(/^350 objects failed:\n- secret "[^"]+-000" in us-east-1/);
    expect(error.details.indexOf(`"${names[1]}"`)).toBeGreaterThan(error.details.indexOf(`"${names[0]}"`));
    expect(error.details).toMatch(/\n- … and \d+ more problems \(see the provider log\)$/);
    expect(encodeURI(error.details).length).toBeLessThanOrEqual(8192);
    expect(error.details).not.toContain(names[349]);
    // AND the log line has the full message; the same client still works
    const line = await provider.waitForLog((l) => l.pod === 'many-missing');
    expect(line.error).toContain(names[349]);
    await expect(provider.version()).resolves.toMatchObject({ version: 'v1alpha1' });
  });
});
