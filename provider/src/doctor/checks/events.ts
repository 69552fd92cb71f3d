/** Step 5: the pod's warning events, summarized and mapped to the check that explains them. */
import type { CoreV1Event } from '../kube';
import { Check, CheckResult, pass, skip, warn } from '../types';

/** Which check an event message points to (first match wins). */
const MAPPING: Array<[RegExp, string]> = [
  [/secretproviderclass.*not found|failed to get secretproviderclass/i, 'volume-csi'],
  [/provider not found|\.sock|connection refused|no such file or directory.*provider/i, 'driver-on-node'],
  [/token|audience/i, 'csidriver-tokens'],
  [/AccessDenied|not authorized|AssumeRoleWithWebIdentity|InvalidIdentityToken/i, 'permissions / trust'],
  [/role-arn|annotation|service ?account/i, 'identity'],
  [/ResourceNotFoundException|ParameterNotFound|can't find|not found/i, 'objects-exist'],
  [/version/i, 'versions'],
  [/jmes/i, 'jmespath'],
];

export function mapEvent(message: string): string {
  return MAPPING.find(([re]) => re.test(message))?.[1] ?? 'unmapped';
}

function summarize(e: CoreV1Event): string {
  const count = e.count ?? e.series?.count ?? 1;
  const message = (e.message ?? '').replace(/\s+/g, ' ').slice(0, 400);
  return `${e.reason} x${count} -> ${mapEvent(message)}: ${message}`;
}

export const check: Check = {
  id: 'events',
  title: 'Warning events of the pod',
  group: 'events',
  rank: 95,
  async run(ctx) {
    if (!(await ctx.pod())) return [skip('needs --pod')];
    const warnings = (await ctx.events()).filter((e) => e.type === 'Warning');
    if (!warnings.length) return [pass('no warning events')];
    const reasons = [...new Set(warnings.map((e) => e.reason))].join(', ');
    const results: CheckResult[] = [warn(`${warnings.length} warning event(s): ${reasons}`, 'Each event is mapped to the check that explains it; fix that check, then delete the pod to retry the mount.', warnings.map(summarize))];
    return results;
  },
};
