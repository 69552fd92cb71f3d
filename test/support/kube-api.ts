import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { AddressInfo } from 'node:net';
import { stringify } from 'yaml';

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
  private server?: http.Server;
  private dir?: string;
  private _url?: string;
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

  /** Requests whose path starts with `prefix`. */
  public requestsTo(prefix: string): KubeRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  public get url(): string {
    if (!this._url) throw new Error('KubeApiStandIn is not started');
    return this._url;
  }

  public get kubeconfigPath(): string {
    if (!this._kubeconfigPath) throw new Error('KubeApiStandIn is not started');
    return this._kubeconfigPath;
  }

  public async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this._url = `http://127.0.0.1:${port}`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-standin-'));
    this._kubeconfigPath = path.join(this.dir, 'kubeconfig');
    fs.writeFileSync(this._kubeconfigPath, stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'standin', cluster: { server: this._url } }],
      users: [{ name: 'standin', user: { token: 'standin-token' } }],
      contexts: [{ name: 'standin', context: { cluster: 'standin', user: 'standin', namespace: 'default' } }],
      'current-context': 'standin',
    }));
    return this;
  }

  public async stop(): Promise<void> {
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
      this.server = undefined;
    }
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
