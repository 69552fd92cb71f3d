/**
 * The main job end to end on one machine, shared by `npm run demo` and the
 * jest test: synthesize the sample app with the CDK CLI, take the class, pod,
 * service account, role and secret from the synthesized output only, deploy
 * the role and secret into moto behind the policy check, start the provider as
 * the image starts it, mount as the driver would for pod `my-app`, and show
 * that the role reads exactly what the class names.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GetSecretValueCommand, BatchGetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { MotoDeployment, inlinePoliciesOf, references } from './deploy';
import { evaluate } from './iam-policy';
import { IamPolicyProxy, PolicyDecision } from './iam-proxy';
import { jwks, newSigningKey, signJwt, SigningKey } from './jwt';
import {
  findObject, KubeObject, kubernetesObjects, loadTemplate, MANIFEST_TYPE, PLACEHOLDERS, resolve, resourcesOfType, Template,
} from './synthesized';
import { parseBool, validateClassParameters, ValidatedClass } from '../../lib/contract';
import { mountRequest, tokensAttribute } from '../provider/fixtures';
import { BUNDLE, MountResponse, ProviderProcess, REPO_ROOT } from '../provider/harness';
import { PodIdentityAgentStandIn } from '../provider/pod-identity-agent';
import { KubeApiStandIn } from '../support/kube-api';
import { MotoServer, startMoto, stopMoto } from '../support/moto';

export type Identity = 'irsa' | 'pod-identity';

const STACK = 'SecretsStoreSample';
const POD = 'my-app';
const REGION = 'us-east-1';
/** moto's default account. */
const ACCOUNT = '123456789012';
const CSI_DRIVER = 'secrets-store.csi.k8s.io';
const IRSA_AUDIENCE = 'sts.amazonaws.com';
const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

export interface FlowOptions {
  readonly identity: Identity;
  /** Receives every report line. @default - discarded */
  readonly log?: (line: string) => void;
}

/** A check of steps 6-7, with what was seen (no secret values). */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Everything the flow saw, for assertions (secret values included: never print them). */
export interface FlowResult {
  readonly identity: Identity;
  readonly synthMs: number;
  readonly totalMs: number;
  readonly secret: { readonly name: string; readonly arn: string; readonly versionId: string; readonly value: string };
  readonly roleArn: string;
  readonly expectedMode: number;
  readonly mount: MountResponse;
  /** The mounted tree as printed (values masked). */
  readonly tree: string;
  readonly unnamed: {
    readonly name: string;
    readonly value: string;
    /** Error name of GetSecretValue with the stack's role. */
    readonly getError?: string;
    /** BatchGetSecretValue of both secrets: names returned and errors. */
    readonly batchValues: string[];
    readonly batchErrors: Array<{ SecretId?: string; ErrorCode?: string }>;
    /** The mount of a class naming it: grpc code and details. */
    readonly mountCode?: number;
    readonly mountDetails: string;
  };
  readonly checks: Check[];
  readonly decisions: PolicyDecision[];
  readonly providerOutput: string;
}

/** What step 2 takes from the synthesized output. */
interface Synthesized {
  readonly template: Template;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly className: string;
  readonly volumeAttributes: Record<string, string>;
  readonly params: Record<string, string>;
  readonly validated: ValidatedClass;
  readonly usePodIdentity: boolean;
  readonly roleId: string;
  readonly secretIds: string[];
}

