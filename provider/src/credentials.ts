import { createHash } from 'node:crypto';
import { AssumeRoleWithWebIdentityCommand, AssumeRoleWithWebIdentityCommandOutput } from '@aws-sdk/client-sts';
import { status } from '@grpc/grpc-js';
import { AwsClients, PodCredentials } from './aws-clients';
import { CallContext } from './calls';
import { fromAwsError, isAbort, MountError } from './errors';

/** The EKS Pod Identity agent's link-local endpoints. */
export const POD_IDENTITY_ENDPOINTS = {
  ipv4: 'http://169.254.170.23/v1/credentials',
  ipv6: 'http://[fd00:ec2::23]/v1/credentials',
};

/** How credentials are obtained and cached. */
export interface CredentialOptions {
  /** Pod Identity agent endpoints (overridable for tests and unusual nodes). @default POD_IDENTITY_ENDPOINTS */
  readonly podIdentityEndpoints?: { readonly ipv4: string; readonly ipv6: string };
  /** Time limit of one attempt at the Pod Identity agent, in milliseconds. @default 2000 */
  readonly podIdentityTimeoutMs?: number;
  /** Cached credentials are dropped this long before they expire, in milliseconds. @default 300000 (5 minutes) */
  readonly refreshMarginMs?: number;
  /** Cache size cap (entries). @default 10000 */
  readonly maxEntries?: number;
}

/** Credentials plus what the mount's log line says about them. */
export interface ResolvedCredentials {
  readonly credentials: PodCredentials;
  /** The role (IRSA) or `pod-identity:<namespace>/<sa>`: the key for per-role memory such as batch permission. */
  readonly principal: string;
}

interface CacheEntry {
  readonly value: Promise<PodCredentials>;
  expires: number;
}

/**
 * Exchanges the pod's service account token for temporary AWS credentials
 * (IRSA or Pod Identity) and caches them per token until shortly before they
 * expire. Concurrent mounts with the same token share one exchange.
 */
export class CredentialBroker {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly endpoints: { readonly ipv4: string; readonly ipv6: string };
  private readonly attemptTimeoutMs: number;
  private readonly marginMs: number;
  private readonly maxEntries: number;

  constructor(private readonly clients: AwsClients, options: CredentialOptions = {}) {
    this.endpoints = options.podIdentityEndpoints ?? POD_IDENTITY_ENDPOINTS;
    this.attemptTimeoutMs = options.podIdentityTimeoutMs ?? 2000;
    this.marginMs = options.refreshMarginMs ?? 300_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** IRSA: AssumeRoleWithWebIdentity with the `sts.amazonaws.com` token, in the mount's region. */
  public irsa(token: string, roleArn: string, region: string, session: string, calls: CallContext): Promise<PodCredentials> {
    return this.cached(`irsa|${roleArn}|${digest(token)}`, async () => {
      const command = new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: session, WebIdentityToken: token });
      let out: AssumeRoleWithWebIdentityCommandOutput;
      try {
        out = await calls.send(this.clients.sts(region), 'sts', command);
      } catch (err) {
        throw fromAwsError(err, { object: `role ${roleArn}`, region, service: 'sts' });
      }
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) {
        throw new MountError(status.UNAUTHENTICATED, `STS returned no credentials for role ${roleArn} in ${region}.`, 'NoCredentials');
      }
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    });
  }

  /** Pod Identity: the agent, IPv4 then IPv6 unless an address family is preferred, each attempt time-bounded. */
  public podIdentity(token: string, addressType: 'ipv4' | 'ipv6' | undefined, calls: CallContext): Promise<PodCredentials> {
    const families = addressType ? [addressType] : (['ipv4', 'ipv6'] as const);
    return this.cached(`pod-identity|${families.join(',')}|${digest(token)}`, async () => {
      const failures: string[] = [];
      for (const family of families) {
        const endpoint = this.endpoints[family];
        try {
          return await this.askAgent(endpoint, token, calls);
        } catch (err) {
          // A definite answer from the agent (e.g. no association) is final; only unreachable endpoints move on.
          if (err instanceof MountError || calls.signal.aborted) throw err;
          failures.push(`${family} ${endpoint}: ${(err as Error).message}`);
        }
      }
      throw new MountError(status.UNAVAILABLE,
        `The EKS Pod Identity agent did not answer (${failures.join('; ')}). `
        + 'Fix: install the eks-pod-identity-agent add-on, or set preferredAddressType to the address family your nodes use.', 'PodIdentityAgentUnreachable');
    });
  }

  private async askAgent(endpoint: string, token: string, calls: CallContext): Promise<PodCredentials> {
    calls.aws['eks-auth:PodIdentityAgent'] = (calls.aws['eks-auth:PodIdentityAgent'] ?? 0) + 1;
    const { response, body } = await calls.withCallSignal(async (callSignal) => {
      const signal = AbortSignal.any([callSignal, AbortSignal.timeout(this.attemptTimeoutMs)]);
      const answer = await fetch(endpoint, { headers: { Authorization: token }, signal }).catch((err) => {
        if (isAbort(err) && !calls.signal.aborted) throw new Error(`no answer within ${this.attemptTimeoutMs} ms`);
        throw err;
      });
      return { response: answer, body: await answer.text() };
    });
    if (!response.ok) {
      // The agent's error body is a short JSON message; it never contains the token.
      const code = response.status === 401 || response.status === 403 ? status.PERMISSION_DENIED : status.UNAVAILABLE;
      throw new MountError(code, `The EKS Pod Identity agent at ${endpoint} answered ${response.status}: ${body.slice(0, 200)}. `
        + 'Fix: create a Pod Identity association for this service account (aws eks create-pod-identity-association).', 'PodIdentityAgent');
    }
    return parseAgentCredentials(body, endpoint);
  }

  private cached(key: string, fetchCredentials: () => Promise<PodCredentials>): Promise<PodCredentials> {
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    const entry: CacheEntry = { value: fetchCredentials(), expires: Number.MAX_SAFE_INTEGER };
    this.cache.set(key, entry);
    entry.value.then(
      (creds) => (entry.expires = creds.expiration ? creds.expiration.getTime() - this.marginMs : Date.now() + this.marginMs),
      () => this.cache.delete(key),
    );
    this.prune();
    return entry.value;
  }

  private prune(): void {
    if (this.cache.size <= this.maxEntries) return;
    const now = Date.now();
    for (const [key, entry] of this.cache) if (entry.expires <= now) this.cache.delete(key);
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}

function parseAgentCredentials(body: string, endpoint: string): PodCredentials {
  let c: any;
  try {
    c = JSON.parse(body);
  } catch {
    c = undefined;
  }
  if (!c?.AccessKeyId || !c?.SecretAccessKey) {
    throw new MountError(status.UNAVAILABLE, `The EKS Pod Identity agent at ${endpoint} answered without credentials.`, 'PodIdentityAgent');
  }
  const expiration = c.Expiration ? new Date(c.Expiration) : undefined;
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.Token, expiration };
}

/** Tokens are cache keys only through a digest, so they are never held as keys or logged. */
function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** An STS session name from the pod: `[\w+=,.@-]`, at most 64 characters. */
export function sessionName(namespace: string, pod: string): string {
  return `secrets-store.${namespace}.${pod}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}
