import { status } from '@grpc/grpc-js';
import { MountError } from './errors';
import { Limiter } from './limiter';
import type { ProviderMetrics } from './metrics';

/** Anything with the AWS SDK v3 `send(command, { abortSignal })` shape. */
export interface SdkClient {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

/**
 * The per-mount context every AWS and Kubernetes call goes through: it carries
 * the mount's abort signal, bounds concurrency (per mount and overall) and
 * counts calls for the mount's log line and the metrics.
 */
export class CallContext {
  /** AWS calls by `service:Action`. */
  public readonly aws: Record<string, number> = {};
  /** Kubernetes API reads (cache misses) by resource. */
  public readonly kube: Record<string, number> = {};
  private readonly mountLimiter: Limiter;
  /** One controller per call in flight; the mount's signal aborts them all through a single listener. */
  private readonly inFlight = new Set<AbortController>();

  constructor(
    public readonly signal: AbortSignal,
    private readonly globalLimiter: Limiter,
    mountConcurrency: number,
    private readonly metrics?: ProviderMetrics,
  ) {
    this.mountLimiter = new Limiter(mountConcurrency);
    // The SDK adds an abort listener per request and removes it only when the socket closes; on the
    // mount's own signal those pile up (Node warns past 10). Each call gets its own signal instead.
    signal.addEventListener('abort', () => {
      for (const controller of this.inFlight) controller.abort(signal.reason);
    }, { once: true });
  }

  /** Sends one AWS command through both limiters, aborting with the mount. */
  public async send<T>(client: SdkClient, service: string, command: any): Promise<T> {
    const action = command.constructor.name.replace(/Command$/, '');
    return this.mountLimiter.run(() => this.globalLimiter.run(async () => {
      this.throwIfAborted();
      this.aws[`${service}:${action}`] = (this.aws[`${service}:${action}`] ?? 0) + 1;
      this.metrics?.awsCall(service, action);
      return this.withCallSignal((abortSignal) => client.send(command, { abortSignal }) as Promise<T>);
    }));
  }

  /** Runs `task` with a signal of its own that aborts with the mount. */
  public async withCallSignal<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    if (this.signal.aborted) controller.abort(this.signal.reason);
    this.inFlight.add(controller);
    try {
      return await task(controller.signal);
    } finally {
      this.inFlight.delete(controller);
    }
  }

  /** Records one Kubernetes API read. */
  public kubeCall(resource: string): void {
    this.kube[resource] = (this.kube[resource] ?? 0) + 1;
    this.metrics?.kubeCall(resource);
  }

  /** Total AWS calls so far. */
  public get awsTotal(): number {
    return Object.values(this.aws).reduce((a, b) => a + b, 0);
  }

  /** Total Kubernetes reads so far. */
  public get kubeTotal(): number {
    return Object.values(this.kube).reduce((a, b) => a + b, 0);
  }

  public throwIfAborted(): void {
    if (this.signal.aborted) throw new MountError(status.CANCELLED, 'The mount was cancelled or ran past its deadline.', 'Cancelled');
  }
}
