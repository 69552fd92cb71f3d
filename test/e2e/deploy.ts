/**
 * "Deploys" the parts of the synthesized template that the mount depends on
 * into moto, as CloudFormation would: a resource is created the first time
 * something refers to it (a manifest's role annotation, a trust policy's OIDC
 * provider, ...), with properties resolved from the template. The EKS cluster
 * itself is a stand-in (a name and an OIDC issuer URL), since no cluster runs.
 */
import { randomBytes } from 'node:crypto';
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, GetRandomPasswordCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PhysicalValues, pseudoParameters, resolve, resourcesOfType, Template } from './synthesized';

/** A deployed resource: what `Ref` returns and its attributes. */
interface Deployed {
  readonly ref: string;
  readonly attributes: Record<string, unknown>;
}

/** Where the template is deployed. */
export interface DeployTarget {
  readonly stackName: string;
  readonly region: string;
  readonly account: string;
  /** moto's endpoint (written to directly, with admin credentials). */
  readonly endpoint: string;
  /** The OIDC issuer URL the stand-in cluster reports (`https://...`). */
  readonly issuerUrl: string;
}

/** What was created, for the step-by-step report (never secret values). */
export interface DeployedRecord {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
}

export class MotoDeployment implements PhysicalValues {
  public readonly created: DeployedRecord[] = [];
  private readonly deployed = new Map<string, Promise<Deployed> | Deployed>();
  private readonly pseudo: Record<string, string>;
  private readonly iam: IAMClient;
  private readonly secrets: SecretsManagerClient;

  constructor(private readonly template: Template, private readonly target: DeployTarget) {
    this.pseudo = { ...pseudoParameters(target.region, target.account), 'AWS::StackName': target.stackName };
    const config = { region: target.region, endpoint: target.endpoint, credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' } };
    this.iam = new IAMClient(config);
    this.secrets = new SecretsManagerClient(config);
  }

  /**
   * Makes sure `logicalIds` (and everything they refer to) exist. Values are
   * resolved synchronously afterwards, so deploy first, then `resolve`.
   */
  public async deploy(...logicalIds: string[]): Promise<void> {
    for (const id of logicalIds) await this.ensure(id);
  }

  /** Deploys everything `value` refers to, then resolves it. */
  public async resolveDeploying(value: unknown): Promise<any> {
    await this.deploy(...references(value));
    return resolve(value, this);
  }

  public ref(logicalId: string): string {
    if (logicalId in this.pseudo) return this.pseudo[logicalId];
    return this.get(logicalId).ref;
  }

  public getAtt(logicalId: string, attribute: string): unknown {
    const value = this.get(logicalId).attributes[attribute];
    if (value === undefined) throw new Error(`The stand-in deployment has no attribute ${attribute} for ${logicalId}.`);
    return value;
  }

  private get(logicalId: string): Deployed {
    const value = this.deployed.get(logicalId);
    if (!value || value instanceof Promise) throw new Error(`${logicalId} is not deployed yet; call deploy() before resolving.`);
    return value;
  }

  private async ensure(logicalId: string): Promise<void> {
    if (logicalId in this.pseudo || this.deployed.has(logicalId)) {
      await this.deployed.get(logicalId);
      return;
    }
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`The template has no resource ${logicalId}.`);
    // A custom resource's handler (ServiceToken) is not deployed: the stand-in does the handler's job itself.
    // The cluster is a stand-in too: its own dependencies (VPC, roles, ...) are not needed.
    const { ServiceToken: _handler, ...all } = resource.Properties ?? {};
    const properties = resource.Type === 'AWS::EKS::Cluster' ? { Name: typeof all.Name === 'string' ? all.Name : undefined } : all;
    const pending = (async () => {
      await this.deploy(...references(properties));
      const props = resolve(properties, this);
      const result = await this.create(logicalId, resource.Type, props);
      this.deployed.set(logicalId, result);
      this.created.push({ logicalId, type: resource.Type, physicalId: result.ref });
      return result;
    })();
    this.deployed.set(logicalId, pending);
    await pending;
  }

  private async create(logicalId: string, type: string, props: Record<string, any>): Promise<Deployed> {
    switch (type) {
      case 'AWS::EKS::Cluster': return this.cluster(logicalId, props);
      case 'AWS::IAM::OIDCProvider': return this.oidcProvider(props);
      case 'Custom::AWSCDKCfnJson': return { ref: logicalId, attributes: { Value: JSON.parse(props.Value) } };
      case 'AWS::SecretsManager::Secret': return this.secret(props);
      case 'AWS::IAM::Role': return this.role(logicalId, props);
      default:
        throw new Error(`The end-to-end deployment does not create ${type} (${logicalId}); extend test/e2e/deploy.ts.`);
    }
  }

