/**
 * Step 3: the role's policies allow every call the provider makes on every
 * object (secretsmanager:GetSecretValue, ssm:GetParameters, and kms:Decrypt on
 * a customer-managed key), decided by IAM's policy simulator; when the
 * simulator cannot be called, by the local evaluator in ../policy.ts. A denied
 * object gets the missing statement printed.
 */
import { AwsResult, ParameterInfo, SecretInfo } from '../aws';
import { DoctorContext, ObjectView } from '../context';
import { Decision, evaluate, grantStatement } from '../policy';
import { Check, CheckResult, fail, pass, skip, warn } from '../types';
import { roleName } from './identity';

/** One call the provider makes for an object. */
export interface Need {
  readonly action: string;
  readonly resource: string;
}

/** The KMS key ARN of a customer-managed key, or undefined for the AWS managed key. */
export function cmkArn(keyId: string | undefined, objectArn: string, managedAlias: string): string | undefined {
  if (!keyId || keyId === managedAlias || keyId.endsWith(`:${managedAlias}`)) return undefined;
  if (keyId.startsWith('arn:')) return keyId;
  const [, partition, , region, account] = objectArn.split(':');
  return `arn:${partition}:kms:${region}:${account}:${keyId.startsWith('alias/') ? keyId : `key/${keyId}`}`;
}

/** The calls the provider makes for one object found in AWS. */
export function needs(view: ObjectView, found: SecretInfo | ParameterInfo): Need[] {
  if (view.object.type === 'secretsmanager') {
    const key = cmkArn((found as SecretInfo).kmsKeyId, found.arn, 'alias/aws/secretsmanager');
    return [{ action: 'secretsmanager:GetSecretValue', resource: found.arn }, ...(key ? [{ action: 'kms:Decrypt', resource: key }] : [])];
  }
  const p = found as ParameterInfo;
  const key = p.type === 'SecureString' ? cmkArn(p.keyId, p.arn, 'alias/aws/ssm') : undefined;
  return [{ action: 'ssm:GetParameters', resource: p.arn }, ...(key ? [{ action: 'kms:Decrypt', resource: key }] : [])];
}

type Decider = (need: Need) => Decision;

/** Decisions from IAM's simulator, else from the role's own documents evaluated locally. */
async function decider(ctx: DoctorContext, roleArn: string, all: Need[]): Promise<{ decide: Decider; how: string } | CheckResult> {
  const sim = await ctx.aws.simulate(roleArn, [...new Set(all.map((n) => n.action))], [...new Set(all.map((n) => n.resource))]);
  if (sim.ok) {
    const map = new Map(sim.value.map((d) => [`${d.action}|${d.resource}`, d.decision]));
    const asDecision = (d?: string): Decision => (d === 'allowed' ? 'allowed' : d === 'explicitDeny' ? 'explicitDeny' : 'implicitDeny');
    return { decide: (n) => asDecision(map.get(`${n.action}|${n.resource}`)), how: 'IAM policy simulator' };
  }
  const role = await ctx.aws.role(roleName(roleArn));
  if (!role.ok) return skip(`role ${roleArn} not readable (see identity)`);
  const docs = role.value.policies.map((p) => p.document);
  return { decide: (n) => evaluate(docs, n.action, n.resource), how: `local evaluation of the role's policies (IAM policy simulator unavailable: ${(sim as { code: string }).code})` };
}

async function foundObjects(ctx: DoctorContext): Promise<Array<{ view: ObjectView; needs: Need[] }>> {
  const out: Array<{ view: ObjectView; needs: Need[] }> = [];
  for (const view of await ctx.objects()) {
    const found = (await ctx.lookup(view.object, view.region)) as AwsResult<SecretInfo | ParameterInfo>;
    if (found.ok) out.push({ view, needs: needs(view, found.value) });
  }
  return out;
}

function verdict(roleArn: string, view: ObjectView, needed: Need[], decide: Decider, how: string): CheckResult {
  const denied = needed.filter((n) => decide(n) !== 'allowed');
  if (!denied.length) return pass(`role ${roleName(roleArn)} may ${needed.map((n) => n.action).join(' + ')} on ${view.label}`, [`decided by ${how}`]);
  const conditional = denied.every((n) => decide(n) === 'conditional');
  const text = `role ${roleName(roleArn)} may not ${denied.map((n) => `${n.action} (${decide(n)})`).join(', ')} on ${view.label}`;
  const grant = grantStatement([...new Set(denied.map((n) => n.action))], [...new Set(denied.map((n) => n.resource))]);
  const fix = denied.some((n) => decide(n) === 'explicitDeny')
    ? `An explicit Deny blocks it (a role policy, the permissions boundary or an organization SCP): narrow that Deny so that this is allowed: ${grant}`
    : `Add this statement to the role's policy: ${grant}`;
  const evidence = [`decided by ${how}`, ...denied.map((n) => `${n.action} on ${n.resource}: ${decide(n)}`)];
  return conditional ? warn(`${text}: a Condition decides, which this check cannot evaluate`, fix, evidence) : fail(text, fix, evidence);
}

export const check: Check = {
  id: 'permissions',
  title: 'Role policies allow every call',
  group: 'iam',
  rank: 50,
  async run(ctx) {
    const id = await ctx.identity();
    if (!id?.roleArns.length) return [skip('no role (see identity)')];
    const objects = await foundObjects(ctx);
    if (!objects.length) return [skip('no object found in AWS (see objects-exist)')];
    const results: CheckResult[] = [];
    for (const roleArn of id.roleArns) {
      const d = await decider(ctx, roleArn, objects.flatMap((o) => o.needs));
      if ('status' in d) results.push(d);
      else results.push(...objects.map((o) => verdict(roleArn, o.view, o.needs, d.decide, d.how)));
    }
    return results;
  },
};
