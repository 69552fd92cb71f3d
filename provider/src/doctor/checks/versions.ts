/** Step 6: every objectVersion and objectVersionLabel exists (Secrets Manager version ids and stages, SSM versions and labels). */
import { ParameterInfo, SecretInfo } from '../aws';
import { DoctorContext, ObjectView } from '../context';
import { Check, CheckResult, fail, pass, skip } from '../types';

function secretVersion(view: ObjectView, info: SecretInfo): CheckResult {
  const { version, versionLabel } = view.object;
  const known = info.versions.map((v) => `${v.id}${v.stages.length ? ` [${v.stages.join(',')}]` : ''}`);
  if (version && !info.versions.some((v) => v.id === version)) {
    return fail(`${view.label}: objectVersion ${version} does not exist`, 'Use an existing VersionId (or drop objectVersion to follow AWSCURRENT).', known.map((k) => `version ${k}`));
  }
  if (versionLabel && !info.versions.some((v) => v.stages.includes(versionLabel) && (!version || v.id === version))) {
    return fail(`${view.label}: objectVersionLabel ${versionLabel} is not attached to ${version ? `version ${version}` : 'any version'}`, 'Use an existing stage such as AWSCURRENT or AWSPREVIOUS.', known.map((k) => `version ${k}`));
  }
  return pass(`${view.label}: ${version ? `version ${version}` : ''}${version && versionLabel ? ', ' : ''}${versionLabel ? `label ${versionLabel}` : ''} exists`);
}

function parameterVersion(view: ObjectView, info: ParameterInfo): CheckResult {
  const { version, versionLabel } = view.object;
  const known = info.versions.map((v) => `version ${v.version}${v.labels.length ? ` [${v.labels.join(',')}]` : ''}`);
  if (version && !info.versions.some((v) => String(v.version) === version)) {
    return fail(`${view.label}: objectVersion ${version} does not exist (latest ${Math.max(0, ...info.versions.map((v) => v.version))})`, 'Use an existing parameter version, or drop objectVersion.', known);
  }
  if (versionLabel && !info.versions.some((v) => v.labels.includes(versionLabel))) {
    return fail(`${view.label}: objectVersionLabel ${versionLabel} is on no version`, 'Label a version (aws ssm label-parameter-version) or fix the label.', known);
  }
  return pass(`${view.label}: ${version ? `version ${version}` : `label ${versionLabel}`} exists`);
}

async function checkObject(ctx: DoctorContext, view: ObjectView): Promise<CheckResult> {
  const found = await ctx.lookup(view.object, view.region);
  if (!found.ok) return skip(`${view.label}: not found (see objects-exist)`);
  return view.object.type === 'secretsmanager' ? secretVersion(view, found.value as SecretInfo) : parameterVersion(view, found.value as ParameterInfo);
}

export const check: Check = {
  id: 'versions',
  title: 'Pinned versions and labels exist',
  group: 'versions',
  rank: 45,
  async run(ctx) {
    const pinned = (await ctx.objects()).filter((v) => v.object.version || v.object.versionLabel);
    if (!pinned.length) return [pass('no object pins a version or label (the current version is mounted)')];
    return Promise.all(pinned.map((v) => checkObject(ctx, v)));
  },
};
