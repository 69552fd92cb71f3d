/**
 * Provider benchmark: prints figures, asserts nothing. Run: `npm run bench`
 * (or `npx ts-node --transpile-only provider/bench/bench.ts`). Uses moto (or
 * MOTO_ENDPOINT), the Kubernetes API stand-in and the recording AWS proxy of
 * the tests, and the bundled provider as its own process.
 * Environment: BENCH_NODE_FLAGS (node flags before the bundle; default: those of
 * the image's ENTRYPOINT), BENCH_BUNDLE (another build to compare with), BENCH_DELAY_MS, BENCH_SAMPLES, BENCH_SETTLE_S.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AwsProxy } from '../../test/provider/aws-proxy';
import { MotoData, mountRequest, startCluster, tokensAttribute, unique } from '../../test/provider/fixtures';
import { BUNDLE, ProviderProcess } from '../../test/provider/harness';
import { KubeApiStandIn } from '../../test/support/kube-api';
import { startMoto } from '../../test/support/moto';

const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 20);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30);
/** The node flags of the image's ENTRYPOINT in provider/Dockerfile, so the figures are the image's. */
function imageNodeFlags(): string[] {
  const dockerfile = fs.readFileSync(path.join(__dirname, '..', 'Dockerfile'), 'utf8');
  const entrypoint = dockerfile.split('\n').find((line) => line.startsWith('ENTRYPOINT'));
  const argv: string[] = entrypoint ? JSON.parse(entrypoint.slice('ENTRYPOINT'.length)) : [];
  return argv.slice(1).filter((arg) => arg.startsWith('--'));
}

/** Node flags before the bundle. @default - those of the image's command */
const NODE_FLAGS = process.env.BENCH_NODE_FLAGS !== undefined
  ? process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean)
  : imageNodeFlags();
/** The bundle to run, e.g. an older build to compare with. @default provider/dist/main.js */
const BUNDLE_PATH = process.env.BENCH_BUNDLE ? path.resolve(process.env.BENCH_BUNDLE) : BUNDLE;
/** Seconds to wait for the idle figure after start-up: V8 shrinks the heap once the process is idle (~10 s). */
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 15);

function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(field))!;
  return Math.round(Number(line.split(/\s+/)[1]) / 1024 * 10) / 10;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] * 10) / 10;
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= 'us-east-1';
  const moto = await startMoto();
  process.env.MOTO_ENDPOINT = moto.endpoint;
  const proxy = await new AwsProxy(moto.endpoint).start();
  const kube: KubeApiStandIn = await startCluster();
  const started = Date.now();
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const provider = await ProviderProcess.start({
    kube,
    socketDir,
    command: [...NODE_FLAGS, BUNDLE_PATH, '--socket-dir', socketDir],
    env: { AWS_ENDPOINT_URL: proxy.url, LOG_LEVEL: 'info', NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS },
  });
  const readyMs = provider.logs.find((l) => l.msg === 'listening')?.startupMs;
  console.log(`node ${[...NODE_FLAGS, path.relative(process.cwd(), BUNDLE_PATH)].join(' ')}`);
  console.log(`start to socket ready: ${readyMs ?? '?'} ms in the process (harness saw ${Date.now() - started} ms incl. spawn and first Version)`);
  await new Promise((r) => setTimeout(r, 500));
  const early = rssMiB(provider.child.pid!, 'VmRSS');
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000 - 500));
  console.log(`idle RSS: ${early} MiB 0.5 s after ready; ${rssMiB(provider.child.pid!, 'VmRSS')} MiB ${SETTLE_S} s after ready (start-up garbage collected)`);
  proxy.delayMs = DELAY_MS;

  console.log(`\nAWS delay ${DELAY_MS} ms per request; ${SAMPLES} samples per latency figure`);
  console.log('objects | first mount aws/kube | 2nd pod same SA aws/kube | rotation remount aws/kube | warm p50 ms | warm p99 ms');
  for (const n of [1, 10, 20, 50]) {
    const names = Array.from({ length: n }, (_, i) => unique(`bench${n}-${i}`));
    await Promise.all(names.map((name) => MotoData.createSecret(name, `value-${name}`)));
    const sa = `sa-${n}`;
    kube.set(`/api/v1/namespaces/default/serviceaccounts/${sa}`, { metadata: { name: sa, namespace: 'default', annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::123456789012:role/bench-${n}` } } });
    const params = { objects: names.map((name) => `- objectName: ${name}\n  objectType: secretsmanager\n`).join('') };
    const count = async (tokens: string) => {
      proxy.reset();
      const k = kube.requests.length;
      await provider.mount(mountRequest({ params, tokens, serviceAccount: sa }));
      return `${proxy.calls.length}/${kube.requests.length - k}`;
    };
    const podA = tokensAttribute({ 'sts.amazonaws.com': unique('pod-a') });
    const first = await count(podA);
    const second = await count(tokensAttribute({ 'sts.amazonaws.com': unique('pod-b') }));
    const rotation = await count(podA);
    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) latencies.push(await timed(() => provider.mount(mountRequest({ params, tokens: podA, serviceAccount: sa }))));
    console.log(`${String(n).padStart(7)} | ${first.padStart(20)} | ${second.padStart(24)} | ${rotation.padStart(25)} | ${String(percentile(latencies, 50)).padStart(11)} | ${String(percentile(latencies, 99)).padStart(11)}`);
  }

  console.log(`\nRSS after the mounts above (Kubernetes and SDK clients loaded): ${rssMiB(provider.child.pid!, 'VmRSS')} MiB`);

  // Peak RSS: 100 concurrent mounts of 10 objects, each pod with its own token.
  const names = Array.from({ length: 10 }, (_, i) => unique(`load-${i}`));
  await Promise.all(names.map((name) => MotoData.createSecret(name, 'x'.repeat(1024))));
  const params = { objects: names.map((name) => `- objectName: ${name}\n  objectType: secretsmanager\n`).join('') };
  const wall = await timed(() => Promise.all(Array.from({ length: 100 }, (_, i) =>
    provider.mount(mountRequest({ params, pod: `load-${i}`, tokens: tokensAttribute({ 'sts.amazonaws.com': unique('load') }) })))));
  console.log(`\n100 concurrent mounts x 10 objects: ${Math.round(wall)} ms wall; peak RSS (VmHWM) ${rssMiB(provider.child.pid!, 'VmHWM')} MiB; RSS after ${rssMiB(provider.child.pid!, 'VmRSS')} MiB`);

  await provider.stop();
  fs.rmSync(socketDir, { recursive: true, force: true });
  await kube.stop();
  await proxy.stop();
  moto.process?.kill();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