  /** The stand-in cluster: a name and the OIDC issuer (no cluster runs). */
  private cluster(logicalId: string, props: Record<string, any>): Deployed {
    const name = props.Name ?? `${logicalId}-${randomBytes(4).toString('hex')}`;
    const arn = `arn:aws:eks:${this.target.region}:${this.target.account}:cluster/${name}`;
    return { ref: name, attributes: { Arn: arn, OpenIdConnectIssuerUrl: this.target.issuerUrl, Endpoint: 'https://127.0.0.1' } };
  }

  private async oidcProvider(props: Record<string, any>): Promise<Deployed> {
    const out = await this.iam.send(new CreateOpenIDConnectProviderCommand({
      Url: props.Url, ClientIDList: props.ClientIdList, ThumbprintList: props.ThumbprintList ?? ['0'.repeat(40)],
    }));
    return { ref: out.OpenIDConnectProviderArn!, attributes: { Arn: out.OpenIDConnectProviderArn } };
  }

  /** A secret with a value generated like CloudFormation's GenerateSecretString (moto's GetRandomPassword). */
  private async secret(props: Record<string, any>): Promise<Deployed> {
    const value = props.SecretString ?? await this.generate(props.GenerateSecretString ?? {});
    const out = await this.secrets.send(new CreateSecretCommand({
      Name: props.Name ?? `${this.target.stackName}-secret-${randomBytes(4).toString('hex')}`,
      Description: props.Description,
      SecretString: value,
    }));
    return { ref: out.ARN!, attributes: { Id: out.ARN } };
  }

  private async generate(spec: Record<string, any>): Promise<string> {
    const { RandomPassword } = await this.secrets.send(new GetRandomPasswordCommand({
      PasswordLength: spec.PasswordLength,
      ExcludeCharacters: spec.ExcludeCharacters,
      ExcludeLowercase: spec.ExcludeLowercase,
      ExcludeUppercase: spec.ExcludeUppercase,
      ExcludeNumbers: spec.ExcludeNumbers,
      ExcludePunctuation: spec.ExcludePunctuation,
      IncludeSpace: spec.IncludeSpace,
      RequireEachIncludedType: spec.RequireEachIncludedType,
    }));
    if (!spec.GenerateStringKey) return RandomPassword!;
    return JSON.stringify({ ...JSON.parse(spec.SecretStringTemplate ?? '{}'), [spec.GenerateStringKey]: RandomPassword });
  }

  /** The role with its trust policy, and every AWS::IAM::Policy of the template that names it. */
  private async role(logicalId: string, props: Record<string, any>): Promise<Deployed> {
    if (props.ManagedPolicyArns?.length) throw new Error(`Role ${logicalId} has managed policies; extend test/e2e/deploy.ts to attach them.`);
    const name = props.RoleName ?? `${this.target.stackName}-${logicalId}-${randomBytes(6).toString('hex').toUpperCase()}`.slice(-64);
    const out = await this.iam.send(new CreateRoleCommand({
      RoleName: name,
      Path: props.Path,
      Description: props.Description,
      AssumeRolePolicyDocument: JSON.stringify(props.AssumeRolePolicyDocument),
    }));
    const deployed = { ref: name, attributes: { Arn: out.Role!.Arn, RoleId: out.Role!.RoleId } };
    this.deployed.set(logicalId, deployed);
    for (const policy of inlinePoliciesOf(this.template, logicalId)) {
      const document = await this.resolveDeploying(policy.props.PolicyDocument);
      const PolicyName = policy.props.PolicyName;
      await this.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName, PolicyDocument: JSON.stringify(document) }));
      this.created.push({ logicalId: policy.id, type: 'AWS::IAM::Policy', physicalId: `${name}/${policy.props.PolicyName}` });
    }
    return deployed;
  }
}

/** AWS::IAM::Policy resources attached to the role `roleId` (by `Ref`). */
export function inlinePoliciesOf(template: Template, roleId: string): Array<{ id: string; props: Record<string, any> }> {
  return resourcesOfType(template, 'AWS::IAM::Policy', (p) => (p.Roles ?? []).some((r: any) => r?.Ref === roleId))
    .map((id) => ({ id, props: template.Resources[id].Properties! }));
}

/** Logical ids that `value` refers to through Ref, Fn::GetAtt or Fn::Sub. */
export function references(value: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    for (const [key, arg] of Object.entries(v)) {
      if (key === 'Ref' && typeof arg === 'string') {found.add(arg);} else if (key === 'Fn::GetAtt') {found.add(Array.isArray(arg) ? arg[0] : String(arg).split('.')[0]);} else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
        for (const m of String(text).matchAll(/\$\{([^}.!]+)[^}]*\}/g)) if (!(m[1] in variables)) found.add(m[1]);
        walk(variables);
      } else {walk(arg);}
    }
  };
  walk(value);
  return [...found].filter((id) => !id.startsWith('AWS::'));
}
