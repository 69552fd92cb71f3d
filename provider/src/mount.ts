import { status } from '@grpc/grpc-js';
import { MountRequestMessage, parseRequest, ParsedRequest } from './attributes';
import { PodCredentials } from './aws-clients';
import { CallContext } from './calls';
import { ClusterInfo } from './cluster';
import { CredentialBroker, sessionName } from './credentials';
import { MountError } from './errors';
import { fetchWithFailover } from './failover';
import { FetchedValue, Outcome } from './fetched';
import { buildOutput, MountOutput, readFromVolume, writeFiles } from './files';
import { SecretsManagerFetcher } from './secrets-manager';
import { SsmFetcher } from './ssm';
import { IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE, tokenFor } from './tokens';
import { ContractError, MountObject, ValidatedClass, validateClassParameters } from '../../lib/contract';

/** Everything a mount uses, built once at start-up. */
export interface MountServices {
  readonly cluster: ClusterInfo;
  readonly credentials: CredentialBroker;
  readonly secrets: SecretsManagerFetcher;
  readonly parameters: SsmFetcher;
  /** The provider's AWS_REGION, used when the class gives no region. */
  readonly defaultRegion?: string;
  /** Also write the files into the target path (for drivers that expect it). */
  readonly writeFiles: boolean;
}

/** What the mount's log line says; filled in as the pipeline goes. Never values or tokens. */
export interface MountSummary {
  pod?: string;
  namespace?: string;
  serviceAccount?: string;
  class?: string;
  region?: string;
  failoverRegion?: string;
  identity?: 'irsa' | 'pod-identity';
  role?: string;
  objects?: number;
  reused?: number;
  files?: number;
  bytes?: number;
  /** The class's warnings (e.g. unknown fields), as "subject: message"; they name fields, never values. */
  warnings?: string[];
}

/**
 * One Mount, as a linear pipeline: every check happens before any AWS call,
 * every object is fetched before any file is built, and nothing is returned
 * or written unless everything succeeded.
 */
export async function mount(message: MountRequestMessage, services: MountServices, calls: CallContext, summary: MountSummary): Promise<MountOutput> {
  // 1. The request envelope: attributes JSON, pod, target path, default mode, versions held.
  const request = parseRequest(message);
  const { name: pod, namespace, serviceAccount, className } = request.pod;
  Object.assign(summary, { pod, namespace, serviceAccount, class: className });

  // 2. The SecretProviderClass, through the shared contract rules (region-dependent rules wait for step 4 if needed).
  const knownRegion = request.attributes.region || services.defaultRegion;
  let spc = validate(request, knownRegion, summary);
  summary.objects = spc.objects.length;

  // 3. The token for the identity in use (rule 10), before any network call.
  const usePodIdentity = spc.settings.usePodIdentity;
  const token = tokenFor(request.attributes, usePodIdentity ? POD_IDENTITY_AUDIENCE : IRSA_AUDIENCE);

  // 4. The region: parameter, else AWS_REGION, else the node's label; then the rules that need it.
  const region = knownRegion ?? (await services.cluster.nodeRegion(request.pod.namespace, request.pod.name, calls));
  if (!knownRegion && needsRegion(spc)) spc = validate(request, region, summary);
  Object.assign(summary, { region, failoverRegion: spc.settings.failoverRegion, identity: usePodIdentity ? 'pod-identity' : 'irsa' });

  // 5. The pod's credentials (never the provider's own).
  const { credentials, principal } = await resolveCredentials(request, spc, token.token, region, services, calls, summary);

  // 6. Objects pinned to the version the volume already holds are read back from it, not downloaded again.
  const reused = await reusePinned(request, spc.objects, region);
  summary.reused = reused.size;

  // 7. Fetch everything else (failover on server or network errors only).
  const toFetch = spc.objects.filter((o) => !reused.has(o.index));
  const fetched = await fetchWithFailover(toFetch, region, spc.settings.failoverRegion, (r, targets) =>
    fetchRegion(r, targets, credentials, principal, services, calls));

  // 8. Only now build files and versions (jmesPath evaluated here); then optionally write them.
  const output = buildOutput(spc.objects, new Map([...reused, ...fetched]), request.defaultMode);
  Object.assign(summary, { files: output.files.length, bytes: output.files.reduce((n, f) => n + f.contents.length, 0) });
  calls.throwIfAborted();
  if (services.writeFiles) await writeFiles(request.targetPath, output.files);
  return output;
}

