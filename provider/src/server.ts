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

/**
 * The most status details a client is sent, as sent: grpc-js percent-encodes them
 * (encodeURI) into the grpc-message trailer, and HTTP/2 peers limit the size of
 * a header list: a larger trailer never arrives, the call runs into its deadline
 * and the connection may stay stuck. The log line keeps the full message.
 */
export const MAX_STATUS_DETAILS = 8 * 1024;

/**
 * Shortens an error message to at most `limit` characters once percent-encoded:
 * its first lines (the problems listed first: objects[0] first), then how many
 * lines were left out. A single overlong line is cut.
 */
export function capDetails(message: string, limit: number = MAX_STATUS_DETAILS): string {
  // encodeURI (in grpc-js too) throws on a lone surrogate: replace any first.
  message = message.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  const size = (text: string) => encodeURI(text).length;
  if (size(message) <= limit) return message;
  const lines = message.split('\n');
  const note = (n: number) => `\n- … and ${n} more problem${n === 1 ? '' : 's'} (see the provider log)`;
  // Room for the note however many lines are left out.
  const room = limit - size(note(lines.length));
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const cost = size(line) + (kept.length > 0 ? size('\n') : 0);
    if (used + cost > room) break;
    kept.push(line);
    used += cost;
  }
  if (kept.length === 0) return cutLine(lines[0], limit, size);
  return kept.join('\n') + note(lines.length - kept.length);
}

/** Cuts one line to fit `limit` (encoded), marking the cut. */
function cutLine(line: string, limit: number, size: (text: string) => number): string {
  const mark = ' … (cut; see the provider log)';
  // The longest prefix that fits, by bisection (encoding makes characters cost 1 to 12).
  // A prefix never ends inside a surrogate pair.
  const prefix = (n: number) => line.slice(0, /[\uD800-\uDBFF]/.test(line.charAt(n - 1)) ? n - 1 : n);
  let low = 0;
  let high = line.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (size(prefix(mid) + mark) <= limit) low = mid;
    else high = mid - 1;
  }
  return prefix(low) + mark;
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
        callback({ code, details: capDetails(error.message) });
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
    else if (summary.warnings) this.options.logger.warn(line, 'mount');
    else this.options.logger.info(line, 'mount');
  }
}
