/** Step 2: the SecretProviderClass exists in the namespace and is for provider `aws`. */
import { Check, CheckResult, fail, pass, skip } from '../types';
import { missingClass } from './volume-csi';

export const check: Check = {
  id: 'class-exists',
  title: 'SecretProviderClass exists for provider aws',
  group: 'class',
  rank: 10,
  async run(ctx) {
    const classes = await ctx.classes();
    if (!classes.length) return [skip('no class named (by --class or a secrets-store volume)')];
    const viaPod = !ctx.options.className;
    const results: CheckResult[] = [];
    for (const c of classes) {
      const provider = c.object?.spec?.provider;
      if (!c.object && viaPod) results.push(skip(`class "${c.name}" not found (see volume-csi)`));
      else if (!c.object) results.push(await missingClass(ctx, c.name, '--class:'));
      else if (provider !== 'aws') results.push(fail(`class "${c.name}" has spec.provider "${provider ?? ''}"`, 'Set spec.provider: aws.'));
      else results.push(pass(`class "${c.name}" in namespace ${ctx.options.namespace}, provider aws, region ${c.region} (from ${c.regionSource})`));
    }
    return results;
  },
};
