import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AwsClients } from './aws-clients';
import { ClusterInfo } from './cluster';
import { CredentialBroker, POD_IDENTITY_ENDPOINTS } from './credentials';
import { checkKubeconfig, KubeClusterReader } from './kube';
import { createLogger, Logger, logProcessWarnings } from './logging';
import type { ProviderMetrics } from './metrics';
import { BatchPermissionMemory, SecretsManagerFetcher } from './secrets-manager';
import { ProviderServer } from './server';
import { SsmFetcher } from './ssm';

// Set by provider/build.mjs from package.json.
declare const __PROVIDER_VERSION__: string | undefined;
const VERSION = typeof __PROVIDER_VERSION__ === 'string' ? __PROVIDER_VERSION__ : '0.0.0-dev';

/** The provider's settings, from flags or environment. */
interface Settings {
  readonly socketDir: string;
  readonly providerName: string;
  readonly metricsPort?: number;
  readonly kubeCacheTtl: number;
  readonly writeFiles: boolean;
  readonly maxConcurrency: number;
  readonly mountConcurrency: number;
  readonly podIdentityEndpointIpv4: string;
  readonly podIdentityEndpointIpv6: string;
  readonly podIdentityTimeout: number;
  readonly batchDeniedTtl: number;
  readonly drainTimeout: number;
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}".`);
    return n;
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`must be a port number (0-65535), got "${value}".`);
  return n;
}

function url(value: string): string {
  try {
    return new URL(value).toString();
  } catch {
    throw new InvalidArgumentError(`must be a URL, got "${value}".`);
  }
}

function bool(value: string): boolean {
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new InvalidArgumentError(`must be true or false, got "${value}".`);
}

function providerName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) throw new InvalidArgumentError(`must be a plain name such as "aws", got "${value}".`);
  return value;
}

/** The command line: every flag also reads an environment variable. */
function program(): Command {
  const opt = (flags: string, description: string, env: string) => new Option(flags, description).env(env);
  return new Command('secrets-store-provider')
    .description('AWS provider for the Secrets Store CSI driver: serves v1alpha1.CSIDriverProvider on <socket-dir>/<provider-name>.sock')
    .version(VERSION)
    .addOption(opt('--socket-dir <dir>', 'providers directory shared with the driver', 'PROVIDER_SOCKET_DIR').default('/var/run/secrets-store-csi-providers'))
    .addOption(opt('--provider-name <name>', 'socket name: the spec.provider of the classes served', 'PROVIDER_NAME').default('aws').argParser(providerName))
    .addOption(opt('--metrics-port <port>', 'serve Prometheus metrics at /metrics on this port, all interfaces (off when unset)', 'PROVIDER_METRICS_PORT').argParser(port))
    .addOption(opt('--kube-cache-ttl <seconds>', 'seconds a Kubernetes read (service account, pod, node) is reused', 'PROVIDER_KUBE_CACHE_TTL').default(30).argParser(positiveInt('--kube-cache-ttl')))
    .addOption(opt('--write-files <bool>', 'also write the files into the target path (atomic swap of the whole set)', 'PROVIDER_WRITE_FILES').default(false).argParser(bool))
    .addOption(opt('--max-concurrency <n>', 'concurrent AWS calls across all mounts', 'PROVIDER_MAX_CONCURRENCY').default(64).argParser(positiveInt('--max-concurrency')))
    .addOption(opt('--mount-concurrency <n>', 'concurrent AWS calls within one mount', 'PROVIDER_MOUNT_CONCURRENCY').default(8).argParser(positiveInt('--mount-concurrency')))
    .addOption(opt('--pod-identity-endpoint-ipv4 <url>', 'EKS Pod Identity agent credentials URL, IPv4', 'POD_IDENTITY_ENDPOINT_IPV4').default(POD_IDENTITY_ENDPOINTS.ipv4).argParser(url))
    .addOption(opt('--pod-identity-endpoint-ipv6 <url>', 'EKS Pod Identity agent credentials URL, IPv6', 'POD_IDENTITY_ENDPOINT_IPV6').default(POD_IDENTITY_ENDPOINTS.ipv6).argParser(url))
    .addOption(opt('--pod-identity-timeout <ms>', 'milliseconds one request to the Pod Identity agent may take', 'PROVIDER_POD_IDENTITY_TIMEOUT_MS').default(2000).argParser(positiveInt('--pod-identity-timeout')))
    .addOption(opt('--batch-denied-ttl <seconds>', 'seconds a role denied BatchGetSecretValue uses GetSecretValue only', 'PROVIDER_BATCH_DENIED_TTL').default(600).argParser(positiveInt('--batch-denied-ttl')))
    .addOption(opt('--drain-timeout <seconds>', 'seconds in-flight mounts may take to finish after SIGTERM/SIGINT', 'PROVIDER_DRAIN_TIMEOUT').default(30).argParser(positiveInt('--drain-timeout')))
    .showHelpAfterError();
}

