/**
 * The vocabulary of the doctor: a check is one file in `checks/` that reads
 * the shared context and returns results; the report orders them.
 */
import type { DoctorContext } from './context';

/** Outcome of one check. `skip` means the check could not run (a prerequisite failed or it does not apply). */
export type Status = 'pass' | 'warn' | 'fail' | 'skip';

/** The steps of the manual troubleshooting checklist, in the order they are reported. */
export const GROUPS = {
  driver: 'Driver and provider',
  class: 'SecretProviderClass',
  iam: 'IAM',
  volume: 'Volume',
  events: 'Events',
  versions: 'Versions',
} as const;
export type Group = keyof typeof GROUPS;

/** One finding of a check. */
export interface CheckResult {
  readonly status: Status;
  /** What was found, one line: names the object and the value seen. Never a secret value. */
  readonly detail: string;
  /** Supporting lines (quoted log lines, policy statements, events). */
  readonly evidence?: string[];
  /** What to change, when the status is warn or fail. */
  readonly fix?: string;
}

/** A check: one file in `checks/`, listed in `checks/index.ts`. */
export interface Check {
  /** Stable id, the check's file name (e.g. `class-exists`). */
  readonly id: string;
  readonly title: string;
  readonly group: Group;
  /**
   * Causal order for picking the root cause: among failing checks, the lowest
   * rank is reported first (a class typo explains a missing IAM grant, not the
   * other way round).
   */
  readonly rank: number;
  run(ctx: DoctorContext): Promise<CheckResult[]>;
}

/** A result with the check that produced it, as reported. */
export interface ReportEntry extends CheckResult {
  readonly check: string;
  readonly title: string;
  readonly group: Group;
  readonly rank: number;
}

/** Shorthands for check results. */
export const pass = (detail: string, evidence?: string[]): CheckResult => ({ status: 'pass', detail, evidence });
export const skip = (detail: string): CheckResult => ({ status: 'skip', detail });
export const warn = (detail: string, fix: string, evidence?: string[]): CheckResult => ({ status: 'warn', detail, fix, evidence });
export const fail = (detail: string, fix: string, evidence?: string[]): CheckResult => ({ status: 'fail', detail, fix, evidence });
