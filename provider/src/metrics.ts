import * as http from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The provider's Prometheus metrics, in a registry of their own. */
export class ProviderMetrics {
  public readonly registry = new Registry();
  private readonly mounts: Counter<'outcome'>;
  private readonly duration: Histogram<'outcome'>;
  private readonly awsCalls: Counter<'service' | 'action'>;
  private readonly kubeCalls: Counter<'resource'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'secrets_store_provider_' });
    this.mounts = new Counter({
      name: 'secrets_store_provider_mounts_total',
      help: 'Mount calls by outcome (ok or the gRPC status name).',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'secrets_store_provider_mount_duration_seconds',
      help: 'Mount call duration.',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.awsCalls = new Counter({
      name: 'secrets_store_provider_aws_calls_total',
      help: 'AWS API calls by service and action.',
      labelNames: ['service', 'action'],
      registers: [this.registry],
    });
    this.kubeCalls = new Counter({
      name: 'secrets_store_provider_kube_calls_total',
      help: 'Kubernetes API reads by resource (cache misses).',
      labelNames: ['resource'],
      registers: [this.registry],
    });
  }

  public mountDone(outcome: string, seconds: number): void {
    this.mounts.inc({ outcome });
    this.duration.observe({ outcome }, seconds);
  }

  public awsCall(service: string, action: string): void {
    this.awsCalls.inc({ service, action });
  }

  public kubeCall(resource: string): void {
    this.kubeCalls.inc({ resource });
  }

  /** Serves `/metrics` on `port` (all interfaces); resolves once listening. */
  public async serve(port: number): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      if (req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err) => res.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, resolve);
    });
    return server;
  }
}
