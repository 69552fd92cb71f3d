/** Step 6: the driver's rotation settings, as its container arguments set them. */
import { Check, pass, skip } from '../types';
import { roleOf } from '../workloads';

/** Value of `--name=value` or `--name value` in an argument list; `true` for a bare flag. */
export function flag(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1] && !args[i + 1].startsWith('--') ? args[i + 1] : 'true';
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

export const check: Check = {
  id: 'rotation',
  title: 'Driver rotation settings',
  group: 'versions',
  rank: 96,
  async run(ctx) {
    const pods = (await ctx.pod()) ? await ctx.podsOnNode() : [];
    const sets = pods.length ? [] : await ctx.daemonSets();
    const spec = pods.find((p) => roleOf(p.spec, p.metadata?.labels) === 'driver')?.spec
      ?? sets.find((d) => roleOf(d.spec?.template?.spec, d.spec?.template?.metadata?.labels) === 'driver')?.spec?.template?.spec;
    if (!spec) return [skip('no driver found to read settings from')];
    const args = spec.containers.flatMap((c) => c.args ?? []);
    const enabled = flag(args, 'enable-secret-rotation') === 'true';
    const interval = flag(args, 'rotation-poll-interval') ?? '2m (driver default)';
    return [pass(enabled
      ? `rotation enabled, poll interval ${interval}: files follow new versions after at most one interval`
      : 'rotation disabled: files keep the version mounted at pod start until the pod restarts (set enableSecretRotation=true in the driver chart)')];
  },
};
