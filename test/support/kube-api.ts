import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { LoopbackServer } from './loopback';

/** A request the stand-in received. */
export interface KubeRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/api/v1/namespaces/default/serviceaccounts/app`. */
  readonly path: string;
  readonly query: URLSearchParams;
}

/** What a custom handler answers; `undefined` falls through to the object map. */
export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
  /** Plain text body (e.g. pod logs); `body` is ignored when set. */
  readonly text?: string;
}

export type KubeHandler = (request: KubeRequest) => KubeResponse | undefined;

/**
 * A Kubernetes API server stand-in on 127.0.0.1: serves JSON objects by exact
 * path (GET), answers 404 with a Kubernetes `Status` otherwise, records every
 * request, and writes a kubeconfig that points at itself.
 */
export class KubeApiStandIn {
  public readonly requests: KubeRequest[] = [];
  private readonly objects = new Map<string, unknown>();
  private readonly handlers: KubeHandler[] = [];
  private readonly listener = new LoopbackServer('KubeApiStandIn', (req, _body, res) => this.answer(req, res));
  private dir?: string;
  private _kubeconfigPath?: string;

  constructor(objects: Record<string, unknown> = {}) {
    for (const [p, body] of Object.entries(objects)) this.objects.set(p, body);
  }

  /** Serve `body` at `path` (exact match, GET). */
  public set(objectPath: string, body: unknown): void {
    this.objects.set(objectPath, body);
  }

  public remove(objectPath: string): void {
    this.objects.delete(objectPath);
  }

  /** Add a handler consulted before the object map (for lists, logs, errors). */
  public addHandler(handler: KubeHandler): void {
    this.handlers.push(handler);
  }

  /**
   * Serve a list at `collectionPath` (GET), filtered like the API server by
   * equality `fieldSelector` (dotted paths, e.g. `spec.nodeName=node-1`) and
   * equality `labelSelector` (e.g. `app=x,tier=y`).
   */
  public serveList(collectionPath: string, items: unknown[] | (() => unknown[]), kind = 'List'): void {
    this.addHandler((request) => {
      if (request.method !== 'GET' || request.path !== collectionPath) return undefined;
      const all = typeof items === 'function' ? items() : items;
      const selected = all.filter((item) => matchesSelectors(item, request.query));
      return { status: 200, body: { kind, apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: selected } };
    });
  }

  /** Serve `text` as the log of one container of a pod (`GET .../pods/<pod>/log?container=<c>`). */
  public serveLog(namespace: string, pod: string, container: string, text: string): void {
    this.addHandler((request) => {
      const logPath = `/api/v1/namespaces/${namespace}/pods/${pod}/log`;
      if (request.path !== logPath || (request.query.get('container') ?? container) !== container) return undefined;
      const tail = Number(request.query.get('tailLines') ?? 0);
      const lines = text.split('\n');
      return { status: 200, body: undefined, text: tail > 0 ? lines.slice(-tail).join('\n') : text };
    });
  }

  /** Requests whose path starts with `prefix`. */
  public requestsTo(prefix: string): KubeRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  public get url(): string {
    return this.listener.url;
  }

  public get kubeconfigPath(): string {
    if (!this._kubeconfigPath) throw new Error('KubeApiStandIn is not started');
    return this._kubeconfigPath;
  }

  public async start(): Promise<this> {
    const url = await this.listener.start();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-standin-'));
    this._kubeconfigPath = path.join(this.dir, 'kubeconfig');
    // client-node refuses plain HTTP unless TLS verification is explicitly off.
    const cluster = { 'server': url, 'insecure-skip-tls-verify': true };
    fs.writeFileSync(this._kubeconfigPath, stringify({
      'apiVersion': 'v1',
      'kind': 'Config',
      'clusters': [{ name: 'standin', cluster }],
      'users': [{ name: 'standin', user: { token: 'standin-token' } }],
      'contexts': [{ name: 'standin', context: { cluster: 'standin', user: 'standin', namespace: 'default' } }],
      'current-context': 'standin',
    }));
    return this;
  }

  public async stop(): Promise<void> {
    await this.listener.stop();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://standin');
    const request: KubeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams };
    this.requests.push(request);

    let response: KubeResponse | undefined;
    for (const handler of this.handlers) {
      response = handler(request);
      if (response) break;
    }
    if (!response && request.method === 'GET' && this.objects.has(request.path)) {
      response = { status: 200, body: this.objects.get(request.path) };
    }
    response ??= {
      status: 404,
      body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${request.path} not found` },
    };

    if (response.text !== undefined) {
      res.writeHead(response.status, { 'content-type': 'text/plain' });
      res.end(response.text);
    } else {
      res.writeHead(response.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(response.body));
    }
  }
}

function pathValue(item: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), item);
}

/** Equality-only field and label selectors, as `kubectl` sends them. */
function matchesSelectors(item: unknown, query: URLSearchParams): boolean {
  const pairs = (selector: string | null) => (selector ? selector.split(',').map((p) => p.split('=')) : []);
  const fieldsOk = pairs(query.get('fieldSelector')).every(([k, v]) => String(pathValue(item, k) ?? '') === v);
  const labels = (pathValue(item, 'metadata.labels') ?? {}) as Record<string, string>;
  const labelsOk = pairs(query.get('labelSelector')).every(([k, v]) => labels[k] === v);
  return fieldsOk && labelsOk;
}
