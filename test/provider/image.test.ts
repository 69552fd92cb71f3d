/**
 * The provider image without a Docker engine: the Dockerfile is parsed, its COPY instructions
 * laid out in a directory standing in for the image's file system, and its ENTRYPOINT/CMD
 * started as a process with the environment the bundled mode's DaemonSet sets. That process
 * must answer Version and serve the shared example mount, writing nothing but its socket.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import { filesAsText, MotoData, mountRequest, startCluster, unique } from './fixtures';
import { ensureBundle, ProviderProcess, REPO_ROOT } from './harness';
import { PROVIDERS_DIR, SecretsStore, SecretsStoreInstall } from '../../lib';
import { importedClusterStack, kubernetesObjects } from '../construct/util';
import { writeUp } from '../support/write-up';

const PROVIDER_DIR = path.join(REPO_ROOT, 'provider');
/** Where the base image (distroless nodejs) keeps node; stands for this machine's node. */
const BASE_IMAGE_NODE = '/nodejs/bin/node';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Dockerfile instructions: comments dropped, `\` continuations joined. */
function instructions(file: string): Instruction[] {
  const joined = fs.readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}

/** The exec-form (JSON array) argument of the last such instruction. */
function execForm(all: Instruction[], keyword: string): string[] {
  const found = all.filter((i) => i.keyword === keyword).pop();
  if (!found) return [];
  const value = JSON.parse(found.args);
  expect(Array.isArray(value)).toBe(true);
  return value;
}

/** Lays out the image's COPY instructions under `root`; returns the image paths created. */
function layOutImage(all: Instruction[], root: string): string[] {
  const created: string[] = [];
  for (const copy of all.filter((i) => i.keyword === 'COPY')) {
    const parts = copy.args.split(/\s+/);
    const dest = parts.pop()!;
    expect(dest.endsWith('/')).toBe(true);
    for (const source of parts) {
      const target = path.join(dest, path.basename(source));
      fs.mkdirSync(path.join(root, dest), { recursive: true });
      fs.copyFileSync(path.join(PROVIDER_DIR, source), path.join(root, target));
      created.push(target);
    }
  }
  return created;
}

/** The provider container's environment as the bundled mode synthesizes it. */
function daemonSetEnv(): Record<string, string> {
  const { stack, cluster } = importedClusterStack();
  new SecretsStore(stack, 'Store', { cluster, install: SecretsStoreInstall.bundledProvider({ image: 'provider:test' }) });
  const objects = kubernetesObjects(Template.fromStack(stack));
  const container = objects.find((o: any) => o.kind === 'DaemonSet').spec.template.spec.containers[0];
  return Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
}

/** Every file under `dir` with its size and mtime, to prove nothing was written. */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => path.join(e.parentPath, e.name))
    .map((p) => `${path.relative(dir, p)} ${fs.statSync(p).size} ${fs.statSync(p).mtimeMs}`).sort();
}

describe('provider image', () => {
  const dockerfile = path.join(PROVIDER_DIR, 'Dockerfile');
  const all = instructions(dockerfile);

  test('Dockerfile: one minimal base pinned by tag, only the bundle copied, nothing run, non-root, exec-form command', () => {
    const from = all.filter((i) => i.keyword === 'FROM');
    expect(from).toHaveLength(1);
    expect(from[0].args).toMatch(/^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot$/);
    expect(all.filter((i) => i.keyword === 'RUN')).toEqual([]);
    expect(all.filter((i) => i.keyword === 'COPY').map((i) => i.args)).toEqual(['dist/main.js dist/kube-client.js dist/ssm-sdk.js dist/csi-provider.proto /opt/provider/']);
    const user = all.filter((i) => i.keyword === 'USER').pop()!.args;
    expect(user).toBe('65532:65532');
    expect(execForm(all, 'ENTRYPOINT')[0]).toBe(BASE_IMAGE_NODE);
    // the build context the construct ships: same files the .dockerignore lets in
    expect(fs.readFileSync(path.join(PROVIDER_DIR, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')))
      .toEqual(['*', '!Dockerfile', '!dist/main.js', '!dist/kube-client.js', '!dist/ssm-sdk.js', '!dist/csi-provider.proto']);
  });

  test('the image command with the DaemonSet environment answers Version and mounts the shared example, writing only its socket', async () => {
    ensureBundle();
    // GIVEN the image's file system, its command, and the DaemonSet's environment
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'image-root-'));
    const imageFiles = layOutImage(all, root);
    expect(imageFiles.sort()).toEqual(['/opt/provider/csi-provider.proto', '/opt/provider/kube-client.js', '/opt/provider/main.js', '/opt/provider/ssm-sdk.js']);
    const command = [...execForm(all, 'ENTRYPOINT'), ...execForm(all, 'CMD')];
    expect(command[0]).toBe(BASE_IMAGE_NODE);
    const argv = command.slice(1).map((arg) => (imageFiles.includes(arg) ? path.join(root, arg) : arg));
    const env = daemonSetEnv();
    expect(env).toEqual({ PROVIDER_SOCKET_DIR: PROVIDERS_DIR, PROVIDER_NAME: 'aws' });
    // the hostPath mount: PROVIDERS_DIR in the container is this directory here
    const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'providers-dir-'));
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'image-home-'));
    const before = snapshot(root);

    const secret = unique('my-db-password');
    await MotoData.createSecret(secret, 'image-example-value');
    const kube = await startCluster();
    const provider = await ProviderProcess.start({
      command: argv,
      socketDir,
      providerName: env.PROVIDER_NAME,
      kube,
      env: {
        ...env,
        PROVIDER_SOCKET_DIR: socketDir,
        AWS_ENDPOINT_URL: process.env.MOTO_ENDPOINT,
        HOME: scratch,
        TMPDIR: scratch,
      },
    });
    try {
      // THEN Version over <socket dir>/aws.sock
      expect(await provider.version()).toMatchObject({ version: 'v1alpha1', runtimeName: 'cdk-eks-secrets-store-provider' });
      expect(fs.readdirSync(socketDir)).toEqual(['aws.sock']);

      // AND the shared example class, with this run's secret name, mounts db-password
      const example = writeUp('secret-provider-class.yaml');
      const objects = parse(example.spec.parameters.objects);
      expect(objects).toEqual([{ objectName: 'my-db-password', objectType: 'secretsmanager', objectAlias: 'db-password' }]);
      objects[0].objectName = secret;
      const response = await provider.mount(mountRequest({ params: { ...example.spec.parameters, objects: JSON.stringify(objects) } }));
      expect(filesAsText(response)).toEqual({ 'db-password': 'image-example-value' });

      // measured, not asserted: resident memory of the image's process after one mount
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${provider.child.pid}/status`, 'utf8'))?.[1];
      console.log(`provider image process: VmRSS ${Math.round(Number(rss) / 1024)} MiB after one mount`);

      // AND nothing written outside the socket directory (read-only root file system)
      expect(snapshot(root)).toEqual(before);
      expect(fs.readdirSync(scratch)).toEqual([]);
    } finally {
      await provider.stop();
      await kube.stop();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    expect(fs.readdirSync(socketDir)).toEqual([]);
    fs.rmSync(socketDir, { recursive: true, force: true });
  });
});
