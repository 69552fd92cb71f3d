/**
 * Step 3: the role's trust policy accepts this cluster's OIDC issuer, this
 * exact service account and the audience (IRSA), or the Pod Identity service.
 */
import { DoctorContext, Identity } from '../context';
import { conditionValues, statements, trustStatements, wildcardMatch } from '../policy';
import { Check, CheckResult, fail, pass, skip, warn } from '../types';
import { IRSA_AUDIENCE } from './csidriver-tokens';
import { roleName } from './identity';

const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';

/** The OIDC provider ARN IAM uses for an issuer URL. */
export const oidcProviderArn = (account: string, issuer: string): string => `arn:aws:iam::${account}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`;

async function clusterIssuer(ctx: DoctorContext): Promise<{ url?: string; note?: string }> {
  const cluster = await ctx.clusterName();
  if (!cluster) return { note: 'cluster name unknown (pass --cluster-name): the issuer itself is not verified' };
  const out = await ctx.aws.oidcIssuer(ctx.options.region, cluster);
  return out.ok && out.value ? { url: out.value } : { note: `DescribeCluster ${cluster} failed (${out.ok ? 'no issuer' : out.code}): the issuer itself is not verified` };
}

function irsaVerdict(trust: unknown, subject: string, providerArns: string[], note?: string): CheckResult {
  const found: string[] = [];
  for (const providerArn of providerArns) {
    const host = providerArn.split(':oidc-provider/')[1];
    for (const s of trustStatements(trust, 'sts:AssumeRoleWithWebIdentity', { federated: providerArn })) {
      const sub = conditionValues(s, `${host}:sub`);
      const aud = conditionValues(s, `${host}:aud`);
      found.push(`${providerArn} sub=${sub?.values.join('|') ?? '(any)'} aud=${aud?.values.join('|') ?? '(any)'}`);
      const subOk = !sub || sub.values.some((v) => (sub.like ? wildcardMatch(v, subject) : v === subject));
      const audOk = !aud || aud.values.some((v) => (aud.like ? wildcardMatch(v, IRSA_AUDIENCE) : v === IRSA_AUDIENCE));
      if (subOk && audOk && sub) return pass(`trust accepts ${subject} with audience ${IRSA_AUDIENCE} from ${host}${note ? `; ${note}` : ''}`);
      if (subOk && audOk) return warn(`trust accepts ${host} tokens without a sub condition: every service account of the cluster may assume the role`, `Pin "${host}:sub": "${subject}" in the trust policy.`);
    }
  }
  return { status: 'fail', detail: '', evidence: found };
}

async function checkIrsa(ctx: DoctorContext, id: Identity, roleArn: string, trust: unknown): Promise<CheckResult> {
  const subject = `system:serviceaccount:${ctx.options.namespace}:${id.serviceAccount}`;
  const account = roleArn.split(':')[4];
  const iss = await clusterIssuer(ctx);
  const federated = statements(trust).flatMap((s) => [(s.Principal as { Federated?: string | string[] } | undefined)?.Federated ?? []].flat())
    .filter((f) => f.includes(':oidc-provider/'));
  const candidates = iss.url ? [oidcProviderArn(account, iss.url)] : federated;
  const verdict = irsaVerdict(trust, subject, candidates, iss.note);
  if (verdict.status !== 'fail') return verdict;
  const host = candidates[0]?.split(':oidc-provider/')[1] ?? (iss.url ?? '<issuer>').replace(/^https:\/\//, '');
  if (!verdict.evidence?.length) {
    return fail(`role ${roleName(roleArn)} trusts no web identity from ${iss.url ?? 'an OIDC provider'}${federated.length ? `; it trusts ${federated.join(', ')}` : ''}`,
      `Add a trust statement: Principal.Federated ${oidcProviderArn(account, iss.url ?? host)}, Action sts:AssumeRoleWithWebIdentity, StringEquals {"${host}:sub": "${subject}", "${host}:aud": "${IRSA_AUDIENCE}"}.`);
  }
  return fail(`role ${roleName(roleArn)} trust does not accept ${subject} with audience ${IRSA_AUDIENCE}`,
    `Set the trust condition StringEquals {"${host}:sub": "${subject}", "${host}:aud": "${IRSA_AUDIENCE}"}.`, verdict.evidence.map((e) => `trusted: ${e}`));
}

function checkPodIdentity(roleArn: string, trust: unknown): CheckResult {
  const assume = trustStatements(trust, 'sts:AssumeRole', { service: POD_IDENTITY_SERVICE });
  const tag = trustStatements(trust, 'sts:TagSession', { service: POD_IDENTITY_SERVICE });
  if (assume.length && tag.length) return pass(`role ${roleName(roleArn)} trusts ${POD_IDENTITY_SERVICE} (sts:AssumeRole, sts:TagSession)`);
  return fail(`role ${roleName(roleArn)} trust does not allow ${POD_IDENTITY_SERVICE} both sts:AssumeRole and sts:TagSession`,
    `Add a trust statement: Principal.Service ${POD_IDENTITY_SERVICE}, Action [sts:AssumeRole, sts:TagSession].`);
}

export const check: Check = {
  id: 'trust',
  title: 'Role trust accepts the pod',
  group: 'iam',
  rank: 22,
  async run(ctx) {
    const id = await ctx.identity();
    if (!id?.roleArns.length) return [skip('no role (see identity)')];
    const results: CheckResult[] = [];
    for (const arn of id.roleArns) {
      const role = await ctx.aws.role(roleName(arn));
      if (!role.ok) results.push(skip(`role ${arn} not readable (see identity)`));
      else results.push(id.kind === 'irsa' ? await checkIrsa(ctx, id, arn, role.value.trust) : checkPodIdentity(arn, role.value.trust));
    }
    return results;
  },
};
