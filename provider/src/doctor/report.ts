/**
 * Runs the checks and renders their results: root cause first (the failing
 * result of lowest rank), then every group in checklist order, then a
 * summary. Human text (aligned, coloured only on a TTY) or JSON.
 */
import { DoctorContext } from './context';
import { FatalError } from './errors';
import { Check, CheckResult, GROUPS, Group, ReportEntry, Status } from './types';

export interface Report {
  readonly target: Record<string, string | undefined>;
  /** The failing results, root cause first. */
  readonly rootCauses: ReportEntry[];
  readonly results: ReportEntry[];
  readonly summary: Record<Status, number>;
}

/** Run every check (sequentially, so progress reads in order); a crashing check becomes a `warn`. */
export async function runChecks(ctx: DoctorContext, checks: readonly Check[], progress: (text: string) => void): Promise<ReportEntry[]> {
  const entries: ReportEntry[] = [];
  const ordered = [...checks].sort((a, b) => groupIndex(a.group) - groupIndex(b.group) || a.rank - b.rank);
  for (const check of ordered) {
    progress(`checking ${GROUPS[check.group]}: ${check.title}`);
    let results: CheckResult[];
    try {
      results = await check.run(ctx);
    } catch (err) {
      const fix = err instanceof FatalError ? err.fix : 'Fix the access problem named and run again.';
      results = [{ status: 'warn', detail: `the check could not run: ${(err as Error).message}`, fix }];
    }
    for (const r of results) entries.push({ ...r, check: check.id, title: check.title, group: check.group, rank: check.rank });
  }
  return entries;
}

const groupIndex = (g: Group): number => Object.keys(GROUPS).indexOf(g);

export function buildReport(target: Report['target'], results: ReportEntry[]): Report {
  const rootCauses = results.filter((r) => r.status === 'fail').sort((a, b) => a.rank - b.rank);
  const summary: Record<Status, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) summary[r.status]++;
  return { target, rootCauses, results, summary };
}

const SYMBOL: Record<Status, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };
const COLOUR: Record<Status, number> = { pass: 32, warn: 33, fail: 31, skip: 90 };

/** Human-readable report; `colour` only when stdout is a TTY. */
export function renderText(report: Report, colour: boolean): string {
  const paint = (s: Status, text: string) => (colour ? `\u001b[${COLOUR[s]}m${text}\u001b[0m` : text);
  const bold = (text: string) => (colour ? `\u001b[1m${text}\u001b[0m` : text);
  const width = Math.max(...report.results.map((r) => r.check.length));
  const line = (r: ReportEntry, prefix = '') => {
    const out = [`  ${paint(r.status, SYMBOL[r.status])}  ${prefix}${r.check.padEnd(width)}  ${r.detail}`];
    // Evidence backs up problems; a passing line stays one line (JSON keeps all evidence).
    for (const e of r.status === 'pass' ? [] : r.evidence ?? []) out.push(`        ${' '.repeat(width)}  | ${e}`);
    if (r.fix && r.status !== 'pass' && r.status !== 'skip') out.push(`        ${' '.repeat(width)}  fix: ${r.fix}`);
    return out.join('\n');
  };

  const out: string[] = [bold(`secrets-store-doctor: ${Object.entries(report.target).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ')}`), ''];
  if (report.rootCauses.length) {
    out.push(bold('Root cause'), line(report.rootCauses[0]), '');
  }
  for (const group of Object.keys(GROUPS) as Group[]) {
    const entries = report.results.filter((r) => r.group === group);
    if (!entries.length) continue;
    out.push(bold(GROUPS[group]), ...entries.map((r) => line(r)), '');
  }
  const s = report.summary;
  out.push(`${s.pass} passed, ${s.warn} warning(s), ${s.fail} failed, ${s.skip} skipped`);
  return `${out.join('\n')}\n`;
}

export function renderJson(report: Report): string {
  return `${JSON.stringify({ ...report, rootCause: report.rootCauses[0] ?? null }, null, 2)}\n`;
}

/** Last line of defence: blank out any secret value the run read (never expected to trigger). */
export function redact(text: string, values: Iterable<string>): string {
  let out = text;
  for (const v of values) if (v.length >= 4) out = out.split(v).join('<redacted>');
  return out;
}
