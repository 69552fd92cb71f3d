/**
 * The policy check in front of moto. moto 5 cannot enforce IAM for the
 * provider's calls (its access-control mode sees every Secrets Manager call as
 * resource `*`, has no `?` wildcard, does not check each secret of a
 * BatchGetSecretValue, and fails unsigned AssumeRoleWithWebIdentity calls), so
 * every call the provider makes passes through here first:
 *
 * - AssumeRoleWithWebIdentity: the token's signature is verified with the
 *   stand-in cluster's key, its issuer must be an OIDC provider in moto's IAM
 *   with the token's audience, and the role's trust policy (read from moto's
 *   IAM) must allow the call for the token's `aud`/`sub`. Then moto issues the
 *   credentials and the proxy remembers which role they belong to.
 * - Secrets Manager calls: the signing key must be credentials issued for a
 *   role (with its session token); the role's policies (read from moto's IAM)
 *   must allow the action on the secret's ARN. BatchGetSecretValue needs
 *   `secretsmanager:BatchGetSecretValue`, and each secret is checked for
 *   `secretsmanager:GetSecretValue`: denied ones come back in `Errors`, as AWS
 *   answers.
 * - Anything else is refused (fail closed).
 */
import * as http from 'node:http';
import {
  GetOpenIDConnectProviderCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListAttachedRolePoliciesCommand,
  ListOpenIDConnectProvidersCommand, ListRolePoliciesCommand, GetPolicyCommand, GetPolicyVersionCommand,
} from '@aws-sdk/client-iam';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { evaluate, PolicyDocument, PolicyRequest } from './iam-policy';
import { decodeJwt, verifyJwt } from './jwt';
import { LoopbackServer } from '../support/loopback';

/** A role session the proxy knows, keyed by its access key id. */
export interface RoleSession {
  readonly roleArn: string;
  readonly roleName: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  readonly sessionArn: string;
  /** Required in `X-Amz-Security-Token` when set. */
  readonly sessionToken?: string;
}

/** One decision of the policy check (the demo prints these; tests assert them). */
export interface PolicyDecision {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny' | 'InvalidIdentityToken' | 'UnrecognizedClient';
}

export interface IamProxyOptions {
  readonly motoEndpoint: string;
  readonly account: string;
  /** The signing keys of each OIDC issuer (`iss` claim), standing in for the issuer's JWKS document. */
  readonly issuers: Record<string, { keys: Array<Record<string, unknown>> }>;
}

class Refusal extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export class IamPolicyProxy {
  public readonly decisions: PolicyDecision[] = [];
  private readonly sessions = new Map<string, RoleSession>();
  private readonly iam: IAMClient;
  private readonly admin: (region: string) => SecretsManagerClient;
  private readonly listener = new LoopbackServer('IamPolicyProxy', (req, body, res) => this.handle(req, body.toString(), res));

