/**
 * Read-only AWS lookups of the doctor, one SDK client per service and region,
 * every answer cached for the run. Calls never throw: they return the AWS
 * error code, so a check can say "not found" or "access denied" precisely.
 * Secret values are only ever returned to the jmesPath check, never printed.
 */
import { EKSClient, DescribeClusterCommand, ListPodIdentityAssociationsCommand, DescribePodIdentityAssociationCommand } from '@aws-sdk/client-eks';
import {
  IAMClient,
  GetRoleCommand,
  ListRolePoliciesCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  SecretsManagerClient,
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  GetSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { SSMClient, GetParameterCommand, GetParameterHistoryCommand } from '@aws-sdk/client-ssm';

/** An AWS answer: the value, or the service's error code and message. */
export type AwsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string; readonly message: string };

const NOT_FOUND = new Set(['ResourceNotFoundException', 'ParameterNotFound', 'NoSuchEntity', 'NoSuchEntityException', 'ParameterVersionNotFound', 'NotFoundException']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnrecognizedClientException']);

export const isNotFound = (r: AwsResult<unknown>): boolean => !r.ok && NOT_FOUND.has(r.code);
export const isDenied = (r: AwsResult<unknown>): boolean => !r.ok && DENIED.has(r.code);

/** Metadata of a Secrets Manager secret. */
export interface SecretInfo {
  readonly arn: string;
  readonly name: string;
  /** The KMS key as set on the secret; undefined = the AWS managed key `aws/secretsmanager`. */
  readonly kmsKeyId?: string;
  /** Every version id with its stages (deprecated versions included). */
  readonly versions: Array<{ readonly id: string; readonly stages: string[] }>;
}

/** Metadata of an SSM parameter. */
export interface ParameterInfo {
  readonly arn: string;
  readonly name: string;
  readonly type: string;
  readonly keyId?: string;
  readonly versions: Array<{ readonly version: number; readonly labels: string[] }>;
}

/** A role with the policy documents attached to it (decoded JSON). */
export interface RoleInfo {
  readonly arn: string;
  readonly name: string;
  readonly trust: unknown;
  readonly policies: Array<{ readonly name: string; readonly document: unknown }>;
}

/** One decision of IAM's policy simulator. */
export interface SimulatedDecision {
  readonly action: string;
  readonly resource: string;
  readonly decision: string;
}

async function call<T>(fn: () => Promise<T>): Promise<AwsResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const e = err as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    // An unparseable answer (a proxy or an endpoint without the API) has no code: name its HTTP status instead.
    const generic = !e.Code && (!e.name || e.name === 'Error' || e.name === 'SyntaxError');
    const code = generic ? `HTTP ${e.$metadata?.httpStatusCode ?? '?'}` : (e.Code ?? e.name!);
    return { ok: false, code, message: (e.message ?? String(err)).split('\n')[0] };
  }
}

const decode = (doc: string | undefined): unknown => (doc ? JSON.parse(decodeURIComponent(doc)) : undefined);

/** Cached read-only AWS lookups. */
export class AwsReader {
  /** Every secret value read (and its JSON string leaves), so the report can prove none is printed. */
  public readonly secretValues = new Set<string>();
  private readonly cache = new Map<string, Promise<AwsResult<unknown>>>();
  private readonly clients = new Map<string, unknown>();

  /** @param defaultRegion region for global services (IAM) and EKS when none is given. */
  constructor(private readonly defaultRegion: string) {}

