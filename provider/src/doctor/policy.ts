/**
 * A deliberately small IAM policy evaluator, used when IAM's policy simulator
 * cannot be called (no iam:SimulatePrincipalPolicy permission, or an endpoint
 * that lacks it). It handles Effect, Action/NotAction and Resource/NotResource
 * with `*` and `?` wildcards; a statement with a Condition cannot be decided
 * here and makes the answer `conditional`. Permission boundaries, SCPs and
 * resource policies are out of scope (the simulator covers boundaries and SCPs).
 */

export type Decision = 'allowed' | 'implicitDeny' | 'explicitDeny' | 'conditional';

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM wildcard match: `*` any run, `?` one character; actions compare case-insensitively. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** The statements of a policy document, whatever shape `Statement` has. */
export function statements(document: unknown): Statement[] {
  return list((document as { Statement?: Statement | Statement[] } | undefined)?.Statement);
}

function applies(s: Statement, action: string, resource: string): boolean {
  const actionHit = s.NotAction
    ? !list(s.NotAction).some((a) => wildcardMatch(a, action, true))
    : list(s.Action).some((a) => wildcardMatch(a, action, true));
  const resourceHit = s.NotResource
    ? !list(s.NotResource).some((r) => wildcardMatch(r, resource))
    : list(s.Resource).some((r) => wildcardMatch(r, resource));
  return actionHit && resourceHit;
}

/** Decide one action on one resource against a set of identity policy documents. */
export function evaluate(documents: unknown[], action: string, resource: string): Decision {
  const matching = documents.flatMap(statements).filter((s) => applies(s, action, resource));
  const denies = matching.filter((s) => s.Effect === 'Deny');
  if (denies.some((s) => !s.Condition)) return 'explicitDeny';
  const allows = matching.filter((s) => s.Effect === 'Allow');
  if (allows.some((s) => !s.Condition) && denies.length === 0) return 'allowed';
  return allows.length > 0 || denies.length > 0 ? 'conditional' : 'implicitDeny';
}

/** Values a trust statement's conditions allow for `key` (StringEquals / StringLike, any case of the key). */
export function conditionValues(s: Statement, key: string): { values: string[]; like: boolean } | undefined {
  for (const [operator, entries] of Object.entries(s.Condition ?? {})) {
    const hit = Object.entries(entries).find(([k]) => k.toLowerCase() === key.toLowerCase());
    if (hit && /^(ForAnyValue:)?String(Equals|Like)$/.test(operator)) {
      return { values: list(hit[1]), like: operator.endsWith('Like') };
    }
  }
  return undefined;
}

/** Statements of a trust policy that allow `action` to the given federated or service principal. */
export function trustStatements(trust: unknown, action: string, principal: { federated?: string; service?: string }): Statement[] {
  return statements(trust).filter((s) => {
    if (s.Effect !== 'Allow' || !list(s.Action).some((a) => wildcardMatch(a, action, true))) return false;
    const p = (s.Principal ?? {}) as { Federated?: string | string[]; Service?: string | string[] };
    if (principal.federated) return list(p.Federated).includes(principal.federated);
    return list(p.Service).includes(principal.service ?? '');
  });
}

/** A policy statement granting `actions` on `resources`, printed as the missing statement. */
export function grantStatement(actions: string[], resources: string[]): string {
  return JSON.stringify({ Effect: 'Allow', Action: actions.length === 1 ? actions[0] : actions, Resource: resources.length === 1 ? resources[0] : resources });
}