  constructor(private readonly options: IamProxyOptions) {
    const config = (region: string) => ({ region, endpoint: options.motoEndpoint, credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' } });
    this.iam = new IAMClient(config('us-east-1'));
    this.admin = (region) => new SecretsManagerClient(config(region));
  }

  public get url(): string {
    return this.listener.url;
  }

  /** Credentials issued outside the proxy (Pod Identity: EKS Auth's AssumeRoleForPodIdentity stand-in). */
  public registerSession(accessKeyId: string, session: RoleSession): void {
    this.sessions.set(accessKeyId, session);
  }

  public async start(): Promise<this> {
    await this.listener.start();
    return this;
  }

  public async stop(): Promise<void> {
    await this.listener.stop();
    this.iam.destroy();
  }

  private async handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    try {
      if (target.startsWith('secretsmanager.')) return await this.secretsManager(req, target.slice('secretsmanager.'.length), body, res);
      const action = new URLSearchParams(body).get('Action');
      if (!target && action === 'AssumeRoleWithWebIdentity') return await this.assumeRoleWithWebIdentity(req, body, res);
      throw new Refusal(400, 'UnsupportedOperation', `The policy check does not handle ${target || action || req.url}; it refuses what it cannot judge.`);
    } catch (err) {
      const refusal = err instanceof Refusal ? err : new Refusal(500, 'InternalFailure', `policy check failed: ${(err as Error).message}`);
      if (target) sendJsonError(res, refusal);
      else sendXmlError(res, refusal);
    }
  }

  // ---- STS ----------------------------------------------------------------

  private async assumeRoleWithWebIdentity(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const form = new URLSearchParams(body);
    const roleArn = form.get('RoleArn') ?? '';
    const claims = await this.verifyToken(form.get('WebIdentityToken') ?? '', roleArn);
    const providerArn = `arn:aws:iam::${this.options.account}:oidc-provider/${claims.host}`;
    const role = await this.iam.send(new GetRoleCommand({ RoleName: roleArn.split('/').pop() })).catch(() => undefined);
    const trust: PolicyDocument | undefined = role?.Role?.AssumeRolePolicyDocument
      ? JSON.parse(decodeURIComponent(role.Role.AssumeRolePolicyDocument)) : undefined;
    const request: PolicyRequest = {
      action: 'sts:AssumeRoleWithWebIdentity',
      principal: { type: 'Federated', id: providerArn },
      context: { [`${claims.host}:aud`]: claims.aud, [`${claims.host}:sub`]: claims.sub },
    };
    const decision = trust ? evaluate(request, [trust]).decision : 'ImplicitDeny';
    this.decisions.push({ principal: `${claims.host} ${claims.sub}`, action: request.action, resource: roleArn, decision });
    if (decision !== 'Allow') {
      throw new Refusal(403, 'AccessDenied', `Not authorized to perform sts:AssumeRoleWithWebIdentity on ${roleArn} (trust policy: ${decision}).`);
    }
    const answer = await forward(this.options.motoEndpoint, req, body);
    this.rememberIssued(answer.body, roleArn);
    reply(res, answer);
  }

  /** The token's claims after checking signature, issuer (an OIDC provider in IAM) and audience (its client ids). */
  private async verifyToken(token: string, roleArn: string): Promise<{ host: string; aud: string; sub: string }> {
    const invalid = (why: string) => {
      this.decisions.push({ principal: 'web identity', action: 'sts:AssumeRoleWithWebIdentity', resource: roleArn, decision: 'InvalidIdentityToken' });
      return new Refusal(400, 'InvalidIdentityToken', why);
    };
    let issuer: string;
    try {
      issuer = String(decodeJwt(token).iss);
    } catch {
      throw invalid('The web identity token is not a JWT.');
    }
    const host = issuer.replace(/^https:\/\//, '');
    const provider = await this.findOidcProvider(host);
    const keys = this.options.issuers[issuer];
    if (!provider || !keys) throw invalid(`No OpenIDConnect provider found in your account for ${issuer}`);
    let claims: Record<string, any>;
    try {
      claims = verifyJwt(token, keys, issuer);
    } catch (err) {
      throw invalid(`The web identity token is not valid: ${(err as Error).message}`);
    }
    const audiences = ([] as string[]).concat(claims.aud ?? []);
    const aud = audiences.find((a) => provider.includes(a));
    if (!aud) throw invalid(`Incorrect token audience: ${audiences.join(', ')}`);
    return { host, aud, sub: String(claims.sub) };
  }

  /** The client id list of the OIDC provider for `host`, or undefined when IAM has none. */
  private async findOidcProvider(host: string): Promise<string[] | undefined> {
    const list = await this.iam.send(new ListOpenIDConnectProvidersCommand({}));
    const arn = (list.OpenIDConnectProviderList ?? []).map((p) => p.Arn!).find((a) => a.endsWith(`:oidc-provider/${host}`));
    if (!arn) return undefined;
    const provider = await this.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    return provider.ClientIDList ?? [];
  }

  private rememberIssued(xml: string, roleArn: string): void {
    const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
    const accessKeyId = tag('AccessKeyId');
    if (!accessKeyId) return;
    this.sessions.set(accessKeyId, {
      roleArn, roleName: roleArn.split('/').pop()!, sessionArn: tag('Arn') ?? roleArn, sessionToken: tag('SessionToken'),
    });
  }

  // ---- Secrets Manager ----------------------------------------------------

  private async secretsManager(req: http.IncomingMessage, operation: string, body: string, res: http.ServerResponse): Promise<void> {
    const session = this.sessionOf(req, `secretsmanager:${operation}`);
    const region = signingRegion(req);
    const input = JSON.parse(body || '{}');
    const policies = await this.policiesOf(session.roleName);
    if (operation === 'BatchGetSecretValue') return this.batch(req, input, session, policies, region, res);
    if (!['GetSecretValue', 'DescribeSecret'].includes(operation)) {
      throw new Refusal(400, 'UnsupportedOperation', `The policy check does not know the resource of secretsmanager:${operation}.`);
    }
    const arn = await this.secretArn(input.SecretId, region);
    this.authorize(session, policies, `secretsmanager:${operation}`, arn, input.SecretId);
    reply(res, await forward(this.options.motoEndpoint, req, body));
  }

  /** Batch: the action on `*`, then GetSecretValue per secret; denied secrets are answered in `Errors`. */
  private async batch(
    req: http.IncomingMessage, input: any, session: RoleSession, policies: PolicyDocument[], region: string, res: http.ServerResponse,
  ): Promise<void> {
    if (input.Filters) throw new Refusal(400, 'UnsupportedOperation', 'The policy check handles BatchGetSecretValue with SecretIdList only.');
    this.authorize(session, policies, 'secretsmanager:BatchGetSecretValue', '*', 'BatchGetSecretValue');
    const allowed: string[] = [];
    const errors: Array<Record<string, string>> = [];
    for (const id of input.SecretIdList ?? []) {
      try {
        this.authorize(session, policies, 'secretsmanager:GetSecretValue', await this.secretArn(id, region), id);
        allowed.push(id);
      } catch (err) {
        errors.push({ SecretId: id, ErrorCode: (err as Refusal).code, Message: (err as Refusal).message });
      }
    }
    let answer: any = { SecretValues: [], Errors: [] };
    if (allowed.length > 0) {
      const upstream = await forward(this.options.motoEndpoint, req, JSON.stringify({ ...input, SecretIdList: allowed }));
      if (upstream.status !== 200) return reply(res, upstream);
      answer = JSON.parse(upstream.body);
    }
    const merged = JSON.stringify({ ...answer, Errors: [...(answer.Errors ?? []), ...errors] });
    reply(res, { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: merged });
  }

  /** Throws AccessDeniedException unless the role's policies allow `action` on `resource`. */
  private authorize(session: RoleSession, policies: PolicyDocument[], action: string, resource: string, subject: string): void {
    const { decision } = evaluate({ action, resource }, policies);
    this.decisions.push({ principal: session.sessionArn, action, resource, decision });
    if (decision === 'Allow') return;
    const why = decision === 'ExplicitDeny' ? 'with an explicit deny in an identity-based policy' : 'because no identity-based policy allows the action';
    throw new Refusal(400, 'AccessDeniedException',
      `User: ${session.sessionArn} is not authorized to perform: ${action} on resource: ${subject} ${why}`);
  }

  /** The session of the request's signing key; unknown keys and wrong session tokens are refused. */
  private sessionOf(req: http.IncomingMessage, action: string): RoleSession {
    const keyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    const session = this.sessions.get(keyId);
    if (!session || (session.sessionToken && session.sessionToken !== req.headers['x-amz-security-token'])) {
      this.decisions.push({ principal: keyId || 'anonymous', action, resource: '-', decision: 'UnrecognizedClient' });
      throw new Refusal(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    return session;
  }

  /** The role's inline and attached policies, as stored in moto's IAM. */
  private async policiesOf(roleName: string): Promise<PolicyDocument[]> {
    const names = (await this.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
    const inline = await Promise.all(names.map(async (PolicyName) =>
      (await this.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName }))).PolicyDocument!));
    const attached = (await this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies ?? [];
    const managed = await Promise.all(attached.map(async ({ PolicyArn }) => {
      const policy = await this.iam.send(new GetPolicyCommand({ PolicyArn }));
      const version = await this.iam.send(new GetPolicyVersionCommand({ PolicyArn, VersionId: policy.Policy!.DefaultVersionId }));
      return version.PolicyVersion!.Document!;
    }));
    return [...inline, ...managed].map((doc) => JSON.parse(decodeURIComponent(doc)));
  }

  /** The ARN a secret id stands for (name, partial or full ARN); a missing secret is judged by its name's ARN, as AWS does. */
  private async secretArn(secretId: string, region: string): Promise<string> {
    const found = await this.admin(region).send(new DescribeSecretCommand({ SecretId: secretId })).catch(() => undefined);
    if (found?.ARN) return found.ARN;
    return secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:${region}:${this.options.account}:secret:${secretId}`;
  }
}

interface Upstream {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function signingRegion(req: http.IncomingMessage): string {
  return /Credential=[^/]+\/\d+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'us-east-1';
}

/** Sends the request on to moto (body possibly rewritten) and reads the whole answer. */
function forward(endpoint: string, req: http.IncomingMessage, body: string): Promise<Upstream> {
  const headers = { ...req.headers, 'host': new URL(endpoint).host, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const upstream = http.request(`${endpoint}${req.url}`, { method: req.method, headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c) => chunks.push(c));
      up.on('end', () => resolve({ status: up.statusCode ?? 502, headers: up.headers, body: Buffer.concat(chunks).toString() }));
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function reply(res: http.ServerResponse, answer: Upstream): void {
  const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) };
  delete headers['transfer-encoding'];
  res.writeHead(answer.status, headers).end(answer.body);
}

function sendJsonError(res: http.ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': refusal.code });
  res.end(JSON.stringify({ __type: refusal.code, message: refusal.message }));
}

function sendXmlError(res: http.ServerResponse, refusal: Refusal): void {
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  res.writeHead(refusal.status, { 'content-type': 'text/xml' });
  res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${refusal.code}</Code>`
    + `<Message>${escape(refusal.message)}</Message></Error><RequestId>e2e-policy-check</RequestId></ErrorResponse>`);
}
