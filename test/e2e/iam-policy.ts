/**
 * A small IAM policy evaluator for the end-to-end test: identity policies and
 * trust policies as AWS evaluates them for one request (explicit Deny wins,
 * else any Allow, else implicit deny). It covers what the sample stack's
 * policies use and fails closed (throws) on anything it does not understand,
 * so a policy it cannot judge never counts as allowed.
 *
 * Covered: Effect; Action / NotAction and Resource / NotResource with `*` and
 * `?` wildcards (actions case-insensitive); Principal (`*`, AWS, Service,
 * Federated); Condition with the String*, Arn*, Bool and Null operators, the
 * `IfExists` suffix and the `ForAnyValue:` / `ForAllValues:` set prefixes.
 */

/** One statement as written in a policy document. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Principal?: '*' | Record<string, string | string[]>;
  readonly NotPrincipal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | PolicyStatement[];
}

/** What is asked: an action on a resource, by a principal, with the request's condition keys. */
export interface PolicyRequest {
  readonly action: string;
  /** The resource ARN; omitted for trust policies (the role itself is the resource). */
  readonly resource?: string;
  /** For trust policies: the calling principal, e.g. `{ Federated: '<oidc provider arn>' }`. */
  readonly principal?: { readonly type: 'AWS' | 'Service' | 'Federated'; readonly id: string };
  /** Condition keys (case-insensitive names) and their values. */
  readonly context?: Record<string, string | string[]>;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** The decision and the statement that made it (when any). */
export interface Evaluation {
  readonly decision: Decision;
  readonly statement?: PolicyStatement;
}

/** Evaluates `request` against every statement of every document. */
export function evaluate(request: PolicyRequest, documents: readonly PolicyDocument[]): Evaluation {
  const statements = documents.flatMap((d) => asList(d.Statement));
  let allow: PolicyStatement | undefined;
  for (const statement of statements) {
    if (!applies(statement, request)) continue;
    if (statement.Effect === 'Deny') return { decision: 'ExplicitDeny', statement };
    if (statement.Effect !== 'Allow') throw new Error(`Policy statement Effect "${statement.Effect}" is neither Allow nor Deny.`);
    allow ??= statement;
  }
  return allow ? { decision: 'Allow', statement: allow } : { decision: 'ImplicitDeny' };
}

/** Whether a statement covers the request (action, resource, principal and conditions all match). */
function applies(statement: PolicyStatement, request: PolicyRequest): boolean {
  return matchesPrincipal(statement, request.principal)
    && matchesAction(statement, request.action)
    && matchesResource(statement, request.resource)
    && conditionsHold(statement.Condition ?? {}, request.context ?? {});
}

function matchesAction(statement: PolicyStatement, action: string): boolean {
  if (statement.NotAction !== undefined) return !asList(statement.NotAction).some((p) => wildcard(p, action, true));
  if (statement.Action === undefined) throw new Error('Policy statement has neither Action nor NotAction.');
  return asList(statement.Action).some((p) => wildcard(p, action, true));
}

function matchesResource(statement: PolicyStatement, resource: string | undefined): boolean {
  // Trust policies name no resource: the role being assumed is implied.
  if (resource === undefined) return statement.Resource === undefined && statement.NotResource === undefined;
  if (statement.NotResource !== undefined) return !asList(statement.NotResource).some((p) => wildcard(p, resource, false));
  if (statement.Resource === undefined) throw new Error('Identity policy statement has neither Resource nor NotResource.');
  return asList(statement.Resource).some((p) => wildcard(p, resource, false));
}

function matchesPrincipal(statement: PolicyStatement, principal: PolicyRequest['principal']): boolean {
  if (statement.NotPrincipal !== undefined) throw new Error('NotPrincipal is not supported by this policy check.');
  if (statement.Principal === undefined) return principal === undefined;
  if (principal === undefined) return false;
  if (statement.Principal === '*') return true;
  return asList(statement.Principal[principal.type] ?? []).some((p) => p === '*' || p === principal.id);
}

/** Every operator block holds (AND), every key in it holds (AND), any value of a key matches (OR). */
function conditionsHold(conditions: Record<string, Record<string, unknown>>, context: Record<string, string | string[]>): boolean {
  const lowered = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), asList(v)]));
  return Object.entries(conditions).every(([operator, block]) =>
    Object.entries(block).every(([key, expected]) =>
      conditionHolds(operator, asList(expected as string | string[]).map(String), lowered.get(key.toLowerCase()))));
}

/** One operator applied to one key. */
function conditionHolds(operator: string, expected: string[], actual: string[] | undefined): boolean {
  const [, set, base, ifExists] = /^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$/.exec(operator)!;
  if (base === 'Null') return expected.map((e) => e === 'true').every((wantNull) => wantNull === (actual === undefined));
  const test = operatorTest(base, operator);
  if (actual === undefined || actual.length === 0) {
    // A missing key: IfExists and ForAllValues pass, negated operators pass, the others fail.
    return Boolean(ifExists) || set === 'ForAllValues' || test.negated;
  }
  const one = (value: string) => (test.negated
    ? !expected.some((e) => test.match(e, value))
    : expected.some((e) => test.match(e, value)));
  return set === 'ForAllValues' ? actual.every(one) : actual.some(one);
}

interface OperatorTest {
  readonly negated: boolean;
  readonly match: (pattern: string, value: string) => boolean;
}

function operatorTest(base: string, operator: string): OperatorTest {
  const tests: Record<string, (pattern: string, value: string) => boolean> = {
    StringEquals: (p, v) => p === v,
    StringEqualsIgnoreCase: (p, v) => p.toLowerCase() === v.toLowerCase(),
    StringLike: (p, v) => wildcard(p, v, false),
    ArnEquals: (p, v) => wildcard(p, v, false),
    ArnLike: (p, v) => wildcard(p, v, false),
    Bool: (p, v) => p.toLowerCase() === v.toLowerCase(),
  };
  const negatedBase = base.replace(/Not(?=Equals|Like)/, '');
  const negated = negatedBase !== base;
  const match = tests[negatedBase];
  if (!match || (negated && negatedBase === 'Bool')) {
    throw new Error(`Condition operator "${operator}" is not supported by this policy check; extend test/e2e/iam-policy.ts.`);
  }
  return { negated, match };
}

/** IAM wildcard match: `*` any run of characters, `?` exactly one; no other special characters. */
export function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
