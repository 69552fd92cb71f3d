import * as http from 'node:http';
import * as https from 'node:https';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** What the provider uses of the SSM client package. */
export type SsmModule = typeof import('./ssm-sdk.js');

let ssmModule: Promise<SsmModule> | undefined;

/**
 * The SSM client's code (dist/ssm-sdk.js next to main.js; see ssm-sdk.ts), loaded
 * on the first SSM call. A failed load is not remembered: the next call tries again.
 */
export function loadSsm(): Promise<SsmModule> {
  ssmModule ??= import('./ssm-sdk.js').catch((err) => {
    ssmModule = undefined;
    throw err;
  });
  return ssmModule;
}

/** Temporary AWS credentials of a pod. */
export interface PodCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** How the provider talks to AWS. */
export interface AwsClientOptions {
  /** Keep-alive sockets per endpoint, shared by every client. @default 64 */
  readonly maxSockets?: number;
  /** Per-request timeout in milliseconds. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** Clients kept for reuse (one per credentials and region). @default 256 */
  readonly maxClients?: number;
}

/**
 * SDK clients built from the SDK's standard configuration (AWS_ENDPOINT_URL
 * and per-service variants, AWS_USE_FIPS_ENDPOINT, AWS_MAX_ATTEMPTS, regional
 * STS) with the pod's credentials, sharing one keep-alive connection pool.
 * Clients are reused per credentials and region (least recently used evicted).
 */
export class AwsClients {
  private readonly handler: NodeHttpHandler;
  private readonly clients = new Map<string, SecretsManagerClient | SSMClient | STSClient>();
  private readonly maxClients: number;

  constructor(options: AwsClientOptions = {}) {
    const maxSockets = options.maxSockets ?? 64;
    this.handler = new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
      connectionTimeout: 3000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
    });
    this.maxClients = options.maxClients ?? 256;
  }

  public secretsManager(region: string, credentials: PodCredentials): SecretsManagerClient {
    return this.reuse(`sm|${region}|${credentials.accessKeyId}`, () =>
      new SecretsManagerClient({ region, credentials, requestHandler: this.handler }));
  }

  /** Async: the SSM client's code is loaded on first use (see loadSsm). */
  public async ssm(region: string, credentials: PodCredentials): Promise<SSMClient> {
    const { SSMClient } = await loadSsm();
    return this.reuse(`ssm|${region}|${credentials.accessKeyId}`, () => new SSMClient({ region, credentials, requestHandler: this.handler }));
  }

  /** STS for AssumeRoleWithWebIdentity, which is unsigned: the web identity token is the credential. */
  public sts(region: string): STSClient {
    return this.reuse(`sts|${region}`, () => new STSClient({
      region,
      requestHandler: this.handler,
      // Never the provider's own credentials; the call carries the pod's token instead.
      credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
    }));
  }

  public destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
    this.handler.destroy();
  }

  private reuse<T extends SecretsManagerClient | SSMClient | STSClient>(key: string, make: () => T): T {
    let client = this.clients.get(key) as T | undefined;
    if (client) {
      // Move to the back: the map's order is the eviction order.
      this.clients.delete(key);
    } else {
      client = make();
    }
    this.clients.set(key, client);
    if (this.clients.size > this.maxClients) {
      const [oldest] = this.clients.keys();
      // The shared handler outlives evicted clients, so they are dropped, not destroyed.
      this.clients.delete(oldest);
    }
    return client;
  }
}
