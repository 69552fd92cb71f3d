/**
 * An EKS Pod Identity agent stand-in on 127.0.0.1: answers
 * `GET /v1/credentials` with temporary credentials when the Authorization
 * header carries a known token, 403 otherwise, and records the requests.
 */
import * as http from 'node:http';
import { LoopbackServer } from '../support/loopback';

export class PodIdentityAgentStandIn {
  /** Authorization headers received (tests compare, never print them). */
  public readonly requests: string[] = [];
  private readonly listener = new LoopbackServer('PodIdentityAgentStandIn', (req, _body, res) => this.answer(req, res));

  /** `tokens` maps an accepted token to the access key id handed out for it. */
  constructor(private readonly tokens: Record<string, string>) {}

  /** The credentials endpoint URL. */
  public get url(): string {
    return `${this.listener.url}/v1/credentials`;
  }

  public async start(): Promise<this> {
    await this.listener.start();
    return this;
  }

  public async stop(): Promise<void> {
    await this.listener.stop();
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
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
  }
}
