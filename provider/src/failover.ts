import { status } from '@grpc/grpc-js';
import { isServerOrNetworkError, MountError } from './errors';
import { FetchedValue, FetchTarget, Outcome } from './fetched';
import { secretError } from './secrets-manager';
import { parameterError } from './ssm';
import { MountObject } from '../../lib/contract';

/** Fetches the given targets in one region; an outcome per target key. */
export type RegionFetcher = (region: string, targets: { secrets: FetchTarget[]; parameters: FetchTarget[] }) => Promise<Map<number, Outcome>>;

/** What an object asks for in the primary region: its own name, version and label. */
export function primaryTarget(o: MountObject): FetchTarget {
  return { key: o.index, id: o.name, version: o.version, versionLabel: o.versionLabel };
}

/**
 * What an object asks for in the failover region: its failoverObject when it
 * has one; else the same object, with an ARN moved to the failover region
 * (a replica keeps the name and suffix of its primary).
 */
export function failoverTarget(o: MountObject, failoverRegion: string): FetchTarget {
  if (o.failover) return { key: o.index, id: o.failover.name, version: o.failover.version, versionLabel: o.failover.versionLabel };
  const id = o.arn ? o.name.split(':').map((part, i) => (i === 3 ? failoverRegion : part)).join(':') : o.name;
  return { key: o.index, id, version: o.version, versionLabel: o.versionLabel };
}

function split(objects: readonly MountObject[], target: (o: MountObject) => FetchTarget) {
  return {
    secrets: objects.filter((o) => o.type === 'secretsmanager').map(target),
    parameters: objects.filter((o) => o.type === 'ssmparameter').map(target),
  };
}

/**
 * Fetches every object from the primary region; objects that failed with a
 * server-side or network error are fetched again in the failover region, when
 * there is one. Any client error (not found, denied, bad request) fails the
 * mount at once. All or nothing: returns every value or throws.
 */
export async function fetchWithFailover(
  objects: readonly MountObject[], primary: string, failover: string | undefined, fetchRegion: RegionFetcher,
): Promise<Map<number, FetchedValue>> {
  const byKey = new Map(objects.map((o) => [o.index, o]));
  const outcomes = await fetchRegion(primary, split(objects, primaryTarget));
  const failed = objects.filter((o) => outcomes.get(o.index)?.error !== undefined);

  // Failover only when every failure is the service's or the network's fault.
  const retriable = failed.every((o) => isServerOrNetworkError(outcomes.get(o.index)!.error));
  if (failed.length > 0 && failover && retriable) {
    const second = await fetchRegion(failover, split(failed, (o) => failoverTarget(o, failover)));
    for (const [key, outcome] of second) outcomes.set(key, outcome);
    const targetOf = (o: MountObject) => (outcomes.get(o.index) === second.get(o.index) ? failoverTarget(o, failover) : primaryTarget(o));
    return collect(outcomes, byKey, targetOf, failover);
  }
  return collect(outcomes, byKey, primaryTarget, primary);
}

function collect(
  outcomes: Map<number, Outcome>, byKey: Map<number, MountObject>, target: (o: MountObject) => FetchTarget, region: string,
): Map<number, FetchedValue> {
  const errors: MountError[] = [];
  const values = new Map<number, FetchedValue>();
  // In the order of `objects`, not of the answers: the message (and its status) starts with objects[0]'s problem.
  for (const [key, outcome] of [...outcomes].sort(([a], [b]) => a - b)) {
    const o = byKey.get(key)!;
    if (outcome.value) values.set(key, outcome.value);
    else errors.push(o.type === 'secretsmanager' ? secretError(target(o), region, outcome.error) : parameterError(target(o), region, outcome.error));
  }
  if (errors.length > 0) throw combineErrors(errors);
  return values;
}

/** One error for several failed objects: the first one's status, every object named. */
export function combineErrors(errors: MountError[]): MountError {
  if (errors.length === 1) return errors[0];
  const message = `${errors.length} objects failed:\n- ${errors.map((e) => e.message).join('\n- ')}`;
  return new MountError(errors[0].code ?? status.UNKNOWN, message, errors[0].reason);
}