  public describeSecret(region: string, secretId: string): Promise<AwsResult<SecretInfo>> {
    return this.once(`sm:${region}:${secretId}`, async () => {
      const sm = this.client(SecretsManagerClient, region);
      const info = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
      const versions: SecretInfo['versions'] = [];
      let token: string | undefined;
      do {
        const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true, NextToken: token }));
        for (const v of page.Versions ?? []) versions.push({ id: v.VersionId ?? '', stages: v.VersionStages ?? [] });
        token = page.NextToken;
      } while (token);
      return { arn: info.ARN ?? '', name: info.Name ?? secretId, kmsKeyId: info.KmsKeyId, versions };
    });
  }

  /** The secret's string (only for evaluating jmesPath; never print it). */
  public secretString(region: string, secretId: string, versionId?: string, stage?: string): Promise<AwsResult<string | undefined>> {
    return this.once(`smv:${region}:${secretId}:${versionId}:${stage}`, async () => {
      const sm = this.client(SecretsManagerClient, region);
      const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId, VersionStage: stage }));
      this.remember(out.SecretString);
      return out.SecretString;
    });
  }

  public describeParameter(region: string, name: string): Promise<AwsResult<ParameterInfo>> {
    return this.once(`ssm:${region}:${name}`, async () => {
      const ssm = this.client(SSMClient, region);
      const current = await ssm.send(new GetParameterCommand({ Name: name }));
      const versions: ParameterInfo['versions'] = [];
      let keyId: string | undefined;
      let token: string | undefined;
      do {
        const page = await ssm.send(new GetParameterHistoryCommand({ Name: name, NextToken: token }));
        for (const p of page.Parameters ?? []) {
          versions.push({ version: p.Version ?? 0, labels: p.Labels ?? [] });
          keyId = p.KeyId ?? keyId;
        }
        token = page.NextToken;
      } while (token);
      const p = current.Parameter ?? {};
      return { arn: p.ARN ?? '', name: p.Name ?? name, type: p.Type ?? 'String', keyId, versions };
    });
  }

  /** The parameter's value (only for evaluating jmesPath; never print it). */
  public parameterString(region: string, name: string): Promise<AwsResult<string | undefined>> {
    return this.once(`ssmv:${region}:${name}`, async () => {
      const out = await this.client(SSMClient, region).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      this.remember(out.Parameter?.Value);
      return out.Parameter?.Value;
    });
  }

  /** The role with its trust policy, inline policies and attached managed policies (default versions). */
  public role(roleName: string): Promise<AwsResult<RoleInfo>> {
    return this.once(`role:${roleName}`, async () => {
      const iam = this.client(IAMClient, this.defaultRegion);
      const role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role!;
      const policies: RoleInfo['policies'] = [];
      for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? []) {
        const doc = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
        policies.push({ name, document: decode(doc.PolicyDocument) });
      }
      for (const attached of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies ?? []) {
        const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: attached.PolicyArn }))).Policy!;
        const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: attached.PolicyArn, VersionId: policy.DefaultVersionId }));
        policies.push({ name: attached.PolicyName ?? attached.PolicyArn ?? '', document: decode(version.PolicyVersion?.Document) });
      }
      return { arn: role.Arn ?? '', name: roleName, trust: decode(role.AssumeRolePolicyDocument), policies };
    });
  }

  /** IAM's policy simulator for a role: one decision per action and resource. */
  public simulate(roleArn: string, actions: string[], resources: string[]): Promise<AwsResult<SimulatedDecision[]>> {
    return this.once(`sim:${roleArn}:${actions.join()}:${resources.join()}`, async () => {
      const iam = this.client(IAMClient, this.defaultRegion);
      const decisions: SimulatedDecision[] = [];
      let marker: string | undefined;
      do {
        const page = await iam.send(new SimulatePrincipalPolicyCommand({
          PolicySourceArn: roleArn, ActionNames: actions, ResourceArns: resources, Marker: marker,
        }));
        for (const r of page.EvaluationResults ?? []) {
          decisions.push({ action: r.EvalActionName ?? '', resource: r.EvalResourceName ?? '*', decision: r.EvalDecision ?? '' });
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      return decisions;
    });
  }

  /** The cluster's OIDC issuer URL. */
  public oidcIssuer(region: string, clusterName: string): Promise<AwsResult<string | undefined>> {
    return this.once(`eks:${region}:${clusterName}`, async () => {
      const out = await this.client(EKSClient, region).send(new DescribeClusterCommand({ name: clusterName }));
      return out.cluster?.identity?.oidc?.issuer;
    });
  }

  /** Role ARNs of the Pod Identity associations of one service account. */
  public podIdentityRoles(region: string, clusterName: string, namespace: string, serviceAccount: string): Promise<AwsResult<string[]>> {
    return this.once(`pia:${region}:${clusterName}:${namespace}:${serviceAccount}`, async () => {
      const eks = this.client(EKSClient, region);
      const list = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName, namespace, serviceAccount }));
      const roles: string[] = [];
      for (const a of list.associations ?? []) {
        const out = await eks.send(new DescribePodIdentityAssociationCommand({ clusterName, associationId: a.associationId }));
        if (out.association?.roleArn) roles.push(out.association.roleArn);
      }
      return roles;
    });
  }

  private remember(value: string | undefined): void {
    if (!value) return;
    this.secretValues.add(value);
    try {
      const leaves = (v: unknown): unknown[] => (v && typeof v === 'object' ? Object.values(v).flatMap(leaves) : [v]);
      for (const leaf of leaves(JSON.parse(value))) if (typeof leaf === 'string' && leaf) this.secretValues.add(leaf);
    } catch {
      // not JSON: the whole value is remembered
    }
  }

  private once<T>(key: string, fn: () => Promise<T>): Promise<AwsResult<T>> {
    if (!this.cache.has(key)) this.cache.set(key, call(fn));
    return this.cache.get(key) as Promise<AwsResult<T>>;
  }

  private client<C>(ctor: new (config: { region: string }) => C, region: string): C {
    const key = `${ctor.name}:${region}`;
    if (!this.clients.has(key)) this.clients.set(key, new ctor({ region }));
    return this.clients.get(key) as C;
  }
}
