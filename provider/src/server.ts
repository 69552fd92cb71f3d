import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MountRequestMessage } from './attributes';
import { CallContext } from './calls';
import { MountError } from './errors';
import { Limiter } from './limiter';
import { Logger } from './logging';
import type { ProviderMetrics } from './metrics';
import { mount, MountServices, MountSummary } from './mount';

/** The driver-facing API version this provider speaks. */
export const API_VERSION = 'v1alpha1';
/** Reported as runtime_name. */
export const RUNTIME_NAME = 'cdk-eks-secrets-store-provider';
/** The proto's file name, next to the bundle or in provider/proto. */
export const PROTO_FILE = 'csi-provider.proto';

/** Finds the proto next to the bundle (dist/) or in the source tree (provider/proto). */
export function protoPath(): string {
  const candidates = [path.join(__dirname, PROTO_FILE), path.join(__dirname, '..', 'proto', PROTO_FILE)];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${PROTO_FILE} not found in ${candidates.join(' or ')}. Fix: rebuild with node provider/build.mjs.`);
  return found;
}

/** Loads the CSIDriverProvider service definition. */
export function loadService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(protoPath(), { longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as any;
  return pkg.v1alpha1.CSIDriverProvider.service;
}

/** Settings of the server implementation. */
export interface ProviderServerOptions {
  readonly services: MountServices;
  readonly logger: Logger;
  readonly metrics?: ProviderMetrics;
  /** Concurrent AWS calls across all mounts. @default 64 */
  readonly maxConcurrency?: number;
  /** Concurrent AWS calls within one mount. @default 8 */
  readonly mountConcurrency?: number;
  /** Semver reported as runtime_version. */
  readonly runtimeVersion: string;
}

/** Names a status code for logs and metrics, e.g. NOT_FOUND. */
function statusName(code: grpc.status): string {
  return grpc.status[code] ?? String(code);
}

/** The v1alpha1.CSIDriverProvider implementation: Version and Mount. */
export class ProviderServer {
  private readonly globalLimiter: Limiter;

  constructor(private readonly options: ProviderServerOptions) {
    this.globalLimiter = new Limiter(options.maxConcurrency ?? 64);
  }

  public addToServer(server: grpc.Server): void {
    server.addService(loadService(), {
      Version: this.version.bind(this),
      Mount: this.mount.bind(this),
    });
  }

  private version(_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void {
    callback(null, { version: API_VERSION, runtimeName: RUNTIME_NAME, runtimeVersion: this.options.runtimeVersion });
  }

  private mount(call: grpc.ServerUnaryCall<MountRequestMessage, unknown>, callback: grpc.sendUnaryData<unknown>): void {
    // The call's cancellation (client gone or deadline passed) aborts its AWS calls.
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    const calls = new CallContext(abort.signal, this.globalLimiter, this.options.mountConcurrency ?? 8, this.options.metrics);
    const summary: MountSummary = {};
    const started = process.hrtime.bigint();

    mount(call.request, this.options.services, calls, summary).then(
      (output) => {
        this.finish(summary, calls, started, 'OK');
        callback(null, {
          objectVersion: output.versions,
          files: output.files.map((f) => ({ path: f.path, mode: f.mode, contents: f.contents })),
        });
      },
      (err) => {
        const error = err instanceof MountError ? err : new MountError(grpc.status.INTERNAL, `Unexpected failure: ${(err as Error)?.message}`, 'Internal');
        const code = abort.signal.aborted ? grpc.status.CANCELLED : error.code;
        this.finish(summary, calls, started, statusName(code), error);
        callback({ code, details: error.message });
      },
    );
  }

  /** The one log line per mount, and the mount metrics. */
  private finish(summary: MountSummary, calls: CallContext, started: bigint, outcome: string, error?: MountError): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.options.metrics?.mountDone(outcome === 'OK' ? 'ok' : outcome, seconds);
    const line = {
      ...summary,
      outcome,
      durationMs: Math.round(seconds * 1000),
      awsCalls: calls.awsTotal,
      awsCallsByAction: calls.aws,
      kubeCalls: calls.kubeTotal,
      ...(error ? { reason: error.reason, error: error.message } : {}),
    };
    if (error) this.options.logger.warn(line, 'mount failed');
    else this.options.logger.info(line, 'mount');
  }
}
