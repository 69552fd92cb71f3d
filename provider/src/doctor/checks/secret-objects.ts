/** Step 4: `secretObjects` (sync to Kubernetes Secrets) refer to files the class really mounts, after path translation. */
import { Check, CheckResult, fail, pass } from '../types';

export const check: Check = {
  id: 'secret-objects',
  title: 'secretObjects refer to mounted files',
  group: 'volume',
  rank: 14,
  async run(ctx) {
    const results: CheckResult[] = [];
    for (const c of await ctx.classes()) {
      const value = c.validation?.value;
      const synced = c.object?.spec?.secretObjects ?? [];
      if (!value || !synced.length) continue;
      const files = value.objects.flatMap((o) => [o.fileName, ...o.jmesPath.map((j) => j.fileName)]);
      for (const s of synced) {
        for (const d of s.data ?? []) {
          const where = `class "${c.name}" secretObjects "${s.secretName}" key "${d.key}"`;
          if (files.includes(d.objectName ?? '')) results.push(pass(`${where} -> file ${d.objectName}`));
          else results.push(fail(`${where}: objectName "${d.objectName}" is not a mounted file`, `Use one of the mounted file names: ${files.join(', ')}.`));
        }
      }
    }
    return results.length ? results : [pass('no secretObjects to sync')];
  },
};
