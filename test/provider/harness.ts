/**
 * Test harness for the provider: builds the bundle once, starts
 * `node provider/dist/main.js --socket-dir <mkdtemp>` as its own process (as
 * the image does), and talks to it with a real @grpc/grpc-js client over the
 * unix socket. Reused by the provider, image and end-to-end tests.
 *
 *   const provider = await ProviderProcess.start({ env: { AWS_ENDPOINT_URL: moto } , kube });
 *   const response = await provider.mount(mountRequest({ ... }));
 *   await provider.stop();
 */
/* eslint-disable @typescript-eslint/member-ordering -- the static factories sit next to the constructor they call */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ensureBundles, REPO_ROOT } from '../support/bundle';
import type { KubeApiStandIn } from '../support/kube-api';

export { REPO_ROOT };

export const BUNDLE = path.join(REPO_ROOT, 'provider', 'dist', 'main.js');
const PROTO = path.join(REPO_ROOT, 'provider', 'proto', 'csi-provider.proto');

/** Builds the bundles with provider/build.mjs when they are missing or stale (PROVIDER_REBUILD=1 forces it). */
export function ensureBundle(): string {
  ensureBundles();
  return BUNDLE;
}

/** A MountRequest as the client sends it (proto-loader camelCase). */
export interface MountRequest {
  attributes: string;
  secrets: string;
  targetPath: string;
  permission: string;
  currentObjectVersion?: Array<{ id: string; version: string }>;
}

/** A MountResponse as the client receives it. */
export interface MountResponse {
  objectVersion: Array<{ id: string; version: string }>;
  error: { code: string } | null;
  files: Array<{ path: string; mode: number; contents: Buffer }>;
}

/** How to start the provider. */
export interface ProviderStartOptions {
  /** Extra environment; `undefined` values remove a variable. The provider's own AWS keys are removed by default. */
  readonly env?: Record<string, string | undefined>;
  /** Extra command-line arguments. */
  readonly args?: string[];
  /** A Kubernetes API stand-in: KUBECONFIG points at it. */
  readonly kube?: KubeApiStandIn;
  /** Socket directory. @default a fresh mkdtemp directory, removed by stop() */
  readonly socketDir?: string;
  /** @default 'aws' */
  readonly providerName?: string;
  /** Also echo the provider's output to this process's stderr (debugging). @default false */
  readonly echo?: boolean;
  /**
   * The arguments after `node`, replacing `<bundle> --socket-dir <dir> --provider-name <name> ...args`
   * (e.g. an image's command); the socket directory and name must then reach the provider another way
   * (environment), and `socketDir`/`providerName` say where to find the socket.
   * @default - the bundle with --socket-dir and --provider-name
   */
  readonly command?: string[];
}

function loadClientConstructor(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(PROTO, { longs: String, enums: String, defaults: true, oneofs: true });
  return (grpc.loadPackageDefinition(definition) as any).v1alpha1.CSIDriverProvider;
}

/** The provider running as a separate process, with a client on its socket. */
export class ProviderProcess {
  /** Every stdout/stderr byte, for "never logged" checks. */
  public output = '';
  /** Everything written to stderr (the provider logs JSON to stdout; stderr stays empty in normal operation). */
  public stderr = '';
  /** Parsed JSON log lines. */
  public readonly logs: Array<Record<string, any>> = [];
  public readonly client: grpc.Client & Record<string, any>;
  /** Mount calls sent so far: each one that reaches the provider ends in exactly one mount log line. */
  private mountCalls = 0;
  private exited: Promise<number | null>;

  private constructor(
    public readonly child: ChildProcess,
    public readonly socketDir: string,
    public readonly socketPath: string,
    private readonly ownsDir: boolean,
  ) {
    const Client = loadClientConstructor();
    this.client = new Client(`unix://${socketPath}`, grpc.credentials.createInsecure()) as any;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts the bundle and waits until the socket answers Version. */
  public static async start(options: ProviderStartOptions = {}): Promise<ProviderProcess> {
    ensureBundle();
    const ownsDir = !options.socketDir;
    const socketDir = options.socketDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'provider-'));
    const name = options.providerName ?? 'aws';
    const env: Record<string, string | undefined> = {
      ...process.env,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_EC2_METADATA_DISABLED: 'true',
      LOG_LEVEL: 'info',
      ...(options.kube ? { KUBECONFIG: options.kube.kubeconfigPath } : {}),
      ...options.env,
    };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    const argv = options.command ?? [BUNDLE, '--socket-dir', socketDir, '--provider-name', name, ...(options.args ?? [])];
    const child = spawn(process.execPath, argv, {
      env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const provider = new ProviderProcess(child, socketDir, path.join(socketDir, `${name}.sock`), ownsDir);
    provider.capture(options.echo ?? false);
    await provider.waitReady();
    return provider;
  }

  /** Runs the provider to exit (for start-up failures); returns exit code and output. */
  public static async runToExit(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; output: string }> {
    ensureBundle();
    const child = spawn(process.execPath, [BUNDLE, ...args], { env: { ...process.env, ...env } as NodeJS.ProcessEnv });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, output };
  }

  private capture(echo: boolean): void {
    let pending = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output += text;
      if (echo) process.stderr.write(text);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line));
        } catch {
          // not a JSON log line (e.g. a start-up error): kept in `output` only
        }
      }
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      onData(chunk);
    });
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`provider exited with ${this.child.exitCode}:\n${this.output}`);
      if (fs.existsSync(this.socketPath)) {
        try {
          await this.version();
          return;
        } catch {
          // not serving yet
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`provider did not become ready:\n${this.output}`);
  }

  public version(): Promise<{ version: string; runtimeName: string; runtimeVersion: string }> {
    return this.unary('Version', { version: 'v1alpha1' }, 5000);
  }

  /** Calls Mount; rejects with the grpc ServiceError (code, details) on failure. */
  public mount(request: MountRequest, timeoutMs = 30_000): Promise<MountResponse> {
    this.mountCalls++;
    return this.unary('Mount', request, timeoutMs);
  }

  /**
   * The mount log lines once every Mount sent so far has logged its line (the
   * line travels on another pipe than the answer, so it may arrive after it).
   */
  public async settledMountLogs(timeoutMs = 5000): Promise<Array<Record<string, any>>> {
    await this.waitForLog(() => this.mountLogs().length >= this.mountCalls, timeoutMs);
    return this.mountLogs();
  }

  /** Mount log lines (one per mount call). */
  public mountLogs(): Array<Record<string, any>> {
    return this.logs.filter((l) => l.msg === 'mount' || l.msg === 'mount failed');
  }

  /** Waits until a log line matching `predicate` appears. */
  public async waitForLog(predicate: (line: Record<string, any>) => boolean, timeoutMs = 5000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = this.logs.find(predicate);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no matching log line; output:\n${this.output}`);
  }

  private unary<T>(method: string, request: unknown, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) =>
      this.client[method](request, { deadline: new Date(Date.now() + timeoutMs) }, (err: grpc.ServiceError | null, res: T) =>
        (err ? reject(err) : resolve(res))));
  }

  /** Sends a signal and waits for exit; returns the exit code. */
  public async signal(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }

  /** Stops the provider (SIGTERM), closes the client, removes the socket directory it created. */
  public async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.ownsDir) fs.rmSync(this.socketDir, { recursive: true, force: true });
  }
}
