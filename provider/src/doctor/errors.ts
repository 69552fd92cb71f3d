/**
 * Errors that stop the doctor before it can report (exit code 2): a usage
 * error, an unreadable kubeconfig, an unreachable or forbidden API server.
 * Each says what is wrong and, separately, how to fix it, so the CLI can print
 * both as text or as one JSON object.
 */
export class FatalError extends Error {
  /**
   * @param message what is wrong, naming the bad value
   * @param fix what to do about it
   */
  constructor(message: string, readonly fix: string) {
    super(message);
    this.name = 'FatalError';
  }
}

/** The JSON a fatal error prints with `--json`. */
export interface FatalErrorJson {
  readonly error: string;
  readonly fix: string;
}

/** A fatal error as text: the problem, then the fix on its own line. */
export function fatalText(err: FatalErrorJson): string {
  return `secrets-store-doctor: ${err.error}\n  fix: ${err.fix}\n`;
}

/** A fatal error as one JSON object (one line, for scripts). */
export function fatalJson(err: FatalErrorJson): string {
  return `${JSON.stringify(err)}\n`;
}
