import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { AwsProxy } from './aws-proxy';
import { MotoData, mountRequest, startCluster, unique } from './fixtures';
import { ProviderProcess } from './harness';

describe('provider process', () => {
  test('serves Version on <dir>/<name>.sock, replacing a stale socket; SIGTERM removes it', async () => {
    // GIVEN a stale socket file left by a crashed provider
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stale-'));
    const stale = net.createServer().listen(path.join(dir, 'custom.sock'));
    await new Promise((r) => stale.once('listening', r));
    stale.close();
    fs.writeFileSync(path.join(dir, 'keep.txt'), '');
    const server = net.createServer().listen(path.join(dir, 'custom.sock'));
    await new Promise((r) => server.once('listening', r));
    // (a socket file with nobody behind it once this listener is gone without unlinking)
    (server as any)._handle.close();

    const provider = await ProviderProcess.start({ socketDir: dir, providerName: 'custom' });
    expect(await provider.version()).toEqual({ version: 'v1alpha1', runtimeName: 'cdk-eks-secrets-store-provider', runtimeVersion: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(await provider.signal('SIGTERM')).toBe(0);
    expect(fs.existsSync(path.join(dir, 'custom.sock'))).toBe(false);
    await provider.stop();
    fs.rmSync(dir, { recursive: true });
  });

  test('a second provider on the same socket refuses to start; the running one keeps serving', async () => {
    const first = await ProviderProcess.start({ providerName: 'shared' });
    try {
      const { code, output } = await ProviderProcess.runToExit(['--socket-dir', first.socketDir, '--provider-name', 'shared']);
      expect(code).not.toBe(0);
      expect(output).toContain(`${first.socketPath} is in use: another provider is serving on it.`);
      expect(output).toMatch(/Fix: stop the other provider first, or start this one with another --provider-name/);
      expect(fs.existsSync(first.socketPath)).toBe(true);
      await expect(first.version()).resolves.toMatchObject({ version: 'v1alpha1' });
    } finally {
      await first.stop();
    }
  });

  test('on SIGTERM, a socket that another process has since replaced is left alone', async () => {
    const provider = await ProviderProcess.start({ providerName: 'replaced' });
    // GIVEN another listener that took the path over (after removing ours)
    fs.rmSync(provider.socketPath);
    const other = net.createServer().listen(provider.socketPath);
    await new Promise((r) => other.once('listening', r));
    try {
      // WHEN the first provider stops
      expect(await provider.signal('SIGTERM')).toBe(0);
      // THEN the other one's socket is still there and answers
      expect(fs.existsSync(provider.socketPath)).toBe(true);
      await new Promise<void>((resolve, reject) => net.createConnection(provider.socketPath).once('connect', function (this: net.Socket) {
        this.destroy();
        resolve();
      }).once('error', reject));
    } finally {
      other.close();
      await provider.stop();
    }
  });

  test('a mount with more than 10 AWS calls leaves stderr empty (no MaxListenersExceededWarning, no plain-text warnings)', async () => {
    const kube = await startCluster();
    // (the SDK's Node-version notice is not silenced here: it must not reach stderr either)
    const env = { AWS_ENDPOINT_URL: process.env.MOTO_ENDPOINT, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: undefined };
    const provider = await ProviderProcess.start({ kube, env });
    try {
      // GIVEN 12 secrets pinned to their versions: one GetSecretValue each
      const names = Array.from({ length: 12 }, (_, i) => unique(`pin${i}`));
      const versions = await Promise.all(names.map((n) => MotoData.createSecret(n, 'v')));
      const objects = names.map((n, i) => `- objectName: ${n}\n  objectType: secretsmanager\n  objectVersion: ${versions[i].versionId}\n`).join('');
      const response = await provider.mount(mountRequest({ params: { objects } }));
      expect(response.files).toHaveLength(12);
      const [line] = await provider.settledMountLogs();
      expect(line.awsCallsByAction['secretsmanager:GetSecretValue']).toBe(12);
      await new Promise((r) => setImmediate(r));
      expect(provider.stderr).toBe('');
      expect(provider.output).not.toContain('MaxListenersExceededWarning');
      for (const text of provider.output.split('\n').filter(Boolean)) expect(() => JSON.parse(text)).not.toThrow();
    } finally {
      await provider.stop();
      await kube.stop();
    }
  });

  test.each([
    [['--socket-dir', '/does/not/exist'], {}, '--socket-dir /does/not/exist is not a directory'],
    [['--socket-dir', os.tmpdir(), '--max-concurrency', '0'], {}, '--max-concurrency must be a positive integer'],
    [['--socket-dir', os.tmpdir(), '--provider-name', '../x'], {}, 'must be a plain name'],
    [['--socket-dir', os.tmpdir()], { LOG_LEVEL: 'loud' }, 'LOG_LEVEL is "loud"'],
    [['--socket-dir', os.tmpdir()], { KUBECONFIG: '/nope/kubeconfig' }, 'KUBECONFIG names /nope/kubeconfig'],
  ])('invalid configuration %j stops start-up with a clear message', async (args, env, message) => {
    const { code, output } = await ProviderProcess.runToExit(args, env);
    expect(code).not.toBe(0);
    expect(output).toContain(message);
  });

  test('a mount past its deadline is cancelled and its AWS calls aborted; SIGTERM lets in-flight mounts finish', async () => {
    const proxy = await new AwsProxy(process.env.MOTO_ENDPOINT!).start();
    const kube = await startCluster();
    const provider = await ProviderProcess.start({ kube, env: { AWS_ENDPOINT_URL: proxy.url, AWS_MAX_ATTEMPTS: '1' } });
    try {
      const name = unique('slow');
      await MotoData.createSecret(name, 'slow-value');
      const params = { objects: `- objectName: ${name}\n  objectType: secretsmanager\n` };
      proxy.delayMs = 1500;

      // deadline shorter than the AWS delay
      await expect(provider.mount(mountRequest({ params }), 400)).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
      const line = await provider.waitForLog((l) => l.outcome === 'CANCELLED', 3000);
      expect(line.durationMs).toBeLessThan(1400);

      // in flight during SIGTERM: still answered
      const inflight = provider.mount(mountRequest({ params }));
      await new Promise((r) => setTimeout(r, 200));
      const exited = provider.signal('SIGTERM');
      await expect(inflight).resolves.toMatchObject({ files: [expect.objectContaining({ path: name })] });
      expect(await exited).toBe(0);
    } finally {
      await provider.stop();
      await kube.stop();
      await proxy.stop();
    }
  });

  test('metrics: mounts by outcome, duration, AWS calls by service and action', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const kube = await startCluster();
    const provider = await ProviderProcess.start({ kube, env: { AWS_ENDPOINT_URL: process.env.MOTO_ENDPOINT }, args: ['--metrics-port', String(port)] });
    try {
      const name = unique('metric');
      await MotoData.createSecret(name, 'm');
      await provider.mount(mountRequest({ params: { objects: `- objectName: ${name}\n  objectType: secretsmanager\n` } }));
      await provider.mount(mountRequest({ params: { objects: `- objectName: ${name}-missing\n  objectType: secretsmanager\n` } })).catch(() => undefined);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/secrets_store_provider_mounts_total\{outcome="ok"\} 1/);
      expect(text).toMatch(/secrets_store_provider_mounts_total\{outcome="NOT_FOUND"\} 1/);
      expect(text).toMatch(/secrets_store_provider_mount_duration_seconds_count\{outcome="ok"\} 1/);
      expect(text).toMatch(/secrets_store_provider_aws_calls_total\{service="secretsmanager",action="BatchGetSecretValue"\} 2/);
      expect(text).toMatch(/secrets_store_provider_aws_calls_total\{service="sts",action="AssumeRoleWithWebIdentity"\} \d/);
    } finally {
      await provider.stop();
      await kube.stop();
    }
  });

  test('--write-files writes every file into the target path with its mode, swapping whole sets atomically', async () => {
    const kube = await startCluster();
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'target-'));
    const provider = await ProviderProcess.start({ kube, env: { AWS_ENDPOINT_URL: process.env.MOTO_ENDPOINT }, args: ['--write-files', 'true'] });
    try {
      const name = unique('written');
      await MotoData.createSecret(name, '{"u":"x"}');
      await provider.mount(mountRequest({ targetPath: target, params: { objects: `- objectName: ${name}\n  objectType: secretsmanager\n  objectAlias: s\n  filePermission: "0600"\n  jmesPath:\n    - path: u\n      objectAlias: u\n` } }));
      expect(fs.readFileSync(path.join(target, 's'), 'utf8')).toBe('{"u":"x"}');
      expect(fs.readFileSync(path.join(target, 'u'), 'utf8')).toBe('x');
      expect((fs.statSync(path.join(target, 's')).mode % 0o1000).toString(8)).toBe('600');
      const visible = () => fs.readdirSync(target).filter((f) => !f.startsWith('..')).sort();
      expect(visible()).toEqual(['s', 'u']);
      const firstSet = fs.readlinkSync(path.join(target, '..data'));

      // AND a remount with another set swaps ..data to a new directory, drops the name no longer mounted and the old set
      await MotoData.rotateSecret(name, '{"u":"y"}');
      await provider.mount(mountRequest({ targetPath: target, params: { objects: `- objectName: ${name}\n  objectType: secretsmanager\n  objectAlias: s\n` } }));
      expect(visible()).toEqual(['s']);
      expect(fs.readFileSync(path.join(target, 's'), 'utf8')).toBe('{"u":"y"}');
      expect(fs.readlinkSync(path.join(target, '..data'))).not.toBe(firstSet);
      expect(fs.existsSync(path.join(target, firstSet))).toBe(false);
      expect(fs.readdirSync(target).filter((f) => f.startsWith('..')).length).toBe(2); // ..data and the current set
    } finally {
      await provider.stop();
      await kube.stop();
      fs.rmSync(target, { recursive: true });
    }
  });
});
