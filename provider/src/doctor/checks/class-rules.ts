/** Step 2: every parameter and object passes the shared contract rules (the ones the provider applies at mount). */
import { Check, CheckResult, fail, pass, skip, warn } from '../types';

export const check: Check = {
  id: 'class-rules',
  title: 'Class parameters and objects follow the rules',
  group: 'class',
  rank: 12,
  async run(ctx) {
    const results: CheckResult[] = [];
    for (const c of await ctx.classes()) {
      if (!c.validation) continue;
      for (const p of c.validation.problems) results.push(fail(`class "${c.name}" ${p.subject}: ${p.message}`, p.fix));
      for (const w of c.validation.warnings) results.push(warn(`class "${c.name}" ${w.subject}: ${w.message}`, w.fix));
      if (c.validation.value) {
        const files = c.validation.value.objects.flatMap((o) => [o.fileName, ...o.jmesPath.map((j) => j.fileName)]);
        results.push(pass(`class "${c.name}": ${c.validation.value.objects.length} object(s) valid; files ${files.join(', ')}`));
      }
    }
    return results.length ? results : [skip('no class to validate')];
  },
};