/** Contract rules 1-9 via lib/contract; any problem is INVALID_ARGUMENT listing every problem with its fix. Warnings go to the log line. */
function validate(request: ParsedRequest, region: string | undefined, summary: MountSummary): ValidatedClass {
  const result = validateClassParameters(request.attributes, { region });
  summary.warnings = result.warnings.length > 0 ? result.warnings.map((w) => `${w.subject}: ${w.message}`) : undefined;
  if (!result.value) {
    const className = request.pod.className ? `SecretProviderClass ${request.pod.className}` : 'The SecretProviderClass';
    throw new MountError(status.INVALID_ARGUMENT, `${className} is invalid: ${new ContractError(result.problems).message}`, 'InvalidClass');
  }
  return result.value;
}

/** Whether any rule of the class depends on the primary region (ARN regions, failoverRegion != region). */
function needsRegion(spc: ValidatedClass): boolean {
  return spc.settings.failoverRegion !== undefined || spc.objects.some((o) => o.arn !== undefined || o.failover?.arn !== undefined);
}

async function resolveCredentials(
  request: ParsedRequest, spc: ValidatedClass, token: string, region: string, services: MountServices, calls: CallContext, summary: MountSummary,
): Promise<{ credentials: PodCredentials; principal: string }> {
  const { namespace, serviceAccount } = request.pod;
  if (spc.settings.usePodIdentity) {
    const credentials = await services.credentials.podIdentity(token, spc.settings.preferredAddressType, calls);
    return { credentials, principal: `pod-identity:${namespace}/${serviceAccount}` };
  }
  // IRSA: the role comes from the service account's annotation (rule 11).
  const role = await services.cluster.roleArn(namespace, serviceAccount, calls);
  summary.role = role;
  const session = sessionName(namespace, request.pod.name);
  try {
    return { credentials: await services.credentials.irsa(token, role, region, session, calls), principal: role };
  } catch (err) {
    // STS is regional too: when the primary's endpoint is down, ask the failover region's.
    const failover = spc.settings.failoverRegion;
    if (!failover || !(err instanceof MountError) || err.code !== status.UNAVAILABLE) throw err;
    return { credentials: await services.credentials.irsa(token, role, failover, session, calls), principal: role };
  }
}

async function reusePinned(request: ParsedRequest, objects: readonly MountObject[], region: string): Promise<Map<number, FetchedValue>> {
  const reused = new Map<number, FetchedValue>();
  await Promise.all(objects.map(async (o) => {
    if (o.version === undefined || request.currentVersions.get(o.fileName) !== o.version) return;
    const [bytes] = (await readFromVolume(request.targetPath, [o.fileName])) ?? [];
    if (bytes) reused.set(o.index, { bytes, version: o.version, region });
  }));
  return reused;
}

async function fetchRegion(
  region: string, targets: Parameters<Parameters<typeof fetchWithFailover>[3]>[1], credentials: PodCredentials, principal: string,
  services: MountServices, calls: CallContext,
): Promise<Map<number, Outcome>> {
  const [secrets, parameters] = await Promise.all([
    targets.secrets.length ? services.secrets.fetch(targets.secrets, { region, credentials, principal, calls }) : new Map<number, Outcome>(),
    targets.parameters.length ? services.parameters.fetch(targets.parameters, { region, credentials, calls }) : new Map<number, Outcome>(),
  ]);
  return new Map([...secrets, ...parameters]);
}
