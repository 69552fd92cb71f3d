import type { GetParametersCommandOutput, Parameter } from '@aws-sdk/client-ssm';
import { AwsClients, loadSsm, PodCredentials } from './aws-clients';
import { CallContext } from './calls';
import { awsErrorLike, fromAwsError } from './errors';
import { FetchTarget, Outcome } from './fetched';

/** GetParameters takes at most 10 names a call. */
export const PARAMETERS_PER_CALL = 10;

/** Where and as whom one region's parameters are fetched. */
export interface SsmScope {
  readonly region: string;
  readonly credentials: PodCredentials;
  readonly calls: CallContext;
}

/** `name:version` / `name:label`, as GetParameters selects a version. */
export function selectorName(target: FetchTarget): string {
  const selector = target.version ?? target.versionLabel;
  return selector ? `${target.id}:${selector}` : target.id;
}

/**
 * Splits targets into GetParameters calls of at most 10 names, with each
 * parameter at most once per call, so an answer maps back to its request by
 * name even where the service does not echo the selector.
 */
export function planCalls(targets: readonly FetchTarget[]): FetchTarget[][] {
  const calls: FetchTarget[][] = [];
  const seen = new Set<string>();
  for (const target of targets) {
    // The same name with the same selector is fetched once and shared.
    if (seen.has(selectorName(target))) continue;
    seen.add(selectorName(target));
    const call = calls.find((c) => c.length < PARAMETERS_PER_CALL && !c.some((t) => t.id === target.id));
    if (call) call.push(target);
    else calls.push([target]);
  }
  return calls;
}

/** Fetches SSM parameters with GetParameters (decrypted), calls in parallel. Returns an outcome per target key. */
export class SsmFetcher {
  constructor(private readonly clients: AwsClients) {}

  public async fetch(targets: readonly FetchTarget[], scope: SsmScope): Promise<Map<number, Outcome>> {
    const bySelector = new Map<string, Outcome>();
    await Promise.all(planCalls(targets).map(async (call) => {
      for (const [name, outcome] of await this.getParameters(call, scope)) bySelector.set(name, outcome);
    }));
    return new Map(targets.map((t) => [t.key, bySelector.get(selectorName(t))!]));
  }

  private async getParameters(call: FetchTarget[], scope: SsmScope): Promise<Map<string, Outcome>> {
    const names = call.map(selectorName);
    let out: GetParametersCommandOutput;
    try {
      // The first SSM call loads the client's code (see loadSsm); a failed load fails these names like a failed call.
      const [client, { GetParametersCommand }] = await Promise.all([this.clients.ssm(scope.region, scope.credentials), loadSsm()]);
      out = await scope.calls.send(client, 'ssm', new GetParametersCommand({ Names: names, WithDecryption: true }));
    } catch (error) {
      return new Map(names.map((n) => [n, { error }]));
    }
    const invalid = new Set(out.InvalidParameters ?? []);
    return new Map(call.map((t) => [selectorName(t), outcomeFor(t, out.Parameters ?? [], invalid, scope.region)]));
  }
}

function outcomeFor(target: FetchTarget, parameters: Parameter[], invalid: Set<string>, region: string): Outcome {
  const name = selectorName(target);
  const found = parameters.find((p) => p.Name === target.id || p.ARN === target.id);
  if (invalid.has(name) || !found) {
    const what = target.version ? `version ${target.version} of ` : target.versionLabel ? `label ${target.versionLabel} of ` : '';
    return { error: awsErrorLike('ParameterNotFound', `GetParameters listed ${what}${target.id} in InvalidParameters`, 400) };
  }
  return { value: { bytes: Buffer.from(found.Value ?? '', 'utf8'), version: String(found.Version ?? ''), region } };
}

/** The message subject for a parameter. */
export function parameterSubject(target: FetchTarget): string {
  const pin = target.version ? ` version ${target.version}` : target.versionLabel ? ` label ${target.versionLabel}` : '';
  return `parameter "${target.id}"${pin}`;
}

/** Converts a failed outcome to a MountError naming the parameter and region. */
export function parameterError(target: FetchTarget, region: string, error: unknown) {
  return fromAwsError(error, { object: parameterSubject(target), region, service: 'ssm' });
}
