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

/** How many problems a ContractError message spells out; `problems` keeps them all. */
const MAX_LISTED_PROBLEMS = 20;

/** Thrown when a SecretProviderClass breaks one or more rules; lists them (the first 20 in its message). */
export class ContractError extends Error {
  public readonly problems: ContractProblem[];

  constructor(problems: ContractProblem[]) {
    const lines = problems.slice(0, MAX_LISTED_PROBLEMS).map(formatProblem);
    const more = problems.length - lines.length;
    if (more > 0) lines.push(`... and ${more} more problem${more > 1 ? 's' : ''} like these.`);
    super(problems.length === 1 ? lines[0] : `${problems.length} problems in the SecretProviderClass:\n- ${lines.join('\n- ')}`);
    this.name = 'ContractError';
    this.problems = problems;
  }
}
