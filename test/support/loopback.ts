import * as http from 'node:http';
import { AddressInfo } from 'node:net';

/** Answers one request whose body has been read in full. */
export type LoopbackHandler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void | Promise<void>;

/**
 * An HTTP server on 127.0.0.1 at a free port, the base of the tests' stand-ins
 * and proxies: reads each request body, hands it to the handler, and answers
 * 500 (naming the stand-in) when the handler throws.
 */
export class LoopbackServer {
  private server?: http.Server;
  private _url?: string;

  constructor(private readonly name: string, private readonly handler: LoopbackHandler) {}

  /** `http://127.0.0.1:<port>`. */
  public get url(): string {
    if (!this._url) throw new Error(`${this.name} is not started`);
    return this._url;
  }

  public async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        Promise.resolve()
          .then(() => this.handler(req, Buffer.concat(chunks), res))
          .catch((err: Error) => {
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`${this.name} failed: ${err.message}`);
          });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this._url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this._url;
  }

  public async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