/** True when something accepts connections on the unix socket `socket`; false when nothing does (stale). */
function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socket);
    connection.once('connect', () => {
      connection.destroy();
      resolve(true);
    });
    connection.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new Error(`Cannot tell whether ${socket} is in use: ${err.message}. Fix: check the permissions of --socket-dir.`));
    });
  });
}

/**
 * The socket path, after checking the directory. A socket left by a provider
 * that is gone is removed; one that still answers belongs to a running
 * provider, which this one must not take over.
 */
async function prepareSocket(settings: Settings): Promise<string> {
  if (!fs.existsSync(settings.socketDir) || !fs.statSync(settings.socketDir).isDirectory()) {
    throw new Error(`--socket-dir ${settings.socketDir} is not a directory. Fix: mount the providers directory (hostPath) there, or pass another --socket-dir.`);
  }
  const socket = path.join(path.resolve(settings.socketDir), `${settings.providerName}.sock`);
  const stat = fs.lstatSync(socket, { throwIfNoEntry: false });
  if (stat && !stat.isSocket()) throw new Error(`${socket} exists and is not a socket. Fix: remove it or choose another --socket-dir.`);
  if (stat && (await socketAnswers(socket))) {
    throw new Error(`${socket} is in use: another provider is serving on it. `
      + 'Fix: stop the other provider first, or start this one with another --provider-name (and use that name as spec.provider in its SecretProviderClasses).');
  }
  if (stat) fs.unlinkSync(socket);
  return socket;
}

/**
 * Binds the server to `socket` through a private name that is then renamed into
 * place: on close, the runtime unlinks the path it bound, which is then our own
 * private name, never whatever may sit at `socket` by then. Returns the socket's identity.
 */
async function bindSocket(server: grpc.Server, socket: string): Promise<fs.Stats> {
  const privateName = path.join(path.dirname(socket), `.${process.pid}.sock`);
  fs.rmSync(privateName, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${privateName}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  fs.renameSync(privateName, socket);
  return fs.lstatSync(socket);
}

/** Removes the socket only if it is still the one this process created (another provider may have replaced it since). */
function removeOwnSocket(socket: string, ours: fs.Stats): void {
  const now = fs.lstatSync(socket, { throwIfNoEntry: false });
  if (now && now.ino === ours.ino && now.dev === ours.dev) fs.rmSync(socket, { force: true });
}

function wire(settings: Settings, logger: Logger, metrics?: ProviderMetrics) {
  const clients = new AwsClients({ maxSockets: settings.maxConcurrency });
  const services = {
    cluster: new ClusterInfo(new KubeClusterReader(), settings.kubeCacheTtl * 1000),
    credentials: new CredentialBroker(clients, {
      podIdentityEndpoints: { ipv4: settings.podIdentityEndpointIpv4, ipv6: settings.podIdentityEndpointIpv6 },
      podIdentityTimeoutMs: settings.podIdentityTimeout,
    }),
    secrets: new SecretsManagerFetcher(clients, new BatchPermissionMemory(settings.batchDeniedTtl * 1000)),
    parameters: new SsmFetcher(clients),
    defaultRegion: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined,
    writeFiles: settings.writeFiles,
  };
  const provider = new ProviderServer({
    services,
    logger,
    metrics,
    runtimeVersion: VERSION,
    maxConcurrency: settings.maxConcurrency,
    mountConcurrency: settings.mountConcurrency,
  });
  return { clients, provider };
}

async function main(): Promise<void> {
  const settings = program().parse(process.argv).opts<Settings>();
  const logger = createLogger();
  // Node's warnings go into the JSON log, not onto stderr as plain text.
  logProcessWarnings(logger);
  checkKubeconfig();
  const socket = await prepareSocket(settings);
  // prom-client is loaded only when metrics are asked for: it costs memory otherwise unused.
  const metrics = settings.metricsPort !== undefined ? new (await import('./metrics.js')).ProviderMetrics() : undefined;
  const metricsServer = metrics ? await metrics.serve(settings.metricsPort!) : undefined;
  const { clients, provider } = wire(settings, logger, metrics);

  // Serve on the unix socket; the driver finds it by name in the shared directory.
  const server = new grpc.Server({ 'grpc.max_send_message_length': 16 * 1024 * 1024 });
  provider.addToServer(server);
  const ownSocket = await bindSocket(server, socket);
  logger.info({ socket, version: VERSION, metricsPort: settings.metricsPort, writeFiles: settings.writeFiles, startupMs: Math.round(process.uptime() * 1000) }, 'listening');

  // SIGTERM/SIGINT: stop taking calls, let in-flight mounts finish (bounded), remove the socket if still ours.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => server.forceShutdown(), settings.drainTimeout * 1000).unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      removeOwnSocket(socket, ownSocket);
      metricsServer?.close();
      clients.destroy();
      logger.info('stopped');
      logger.flush();
      process.exitCode = 0;
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  // Invalid configuration stops start-up with the reason, not a stack trace.
  process.stderr.write(`secrets-store-provider: ${(err as Error).message}\n`);
  process.exit(1);
});
