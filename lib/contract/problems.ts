/**
 * One broken rule of a SecretProviderClass: what is wrong, where, and the fix.
 * Messages carry names, aliases and parameter values, never secret values.
 */
export interface ContractProblem {
  /** Short stable id of the rule, e.g. `file-permission`. */
  readonly rule: string;
  /** The object or parameter at fault, e.g. `objects[0] "my-db-password"`. */
  readonly subject: string;
  /** What is wrong, with the offending value. */
  readonly message: string;
  /** What to change. */
  readonly fix: string;
}

/** Renders a problem as one line: subject, message, fix. */
export function formatProblem(problem: ContractProblem): string {
  return `${problem.subject}: ${problem.message} Fix: ${problem.fix}`;
}

/** Thrown when a SecretProviderClass breaks one or more rules; lists them all. */
export class ContractError extends Error {
  public readonly problems: ContractProblem[];

  constructor(problems: ContractProblem[]) {
    const lines = problems.map(formatProblem);
    super(lines.length === 1 ? lines[0] : `${lines.length} problems in the SecretProviderClass:\n- ${lines.join('\n- ')}`);
    this.name = 'ContractError';
    this.problems = problems;
  }
}
