/**
 * A small HTTP proxy in front of moto for provider tests and the benchmark:
 * records every AWS call (service, action, region, signing key id), adds a
 * fixed delay, and injects faults by rule. It also covers one moto gap: moto's
 * GetParameters does not accept parameter ARNs (AWS does), so the proxy
 * rewrites SSM ARNs in GetParameters `Names` to parameter names before moto
 * sees them; the provider itself sends the ARNs as AWS expects.
 */
import * as http from 'node:http';
import { LoopbackServer } from '../support/loopback';

/** One AWS call seen by the proxy. */
export interface AwsCall {
  readonly service: string;
  readonly action: string;
  readonly region?: string;
  readonly accessKeyId?: string;
  readonly body: string;
}

/** A fault: the status and AWS error code to answer instead of forwarding. */
export interface Fault {
  readonly status: number;
  readonly code: string;
  readonly message?: string;
}

export type FaultRule = (call: AwsCall) => Fault | undefined;

function describe(req: http.IncomingMessage, body: string): AwsCall {
  const target = String(req.headers['x-amz-target'] ?? '');
  const auth = String(req.headers.authorization ?? '');
  const scope = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(auth);
  const [service, action] = target
    ? [target.split('.')[0] === 'AmazonSSM' ? 'ssm' : 'secretsmanager', target.split('.')[1]]
    : ['sts', new URLSearchParams(body).get('Action') ?? 'unknown'];
  return { service, action, region: scope?.[2], accessKeyId: scope?.[1], body };
}

/** SSM parameter ARN -> name (hierarchical names start with `/`). */
function ssmArnToName(name: string): string {
  const m = /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter\/(.*)$/.exec(name);
  if (!m) return name;
  const [base, ...selector] = m[1].split(':');
  return (base.includes('/') ? `/${base}` : base) + (selector.length ? `:${selector.join(':')}` : '');
}

export class AwsProxy {
  public readonly calls: AwsCall[] = [];
  public delayMs = 0;
  private readonly faults: FaultRule[] = [];
  private readonly listener = new LoopbackServer('AwsProxy', (req, body, res) => this.handle(req, body.toString(), res));

  constructor(private readonly target: string) {}

  public get url(): string {
    return this.listener.url;
  }

  public addFault(rule: FaultRule): void {
    this.faults.push(rule);
  }

  public clearFaults(): void {
    this.faults.length = 0;
  }

  /** Calls matching the filter, e.g. `callsTo('secretsmanager', 'BatchGetSecretValue')`. */
  public callsTo(service?: string, action?: string): AwsCall[] {
    return this.calls.filter((c) => (!service || c.service === service) && (!action || c.action === action));
  }

  public reset(): void {
    this.calls.length = 0;
  }

  public async start(): Promise<this> {
    await this.listener.start();
    return this;
  }

  public async stop(): Promise<void> {
    await this.listener.stop();
  }

  private async handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const call = describe(req, body);
    this.calls.push(call);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const fault = this.faults.map((f) => f(call)).find(Boolean);
    if (fault) {
      res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': fault.code });
      res.end(JSON.stringify({ __type: fault.code, message: fault.message ?? `injected ${fault.code}` }));
      return;
    }
    if (call.service === 'ssm' && call.action === 'GetParameters') {
      const parsed = JSON.parse(body);
      parsed.Names = parsed.Names.map(ssmArnToName);
      body = JSON.stringify(parsed);
    }
    await this.forward(req, body, res);
  }

  private async forward(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const headers = { ...req.headers, 'host': new URL(this.target).host, 'content-length': String(Buffer.byteLength(body)) };
    const upstream = http.request(`${this.target}${req.url}`, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      res.writeHead(502).end(String(err));
    });
    upstream.end(body);
  }
}
