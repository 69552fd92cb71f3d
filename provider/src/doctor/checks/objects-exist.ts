/**
 * Step 2: each object exists in its region (Secrets Manager or SSM). When it
 * does not, the other plausible regions are searched so a secret created in
 * the wrong region is named as such.
 */
import { isDenied, isNotFound } from '../aws';
import { DoctorContext, ObjectView } from '../context';
import { Check, CheckResult, fail, pass, skip, warn } from '../types';

async function foundElsewhere(ctx: DoctorContext, view: ObjectView): Promise<string | undefined> {
  for (const region of await ctx.otherRegions(view.region)) {
    if ((await ctx.lookup(view.object, region)).ok) return region;
  }
  return undefined;
}

async function checkObject(ctx: DoctorContext, view: ObjectView): Promise<CheckResult> {
  const found = await ctx.lookup(view.object, view.region);
  if (found.ok) return pass(`${view.label} exists: ${found.value.arn}`);
  if (isDenied(found)) return warn(`${view.label}: cannot verify, your credentials were denied (${found.code})`, 'Run the doctor with credentials that may describe the secret.');
  if (!isNotFound(found)) return warn(`${view.label}: lookup failed (${found.code}: ${found.message})`, 'Check your AWS credentials and network.');
  const service = view.object.type === 'secretsmanager' ? 'Secrets Manager secret' : 'SSM parameter';
  if (view.failover) {
    return fail(`${view.label}: no ${service} "${view.object.name}" in the failover region ${view.region} (${found.code})`,
      `Replicate the ${service} to ${view.region} (or create it there), or remove failoverRegion from the class.`);
  }
  const other = await foundElsewhere(ctx, view);
  if (other) {
    return fail(`${view.label}: no ${service} "${view.object.name}" in ${view.region}, but it exists in ${other}`,
      `Set the class parameter region: ${other} (the objects are read in ${view.region}), or create the ${service} in ${view.region}.`);
  }
  return fail(`${view.label}: no ${service} "${view.object.name}" in ${view.region} (${found.code})`,
    `Fix objectName (check the spelling: aws ${view.object.type === 'secretsmanager' ? 'secretsmanager list-secrets' : 'ssm describe-parameters'} --region ${view.region}) or create the ${service}.`);
}

export const check: Check = {
  id: 'objects-exist',
  title: 'Objects exist in their region',
  group: 'class',
  rank: 40,
  async run(ctx) {
    const views = await ctx.objects();
    if (!views.length) return [skip('no valid class objects')];
    return Promise.all(views.map((v) => checkObject(ctx, v)));
  },
};
