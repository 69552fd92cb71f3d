/** Step 1: recent error lines of the driver and provider pods on the node that concern this pod, quoted. */
import type { V1Pod } from '../kube';
import { Check, CheckResult, pass, skip, warn } from '../types';
import { roleOf } from '../workloads';

const ERROR_LINE = /\b(error|failed|fail|denied|forbidden|not found|level=(error|warn)|"level":"?(error|50))|^E\d{4} /i;
const MAX_QUOTES = 5;
const MAX_LINE = 300;

/** Lines of a log that mention the pod (name or uid) and read like errors. */
export function concerning(log: string, needles: string[]): string[] {
  return log.split('\n').filter((line) => needles.some((n) => line.includes(n)) && ERROR_LINE.test(line));
}

async function scan(ctx: Parameters<Check['run']>[0], pod: V1Pod, needles: string[]): Promise<string[]> {
  const quotes: string[] = [];
  for (const container of pod.spec?.containers ?? []) {
    const log = await ctx.kube.readLog(pod.metadata!.namespace!, pod.metadata!.name!, container.name, ctx.options.logLines).catch(() => '');
    for (const line of concerning(log, needles)) {
      quotes.push(`${pod.metadata?.name}/${container.name}: ${line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line}`);
    }
  }
  return quotes.slice(-MAX_QUOTES);
}

export const check: Check = {
  id: 'driver-logs',
  title: 'Driver and provider logs about this pod',
  group: 'driver',
  rank: 90,
  async run(ctx) {
    const pod = await ctx.pod();
    if (!pod?.spec?.nodeName) return [skip('needs a scheduled --pod')];
    const needles = [pod.metadata?.name, pod.metadata?.uid].filter((n): n is string => !!n);
    const results: CheckResult[] = [];
    for (const p of (await ctx.podsOnNode()).filter((x) => roleOf(x.spec, x.metadata?.labels))) {
      const quotes = await scan(ctx, p, needles);
      results.push(quotes.length
        ? warn(`${quotes.length} recent error line(s) in ${p.metadata?.namespace}/${p.metadata?.name} mention this pod`, 'Read the quoted lines; the failing check above usually explains them.', quotes)
        : pass(`no recent error line in ${p.metadata?.namespace}/${p.metadata?.name} mentions this pod (last ${ctx.options.logLines} lines per container)`));
    }
    return results.length ? results : [skip('no driver or provider pod on the node')];
  },
};
