import * as jmespath from 'jmespath';

// `compile` exists at runtime but is missing from the published typings.
const compile = (jmespath as unknown as { compile(expression: string): unknown }).compile;

/** Checks a JMESPath expression's syntax; returns the parser's complaint, or undefined when valid. */
export function jmesPathSyntaxError(path: string): string | undefined {
  try {
    compile(path);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * JMESPath reads `db-host` as `db` minus something: keys with hyphens must be
 * quoted. Returns the expression with such keys quoted (`"db-host"`), or
 * undefined when there is nothing to quote.
 */
export function jmesPathHint(path: string): string | undefined {
  let changed = false;
  // Split on double-quoted segments so keys that are already quoted stay as they are.
  const parts = path.split(/("(?:[^"\\]|\\.)*")/);
  const quoted = parts.map((part, i) => {
    if (i % 2 === 1) return part;
    return part.replace(/(^|[^A-Za-z0-9_"'`])([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+)/g, (_m, before: string, key: string) => {
      changed = true;
      return `${before}"${key}"`;
    });
  });
  return changed ? quoted.join('') : undefined;
}
