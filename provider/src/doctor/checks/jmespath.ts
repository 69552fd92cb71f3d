/**
 * Step 2: each jmesPath path finds a string in the secret's JSON. The value is
 * read for this alone and never shown: results name the path, the alias and
 * the JSON type found.
 */
import { search } from 'jmespath';
import { isNotFound } from '../aws';
import { DoctorContext, ObjectView, parameterName } from '../context';
import { Check, CheckResult, fail, pass, skip, warn } from '../types';

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

async function readValue(ctx: DoctorContext, view: ObjectView) {
  const o = view.object;
  return o.type === 'secretsmanager'
    ? ctx.aws.secretString(view.region, o.name, o.version, o.versionLabel)
    : ctx.aws.parameterString(view.region, parameterName(o.version ? `${o.name}:${o.version}` : o.versionLabel ? `${o.name}:${o.versionLabel}` : o.name));
}

async function checkObject(ctx: DoctorContext, view: ObjectView): Promise<CheckResult[]> {
  const value = await readValue(ctx, view);
  if (!value.ok) {
    return [isNotFound(value) ? skip(`${view.label}: not readable (see objects-exist / versions)`) : warn(`${view.label}: cannot read the value (${value.code})`, 'Run with credentials that may read the secret to check jmesPath.')];
  }
  let json: unknown;
  try {
    json = JSON.parse(value.value ?? '');
  } catch {
    return [fail(`${view.label}: the value is not valid JSON, so its jmesPath entries cannot be evaluated`, 'Store the secret as a JSON object, or remove jmesPath from this object.')];
  }
  return view.object.jmesPath.map((j) => {
    const found: unknown = search(json as never, j.path);
    if (typeof found === 'string') return pass(`${view.label}: path ${j.path} -> file ${j.fileName} (a string)`);
    const keys = json && typeof json === 'object' && !Array.isArray(json) ? Object.keys(json).join(', ') : typeOf(json);
    return fail(`${view.label}: jmesPath ${j.path} (alias ${j.alias}) finds ${found === null ? 'nothing' : `a ${typeOf(found)}, not a string`}; top-level keys: ${keys}`,
      'Fix the path (quote keys with hyphens, e.g. "my-key") or add the key to the secret.');
  });
}

export const check: Check = {
  id: 'jmespath',
  title: 'jmesPath paths find strings',
  group: 'class',
  rank: 60,
  async run(ctx) {
    const views = (await ctx.objects()).filter((v) => v.object.jmesPath.length > 0);
    if (!views.length) return [pass('no object uses jmesPath')];
    const results: CheckResult[] = [];
    for (const v of views) {
      if (await ctx.missing(v)) results.push(skip(`${v.label}: object missing (see objects-exist)`));
      else results.push(...(await checkObject(ctx, v)));
    }
    return results;
  },
};
