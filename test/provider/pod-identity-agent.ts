/**
 * An EKS Pod Identity agent stand-in on 127.0.0.1: answers
 * `GET /v1/credentials` with temporary credentials when the Authorization
 * header carries a known token, 403 otherwise, and records the requests.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export class PodIdentityAgentStandIn {
  /** Authorization headers received (tests compare, never print them). */
  public readonly requests: string[] = [];
  private server?: http.Server;
  private _url?: string;

  /** `tokens` maps an accepted token to the access key id handed out for it. */
  constructor(private readonly tokens: Record<string, string>) {}

  /** The credentials endpoint URL. */
  public get url(): string {
    if (!this._url) throw new Error('PodIdentityAgentStandIn is not started');
    return `${this._url}/v1/credentials`;
  }

  public async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const auth = String(req.headers.authorization ?? '');
      this.requests.push(auth);
      const keyId = this.tokens[auth];
      if (req.url !== '/v1/credentials' || !keyId) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'no association for this token' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        AccessKeyId: keyId,
        SecretAccessKey: 'pod-identity-secret',
        Token: 'pod-identity-session',
        AccountId: '123456789012',
        Expiration: new Date(Date.now() + 3600_000).toISOString(),
      }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this._url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  public async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
