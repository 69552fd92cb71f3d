import {
  BatchGetSecretValueCommand, BatchGetSecretValueCommandOutput, GetSecretValueCommand, GetSecretValueCommandOutput, SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import { PodCredentials, AwsClients } from './aws-clients';
import { CallContext } from './calls';
import { awsErrorLike, fromAwsError } from './errors';
import { FetchTarget, Outcome } from './fetched';

/** BatchGetSecretValue takes at most 20 secret ids a call. */
export const BATCH_SIZE = 20;

const DENIED = new Set(['AccessDeniedException', 'AccessDenied']);

/**
 * Remembers, per role, that BatchGetSecretValue is denied (roles written for
 * the AWS provider usually allow only GetSecretValue), so later mounts go
 * straight to GetSecretValue until the memory expires.
 */
export class BatchPermissionMemory {
  private readonly denied = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  public isDenied(principal: string): boolean {
    const until = this.denied.get(principal);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.denied.delete(principal);
    return false;
  }

  public remember(principal: string): void {
    this.denied.set(principal, Date.now() + this.ttlMs);
  }
}

/** Where and as whom one region's Secrets Manager objects are fetched. */
export interface SecretsManagerScope {
  readonly region: string;
  readonly credentials: PodCredentials;
  readonly principal: string;
  readonly calls: CallContext;
}

/**
 * Fetches Secrets Manager objects: the current versions with BatchGetSecretValue
 * (20 a call, calls in parallel), pinned versions and labels with
 * GetSecretValue (in parallel). Returns an outcome per target key.
 */
export class SecretsManagerFetcher {
  constructor(private readonly clients: AwsClients, private readonly memory: BatchPermissionMemory) {}

  public async fetch(targets: readonly FetchTarget[], scope: SecretsManagerScope): Promise<Map<number, Outcome>> {
    const current = targets.filter((t) => t.version === undefined && (t.versionLabel === undefined || t.versionLabel === 'AWSCURRENT'));
    const pinned = targets.filter((t) => !current.includes(t));
    const results = new Map<number, Outcome>();

    // Pinned versions and labels: one GetSecretValue each; current versions: batches unless the role may not batch.
    const singles = this.memory.isDenied(scope.principal) ? targets : pinned;
    const batched = this.memory.isDenied(scope.principal) ? [] : current;
    await Promise.all([
      ...singles.map(async (t) => results.set(t.key, await this.getOne(t, scope))),
      ...chunk(uniqueIds(batched), BATCH_SIZE).map(async (ids) => {
        for (const [id, outcome] of await this.getBatch(ids, scope)) {
          for (const t of batched) if (t.id === id) results.set(t.key, outcome);
        }
      }),
    ]);
    return results;
  }

  private async getOne(target: FetchTarget, scope: SecretsManagerScope): Promise<Outcome> {
    const client = this.clients.secretsManager(scope.region, scope.credentials);
    const command = new GetSecretValueCommand({ SecretId: target.id, VersionId: target.version, VersionStage: target.versionLabel });
    try {
      const out = await scope.calls.send<GetSecretValueCommandOutput>(client, 'secretsmanager', command);
      return { value: { bytes: secretBytes(out), version: out.VersionId ?? '', region: scope.region } };
    } catch (error) {
      return { error };
    }
  }

  /** One BatchGetSecretValue round (following NextToken); falls back to singles when the role may not batch. */
  private async getBatch(ids: string[], scope: SecretsManagerScope): Promise<Map<string, Outcome>> {
    const client = this.clients.secretsManager(scope.region, scope.credentials);
    const values: SecretValueEntry[] = [];
    const errors = new Map<string, Outcome>();
    try {
      let nextToken: string | undefined;
      do {
        const command = new BatchGetSecretValueCommand({ SecretIdList: ids, NextToken: nextToken });
        const out = await scope.calls.send<BatchGetSecretValueCommandOutput>(client, 'secretsmanager', command);
        values.push(...(out.SecretValues ?? []));
        for (const e of out.Errors ?? []) {
          errors.set(e.SecretId ?? '', { error: awsErrorLike(e.ErrorCode ?? 'Error', e.Message, statusOf(e.ErrorCode)) });
        }
        nextToken = out.NextToken;
      } while (nextToken);
    } catch (error) {
      return this.afterBatchFailure(ids, error, scope);
    }
    return new Map(ids.map((id) => [id, matchEntry(id, values, scope.region) ?? errors.get(id) ?? missing(id)]));
  }

  private async afterBatchFailure(ids: string[], error: unknown, scope: SecretsManagerScope): Promise<Map<string, Outcome>> {
    if (!DENIED.has((error as Error)?.name)) return new Map(ids.map((id) => [id, { error }]));
    this.memory.remember(scope.principal);
    const outcomes = await Promise.all(ids.map((id) => this.getOne({ key: -1, id }, scope)));
    return new Map(ids.map((id, i) => [id, outcomes[i]]));
  }
}

/** The SDK's error for a secret id missing from both lists of a batch answer. */
function missing(id: string): Outcome {
  return { error: awsErrorLike('ResourceNotFoundException', `BatchGetSecretValue returned nothing for ${id}`, 400) };
}

function matchEntry(id: string, values: SecretValueEntry[], region: string): Outcome | undefined {
  // An id is a name, a full ARN, or a partial ARN (without the 6-character suffix).
  const entry = values.find((v) => v.Name === id || v.ARN === id || (v.ARN?.startsWith(`${id}-`) && v.ARN.length === id.length + 7));
  return entry ? { value: { bytes: secretBytes(entry), version: entry.VersionId ?? '', region } } : undefined;
}

function secretBytes(out: { SecretString?: string; SecretBinary?: Uint8Array }): Buffer {
  if (out.SecretString !== undefined) return Buffer.from(out.SecretString, 'utf8');
  return Buffer.from(out.SecretBinary ?? new Uint8Array());
}

function statusOf(errorCode: string | undefined): number {
  if (errorCode === 'InternalServiceError' || errorCode === 'InternalFailure') return 500;
  return 400;
}

function uniqueIds(targets: readonly FetchTarget[]): string[] {
  return [...new Set(targets.map((t) => t.id))];
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The message subject for a Secrets Manager object. */
export function secretSubject(target: FetchTarget): string {
  const pin = target.version ? ` version ${target.version}` : target.versionLabel ? ` label ${target.versionLabel}` : '';
  return `secret "${target.id}"${pin}`;
}

/** Converts a failed outcome to a MountError naming the secret and region. */
export function secretError(target: FetchTarget, region: string, error: unknown) {
  return fromAwsError(error, { object: secretSubject(target), region, service: 'secretsmanager' });
}
