/**
 * Step 3: the identity the pod will use exists: the service account with its
 * IRSA role annotation, or a Pod Identity association; and the role itself.
 */
import { isDenied, isNotFound } from '../aws';
import { DoctorContext, ROLE_ANNOTATION } from '../context';
import { Check, CheckResult, fail, pass, skip, warn } from '../types';

/** The role name of a role ARN (the last element of its path). */
export const roleName = (arn: string): string => arn.split('/').pop() ?? arn;

async function checkRole(ctx: DoctorContext, arn: string, via: string): Promise<CheckResult> {
  const role = await ctx.aws.role(roleName(arn));
  if (role.ok) return pass(`${via} role ${arn} exists with ${role.value.policies.length} policy document(s)`);
  if (isNotFound(role)) return fail(`${via} role ${arn} does not exist`, `Create the role, or point ${via} at an existing role.`);
  if (isDenied(role)) return warn(`cannot read role ${arn} (${role.code})`, 'Run the doctor with iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, iam:GetPolicy, iam:GetPolicyVersion.');
  return warn(`reading role ${arn} failed (${role.code}: ${role.message})`, 'Check your AWS credentials.');
}

async function missingRole(ctx: DoctorContext, id: NonNullable<Awaited<ReturnType<DoctorContext['identity']>>>): Promise<CheckResult> {
  const sa = `${ctx.options.namespace}/${id.serviceAccount}`;
  if (id.problem === 'no-sa') return fail(`service account ${sa} does not exist`, `Create service account ${id.serviceAccount} in namespace ${ctx.options.namespace}.`);
  if (id.problem === 'annotation') {
    return fail(`service account ${sa} has no ${ROLE_ANNOTATION} annotation, so the provider has no role for IRSA`,
      `kubectl -n ${ctx.options.namespace} annotate serviceaccount ${id.serviceAccount} ${ROLE_ANNOTATION}=arn:aws:iam::<account>:role/<role>  (or use Pod Identity: usePodIdentity: "true" and an association).`);
  }
  if (id.problem === 'no-cluster') return warn(`cannot look up Pod Identity associations of ${sa}: cluster name unknown`, 'Pass --cluster-name.');
  if (id.problem === 'association') {
    return fail(`no Pod Identity association for service account ${sa}`,
      `aws eks create-pod-identity-association --cluster-name ${(await ctx.clusterName()) ?? '<cluster>'} --namespace ${ctx.options.namespace} --service-account ${id.serviceAccount} --role-arn <role>`);
  }
  return warn(`Pod Identity associations of ${sa} could not be read (${id.problem})`, 'Run with eks:ListPodIdentityAssociations and eks:DescribePodIdentityAssociation.');
}

export const check: Check = {
  id: 'identity',
  title: 'Workload identity and role',
  group: 'iam',
  rank: 20,
  async run(ctx) {
    const id = await ctx.identity();
    if (!id) return [skip('needs --pod or --service-account')];
    if (!id.roleArns.length) return [await missingRole(ctx, id)];
    const via = id.kind === 'irsa' ? `service account ${ctx.options.namespace}/${id.serviceAccount} (IRSA)` : `Pod Identity association of ${ctx.options.namespace}/${id.serviceAccount}`;
    return Promise.all(id.roleArns.map((arn) => checkRole(ctx, arn, via)));
  },
};