/** Runs the seven steps; throws (after cleaning up) when one fails. */
export async function runFlow(options: FlowOptions): Promise<FlowResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const cleanup: Array<() => Promise<void> | void> = [];
  try {
    const { outDir, synthMs } = await step1Synth(options.identity, log);
    cleanup.push(() => fs.rmSync(outDir, { recursive: true, force: true }));
    const synthesized = step2Read(outDir, log);
    const env = await step3Deploy(synthesized, log, cleanup);
    const running = await step4Start(synthesized, env, log, cleanup);
    const mounted = await step5Mount(synthesized, env, running, log, cleanup);
    const checks = step6Check(env, mounted, log);
    const unnamed = await step7Deny(synthesized, env, running, mounted.tokens, log);
    const all = [...checks, ...unnamed.checks];
    checkNoLeak(all, [env.secretValue, unnamed.value], running.provider.output, unnamed.mountDetails);
    const failed = all.filter((c) => !c.ok);
    if (failed.length) throw new Error(`${failed.length} check(s) failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`);
    log(`\nAll ${all.length} checks passed (${options.identity}) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    return {
      identity: options.identity,
      synthMs,
      totalMs: Date.now() - started,
      secret: { name: env.secretName, arn: env.secretArn, versionId: env.versionId, value: env.secretValue },
      roleArn: env.roleArn,
      expectedMode: mounted.expectedMode,
      mount: mounted.response,
      tree: mounted.tree,
      unnamed: { ...unnamed, checks: undefined } as FlowResult['unnamed'],
      checks: all,
      decisions: env.proxy.decisions,
      providerOutput: running.provider.output,
    };
  } finally {
    for (const stop of cleanup.reverse()) await stop();
  }
}

// ---- Step 1 ------------------------------------------------------------------

async function step1Synth(identity: Identity, log: (l: string) => void): Promise<{ outDir: string; synthMs: number }> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-cdk-out-'));
  const args = ['cdk', 'synth', '--quiet', '-o', outDir, ...(identity === 'pod-identity' ? ['-c', 'identity=pod-identity'] : [])];
  log(`[1/7] Synthesize the sample app with the CDK CLI: npx ${args.join(' ')}`);
  const started = Date.now();
  try {
    await promisify(execFile)('npx', args, {
      cwd: REPO_ROOT,
      env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', CDK_DISABLE_VERSION_CHECK: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    fs.rmSync(outDir, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`cdk synth failed: ${e.message}\n${String(e.stderr ?? '').slice(-2000)}`);
  }
  const synthMs = Date.now() - started;
  log(`      cloud assembly in ${outDir} (${(synthMs / 1000).toFixed(1)} s)`);
  return { outDir, synthMs };
}

// ---- Step 2 ------------------------------------------------------------------

function step2Read(outDir: string, log: (l: string) => void): Synthesized {
  log('[2/7] Read the synthesized output (the only source from here on)');
  const template = loadTemplate(outDir, STACK);
  const objects = kubernetesObjects(template, PLACEHOLDERS);
  const pod = findObject(objects, 'Pod', POD).object;
  const namespace = pod.metadata.namespace ?? 'default';
  const volume = (pod.spec.volumes ?? []).find((v: any) => v.csi?.driver === CSI_DRIVER);
  if (!volume) throw new Error(`Pod ${namespace}/${POD} has no ${CSI_DRIVER} volume in the synthesized manifests.`);
  const volumeAttributes: Record<string, string> = volume.csi.volumeAttributes ?? {};
  const className = volumeAttributes.secretProviderClass;
  const cls = findObject(objects, 'SecretProviderClass', className, namespace).object;
  const serviceAccount = pod.spec.serviceAccountName ?? 'default';
  const sa = findObject(objects, 'ServiceAccount', serviceAccount, namespace);
  const params: Record<string, string> = cls.spec.parameters;
  const { value: validated, problems } = validateClassParameters(params, { region: params.region ?? REGION });
  if (!validated) throw new Error(`The synthesized class ${className} is invalid: ${problems.map((p) => p.message).join('; ')}`);
  const usePodIdentity = parseBool(params.usePodIdentity ?? 'false') ?? false;
  const roleId = roleOf(template, sa, usePodIdentity, namespace, serviceAccount);
  const names = validated.objects.map((o) => o.name);
  const secretIds = resourcesOfType(template, 'AWS::SecretsManager::Secret', (p) => names.includes(p.Name));

  log(`      pod ${namespace}/${POD}: service account ${serviceAccount}, CSI volume attributes ${JSON.stringify(volumeAttributes)}`);
  log(`      SecretProviderClass ${namespace}/${className} (manifest ${findObject(objects, 'SecretProviderClass', className, namespace).manifestId}):`);
  for (const [key, value] of Object.entries(params)) log(`        ${key}: ${JSON.stringify(value)}`);
  log(`      identity: ${usePodIdentity ? 'EKS Pod Identity' : 'IRSA'}; role ${roleId}`);
  log(`      trust policy: ${JSON.stringify(resolve(template.Resources[roleId].Properties!.AssumeRolePolicyDocument, PLACEHOLDERS))}`);
  for (const policy of inlinePoliciesOf(template, roleId)) {
    log(`      policy ${policy.id}: ${JSON.stringify(resolve(policy.props.PolicyDocument, PLACEHOLDERS).Statement)}`);
  }
  log(`      secret(s) the stack creates for the class: ${secretIds.map((id) => `${id} (${template.Resources[id].Properties!.Name})`).join(', ')}`);
  return { template, namespace, serviceAccount, className, volumeAttributes, params, validated, usePodIdentity, roleId, secretIds };
}

/** The role: the service account's IRSA annotation, or the Pod Identity association for it. */
function roleOf(template: Template, sa: KubeObject, usePodIdentity: boolean, namespace: string, name: string): string {
  if (!usePodIdentity) {
    const annotation = sa.object.metadata?.annotations?.['eks.amazonaws.com/role-arn'];
    const id = /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(annotation ?? '')?.[1];
    if (!id) throw new Error(`Service account ${namespace}/${name} has no role annotation that refers to a role of the stack (got ${annotation}).`);
    return id;
  }
  const associations = resourcesOfType(template, 'AWS::EKS::PodIdentityAssociation', (p) => p.Namespace === namespace && p.ServiceAccount === name);
  if (associations.length !== 1) throw new Error(`Expected one Pod Identity association for ${namespace}/${name}, found ${associations.length}.`);
  return references(template.Resources[associations[0]].Properties!.RoleArn)[0];
}

// ---- Step 3 ------------------------------------------------------------------

interface Environment {
  readonly moto: MotoServer;
  readonly proxy: IamPolicyProxy;
  readonly deployment: MotoDeployment;
  readonly issuer: string;
  readonly signingKey: SigningKey;
  readonly roleArn: string;
  readonly secretName: string;
  readonly secretArn: string;
  readonly secretValue: string;
  readonly versionId: string;
  /** The resolved Kubernetes objects (real ARNs). */
  readonly objects: KubeObject[];
}

async function step3Deploy(s: Synthesized, log: (l: string) => void, cleanup: Array<() => Promise<void> | void>): Promise<Environment> {
  log('[3/7] Start moto on 127.0.0.1 and deploy the role and secret from the template');
  const moto = await startOwnMoto();
  cleanup.push(() => stopMoto(moto));
  const signingKey = newSigningKey('e2e-cluster');
  const issuer = `https://oidc.eks.${REGION}.amazonaws.com/id/${randomBytes(16).toString('hex').toUpperCase()}`;
  const proxy = await new IamPolicyProxy({ motoEndpoint: moto.endpoint, account: ACCOUNT, issuers: { [issuer]: jwks(signingKey) } }).start();
  cleanup.push(() => proxy.stop());
  log(`      moto ${moto.endpoint}; policy check in front of it ${proxy.url} (every provider call is judged against the role's policies in moto's IAM)`);

  const target = { stackName: STACK, region: REGION, account: ACCOUNT, endpoint: moto.endpoint, issuerUrl: issuer };
  const deployment = new MotoDeployment(s.template, target);
  const manifests = resourcesOfType(s.template, MANIFEST_TYPE);
  await deployment.deploy(s.roleId, ...s.secretIds, ...manifests.flatMap((id) => references(s.template.Resources[id].Properties!.Manifest)));
  for (const c of deployment.created) log(`      created ${c.type} ${c.logicalId}: ${c.physicalId}`);
  const objects = kubernetesObjects(s.template, deployment);

  const trust = resolve(s.template.Resources[s.roleId].Properties!.AssumeRolePolicyDocument, deployment);
  log(`      trust policy as deployed: ${JSON.stringify(trust.Statement)}`);
  const secretArn = deployment.ref(s.secretIds[0]);
  const admin = new SecretsManagerClient({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' } });
  const current = await admin.send(new GetSecretValueCommand({ SecretId: secretArn }));
  log(`      secret ${current.Name}: value ${mask(current.SecretString!)}, version ${current.VersionId}`);
  return {
    moto,
    proxy,
    deployment,
    issuer,
    signingKey,
    objects,
    roleArn: deployment.getAtt(s.roleId, 'Arn') as string,
    secretName: current.Name!,
    secretArn,
    secretValue: current.SecretString!,
    versionId: current.VersionId!,
  };
}

/** A moto server of this flow's own (a fresh account state: the template's fixed secret name can be created again). */
async function startOwnMoto(): Promise<MotoServer> {
  return startMoto({ fresh: true });
}

// ---- Step 4 ------------------------------------------------------------------

interface Running {
  readonly kube: KubeApiStandIn;
  readonly provider: ProviderProcess;
  readonly agent?: PodIdentityAgentStandIn;
  /** Pod Identity: the access key the agent stand-in hands out for the pod's token. */
  readonly podIdentityToken?: string;
}

async function step4Start(s: Synthesized, env: Environment, log: (l: string) => void, cleanup: Array<() => Promise<void> | void>): Promise<Running> {
  log('[4/7] Start the Kubernetes API stand-in and the provider as the image starts it');
  const sa = findObject(env.objects, 'ServiceAccount', s.serviceAccount, s.namespace).object;
  const pod = findObject(env.objects, 'Pod', POD).object;
  const kube = await new KubeApiStandIn({
    [`/api/v1/namespaces/${s.namespace}/serviceaccounts/${s.serviceAccount}`]: { ...sa, metadata: { ...sa.metadata, uid: POD_UID.replace('pod', 'sa0') } },
    [`/api/v1/namespaces/${s.namespace}/pods/${POD}`]: { ...pod, metadata: { ...pod.metadata, namespace: s.namespace, uid: POD_UID }, spec: { ...pod.spec, nodeName: 'node-e2e' } },
    '/api/v1/nodes/node-e2e': { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-e2e', labels: { 'topology.kubernetes.io/region': REGION } } },
  }).start();
  cleanup.push(() => kube.stop());
  log(`      Kubernetes API stand-in ${kube.url}: service account ${s.namespace}/${s.serviceAccount} `
    + `(annotations ${JSON.stringify(sa.metadata.annotations ?? {})}), pod ${POD} on node-e2e (region label ${REGION})`);

  const podIdentityToken = s.usePodIdentity ? signToken(env, s, POD_IDENTITY_AUDIENCE) : undefined;
  const agent = podIdentityToken ? await startPodIdentityAgent(s, env, podIdentityToken, log) : undefined;
  if (agent) cleanup.push(() => agent.stop());

  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-providers-'));
  const provider = await ProviderProcess.start({
    kube,
    socketDir,
    command: [BUNDLE],
    env: {
      PROVIDER_SOCKET_DIR: socketDir,
      AWS_ENDPOINT_URL: env.proxy.url,
      // No region in the provider's environment: it comes from the pod's node, as on a cluster without AWS_REGION.
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_PROFILE: undefined,
      POD_IDENTITY_ENDPOINT_IPV4: agent?.url,
      POD_IDENTITY_ENDPOINT_IPV6: agent?.url,
    },
  });
  cleanup.push(async () => {
    await provider.stop();
    fs.rmSync(socketDir, { recursive: true, force: true });
  });
  const version = await provider.version();
  log(`      provider: node ${path.relative(REPO_ROOT, BUNDLE)} (socket ${provider.socketPath}); Version -> ${JSON.stringify(version)}`);
  return { kube, provider, agent, podIdentityToken };
}

/**
 * Pod Identity: what EKS Auth does for the agent. The association of the
 * template maps the service account to the role; the role's trust must let
 * pods.eks.amazonaws.com assume it and tag the session; moto's STS issues the
 * credentials, which the agent stand-in hands to the provider for the pod's token.
 */
async function startPodIdentityAgent(s: Synthesized, env: Environment, token: string, log: (l: string) => void): Promise<PodIdentityAgentStandIn> {
  const roleName = env.deployment.ref(s.roleId);
  const trust = resolve(s.template.Resources[s.roleId].Properties!.AssumeRolePolicyDocument, env.deployment);
  for (const action of ['sts:AssumeRole', 'sts:TagSession']) {
    const { decision } = evaluate({ action, principal: { type: 'Service', id: POD_IDENTITY_AUDIENCE } }, [trust]);
    env.proxy.decisions.push({ principal: POD_IDENTITY_AUDIENCE, action, resource: env.roleArn, decision });
    if (decision !== 'Allow') throw new Error(`The role's trust policy does not let ${POD_IDENTITY_AUDIENCE} perform ${action} (${decision}).`);
  }
  const sts = new STSClient({ region: REGION, endpoint: env.moto.endpoint, credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' } });
  const session = `eks-${s.namespace}-${POD}`;
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: env.roleArn, RoleSessionName: session }));
  const accessKeyId = out.Credentials!.AccessKeyId!;
  env.proxy.registerSession(accessKeyId, { roleArn: env.roleArn, roleName, sessionArn: out.AssumedRoleUser!.Arn! });
  const agent = await new PodIdentityAgentStandIn({ [token]: accessKeyId }).start();
  log(`      Pod Identity agent stand-in ${agent.url}: association ${s.namespace}/${s.serviceAccount} -> ${env.roleArn} (trust allows ${POD_IDENTITY_AUDIENCE})`);
  return agent;
}

const POD_UID = '5e1f0c2a-pod0-4a8e-9d3b-0e2e00000001';

/** A projected service-account token of the pod, signed by the stand-in cluster's OIDC key. */
function signToken(env: Environment, s: Synthesized, audience: string): string {
  return signJwt(env.signingKey, {
    'iss': env.issuer,
    'sub': `system:serviceaccount:${s.namespace}:${s.serviceAccount}`,
    'aud': [audience],
    'kubernetes.io': { namespace: s.namespace, pod: { name: POD, uid: POD_UID }, serviceaccount: { name: s.serviceAccount } },
  });
}

// ---- Step 5 ------------------------------------------------------------------

interface Mounted {
  readonly response: MountResponse;
  readonly targetPath: string;
  readonly tree: string;
  readonly expectedMode: number;
  readonly tokens: string;
}

async function step5Mount(
  s: Synthesized, env: Environment, running: Running, log: (l: string) => void, cleanup: Array<() => Promise<void> | void>,
): Promise<Mounted> {
  const audiences = running.podIdentityToken ? `${IRSA_AUDIENCE} and ${POD_IDENTITY_AUDIENCE}` : IRSA_AUDIENCE;
  log(`[5/7] Send the driver's Mount for pod ${POD} (class + volume attributes, ${audiences} tokens, permission 420)`);
  const tokens = tokensAttribute({
    [IRSA_AUDIENCE]: signToken(env, s, IRSA_AUDIENCE),
    ...(running.podIdentityToken ? { [POD_IDENTITY_AUDIENCE]: running.podIdentityToken } : {}),
  });
  const targetPath = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-mount-'));
  cleanup.push(() => fs.rmSync(targetPath, { recursive: true, force: true }));
  const request = driverRequest(s, s.params, tokens, targetPath);
  const response = await running.provider.mount(request);
  writeLikeTheDriver(targetPath, response);
  const tree = fileTree(targetPath, response);
  logDecisions(env.proxy.decisions, log);
  log(`      mounted ${response.files.length} file(s) into ${targetPath} (written as the driver writes them):`);
  for (const line of tree.split('\n')) log(`        ${line}`);
  const expectedMode = s.validated.objects.find((o) => o.fileName === 'db-password')?.mode ?? Number(request.permission);
  return { response, targetPath, tree, expectedMode, tokens };
}

/** The attributes the driver sends: class parameters, then the volume's attributes, then the pod's. */
function driverRequest(s: Synthesized, params: Record<string, string>, tokens: string, targetPath: string) {
  const request = mountRequest({ params, pod: POD, namespace: s.namespace, serviceAccount: s.serviceAccount, tokens, targetPath, permission: 420 });
  const attributes = JSON.parse(request.attributes);
  Object.assign(attributes, s.volumeAttributes, { 'csi.storage.k8s.io/pod.uid': POD_UID, 'secretProviderClass': s.className });
  return { ...request, attributes: JSON.stringify(attributes) };
}

/** What the driver does with the response: each file at its relative path with its mode. */
function writeLikeTheDriver(targetPath: string, response: MountResponse): void {
  for (const file of response.files) {
    const target = path.join(targetPath, file.path);
    if (!target.startsWith(targetPath + path.sep)) throw new Error(`The provider returned a path outside the mount: ${file.path}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.contents, { mode: file.mode });
    fs.chmodSync(target, file.mode);
  }
}

/** `ls -l`-like lines for the mounted files, values masked. */
function fileTree(targetPath: string, response: MountResponse): string {
  const versions = new Map(response.objectVersion.map((v) => [v.id, v.version]));
  const lines = ['/mnt/secrets-store  (in the pod)'];
  for (const file of [...response.files].sort((a, b) => a.path.localeCompare(b.path))) {
    const stat = fs.statSync(path.join(targetPath, file.path));
    const octal = permissionBits(stat.mode).toString(8);
    lines.push(`└── ${file.path}  ${modeString(stat.mode)} (0${octal})  ${mask(Buffer.from(file.contents))}  version ${versions.get(file.path) ?? '-'}`);
  }
  return lines.join('\n');
}

/** The permission bits of a file mode (`mode & 0o777`). */
function permissionBits(mode: number): number {
  return mode % 0o1000;
}

/** `-rw-r--r--` for 0644. */
function modeString(mode: number): string {
  const digits = permissionBits(mode).toString(8).padStart(3, '0').split('').map(Number);
  return '-' + digits.map((d) => `${d >= 4 ? 'r' : '-'}${d % 4 >= 2 ? 'w' : '-'}${d % 2 ? 'x' : '-'}`).join('');
}

/** The policy check's decisions so far, one line each. */
function logDecisions(decisions: readonly PolicyDecision[], log: (l: string) => void): void {
  for (const d of decisions) log(`      policy check: ${d.action} on ${d.resource} -> ${d.decision}`);
}

// ---- Step 6 ------------------------------------------------------------------

function step6Check(env: Environment, mounted: Mounted, log: (l: string) => void): Check[] {
  log('[6/7] Check the mounted file against the secret in moto');
  const file = mounted.response.files.find((f) => f.path === 'db-password');
  const onDisk = path.join(mounted.targetPath, 'db-password');
  const diskMode = fs.existsSync(onDisk) ? permissionBits(fs.statSync(onDisk).mode) : -1;
  const version = mounted.response.objectVersion.find((v) => v.id === 'db-password')?.version;
  const checks: Check[] = [
    check('db-password holds the secret\'s value', file !== undefined && Buffer.from(file.contents).equals(Buffer.from(env.secretValue)),
      file ? `${Buffer.from(file.contents).length} bytes, ${mask(env.secretValue)}` : 'no file db-password'),
    check('db-password has the class\'s file mode', file?.mode === mounted.expectedMode && diskMode === mounted.expectedMode,
      `response ${file?.mode}, on disk 0${diskMode.toString(8)}, expected 0${mounted.expectedMode.toString(8)} (${mounted.expectedMode})`),
    check('object version is the secret\'s VersionId', version === env.versionId, `reported ${version}, secret ${env.versionId}`),
    check('every mounted file has an object version', mounted.response.files.every((f) => mounted.response.objectVersion.some((v) => v.id === f.path)),
      mounted.response.objectVersion.map((v) => v.id).join(', ')),
  ];
  for (const c of checks) log(`      ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  return checks;
}

function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}

// ---- Step 7 ------------------------------------------------------------------

async function step7Deny(s: Synthesized, env: Environment, running: Running, tokens: string, log: (l: string) => void) {
  log('[7/7] A secret the class does not name: the stack\'s role may not read it');
  const name = `not-in-the-class-${Date.now().toString(36)}`;
  await new MotoDeployment({ Resources: { Unnamed: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: name, GenerateSecretString: {} } } } },
    { stackName: STACK, region: REGION, account: ACCOUNT, endpoint: env.moto.endpoint, issuerUrl: env.issuer }).deploy('Unnamed');
  const admin = new SecretsManagerClient({ region: REGION, endpoint: env.moto.endpoint, credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' } });
  const value = (await admin.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!;
  log(`      created secret ${name} (value ${mask(value)}) outside the stack`);

  const credentials = await podCredentials(env, running, tokens);
  const asPod = new SecretsManagerClient({ region: REGION, endpoint: env.proxy.url, credentials, maxAttempts: 1 });
  const getError = await asPod.send(new GetSecretValueCommand({ SecretId: name })).then(() => undefined, (e: Error) => e.name);
  log(`      GetSecretValue ${name} with the pod's role -> ${getError ?? 'ALLOWED'}`);
  const batch = await asPod.send(new BatchGetSecretValueCommand({ SecretIdList: [env.secretName, name] }));
  const batchValues = (batch.SecretValues ?? []).map((v) => v.Name!);
  const batchErrors = (batch.Errors ?? []).map((e) => ({ SecretId: e.SecretId, ErrorCode: e.ErrorCode }));
  log(`      BatchGetSecretValue [${env.secretName}, ${name}] -> values for [${batchValues.join(', ')}], errors ${JSON.stringify(batchErrors)}`);

  // The synthesized class with one more object: the unnamed secret.
  const objects = [...parseYaml(s.params.objects), { objectName: name, objectType: 'secretsmanager', objectAlias: 'unnamed' }];
  const request = driverRequest(s, { ...s.params, objects: toYaml(objects) }, tokens, fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-mount-denied-')));
  const failure = await running.provider.mount(request).then(
    (r) => ({ code: undefined, details: `mounted ${r.files.length} file(s)` }),
    (e: { code?: number; details?: string }) => ({ code: e.code, details: e.details ?? '' }),
  );
  fs.rmSync(request.targetPath, { recursive: true, force: true });
  log(`      Mount of the class plus ${name} -> gRPC ${failure.code}: ${failure.details}`);

  const checks = [
    check('GetSecretValue of an unnamed secret is denied', getError === 'AccessDeniedException', String(getError)),
    check('BatchGetSecretValue returns only the named secret', batchValues.join() === env.secretName
      && batchErrors.some((e) => e.SecretId === name && e.ErrorCode === 'AccessDeniedException'), `values ${batchValues.join()}`),
    check('the mount naming it fails with PERMISSION_DENIED naming the secret', failure.code === 7 && failure.details.includes(name), failure.details),
  ];
  for (const c of checks) log(`      ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`);
  return { name, value, getError, batchValues, batchErrors, mountCode: failure.code, mountDetails: failure.details, checks };
}

/** The pod's credentials, obtained as the provider obtains them (IRSA: STS through the policy check; Pod Identity: the agent). */
async function podCredentials(env: Environment, running: Running, tokens: string) {
  if (running.agent && running.podIdentityToken) {
    const answer = await (await fetch(running.agent.url, { headers: { Authorization: running.podIdentityToken } })).json() as Record<string, string>;
    return { accessKeyId: answer.AccessKeyId, secretAccessKey: answer.SecretAccessKey, sessionToken: answer.Token };
  }
  const token = JSON.parse(tokens)[IRSA_AUDIENCE].token;
  const sts = new STSClient({ region: REGION, endpoint: env.proxy.url });
  const out = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: env.roleArn, RoleSessionName: 'e2e-check', WebIdentityToken: token }));
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
}

// ---- Secrets never shown -----------------------------------------------------

/** A masked rendering of a secret value: only its length. */
export function mask(value: string | Buffer): string {
  return `•••••••• (${Buffer.byteLength(value)} bytes, masked)`;
}

/** Fails the flow if a secret value appears in a check detail, the provider's output or an error. */
function checkNoLeak(checks: Check[], values: string[], ...texts: string[]): void {
  const all = [...checks.map((c) => c.detail), ...texts];
  for (const value of values) {
    if (all.some((t) => t.includes(value))) throw new Error('A secret value appeared in a report line, the provider output or an error.');
  }
}
