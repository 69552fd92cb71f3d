/**
 * Step 4: every CSI volume of the pod uses the Secrets Store driver, is
 * read-only, and names a SecretProviderClass that exists in the pod's
 * namespace (suggesting a near-miss name or the namespace where it lives).
 */
import { DRIVER_NAME, DoctorContext } from '../context';
import { Check, CheckResult, fail, pass, skip } from '../types';

/** Levenshtein distance, for near-miss names. */
export function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** The closest candidate within a third of the name's length, if any. */
export function nearMiss(name: string, candidates: string[]): string | undefined {
  const scored = candidates.map((c) => ({ c, d: distance(name, c) })).filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3)));
  return scored.sort((x, y) => x.d - y.d)[0]?.c;
}

/** Why a class name does not resolve in the namespace, with the fix. */
export async function missingClass(ctx: DoctorContext, name: string, where: string): Promise<CheckResult> {
  const ns = ctx.options.namespace;
  const elsewhere = (await ctx.classesEverywhere()).filter((c) => c.metadata.name === name).map((c) => c.metadata.namespace);
  if (elsewhere.length) {
    return fail(`${where} SecretProviderClass "${name}" is not in namespace ${ns}; it exists in namespace ${elsewhere.join(', ')}`,
      `A class is only visible to pods in its own namespace: create "${name}" in namespace ${ns} (or run the pod in ${elsewhere[0]}).`);
  }
  const guess = nearMiss(name, (await ctx.classesInNamespace()).map((c) => c.metadata.name));
  return fail(`${where} SecretProviderClass "${name}" does not exist in namespace ${ns}`,
    guess ? `Did you mean "${guess}"? Set volumeAttributes.secretProviderClass: ${guess}.` : `Create SecretProviderClass "${name}" in namespace ${ns}, or fix the name.`);
}

export const check: Check = {
  id: 'volume-csi',
  title: 'CSI volumes of the pod',
  group: 'volume',
  rank: 5,
  async run(ctx) {
    if (!(await ctx.pod())) return [skip('needs --pod')];
    const volumes = await ctx.csiVolumes();
    if (!volumes.length) return [fail('the pod has no CSI volume', `Add a csi volume with driver ${DRIVER_NAME} and volumeAttributes.secretProviderClass.`)];
    const results: CheckResult[] = [];
    for (const v of volumes) {
      const where = `volume "${v.name}":`;
      const className = v.attributes.secretProviderClass;
      if (v.driver !== DRIVER_NAME) results.push(fail(`${where} driver is "${v.driver}"`, `Set csi.driver: ${DRIVER_NAME}.`));
      else if (v.readOnly !== true) results.push(fail(`${where} csi.readOnly is not true`, 'Set csi.readOnly: true; the driver refuses writable volumes.'));
      else if (!className) results.push(fail(`${where} has no volumeAttributes.secretProviderClass`, 'Set volumeAttributes.secretProviderClass to the class name.'));
      else if (!(await ctx.classesInNamespace()).some((c) => c.metadata.name === className)) results.push(await missingClass(ctx, className, where));
      else results.push(pass(`${where} ${DRIVER_NAME}, read-only, class "${className}"`));
    }
    return results;
  },
};
