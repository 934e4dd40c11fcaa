/**
 * A small IAM policy evaluator for identity policies, enough for the connector's roles: Allow and
 * Deny (an explicit Deny wins, no matching Allow is an implicit deny), Action/NotAction and
 * Resource/NotResource with `*` and `?` wildcards (actions case-insensitive, resources not), and
 * the condition operators the stacks could use. A condition operator it does not know denies
 * loudly (throws) instead of guessing.
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

export type OneOrMany<T> = T | T[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: OneOrMany<string>;
  NotAction?: OneOrMany<string>;
  Resource?: OneOrMany<string>;
  NotResource?: OneOrMany<string>;
  Condition?: Record<string, Record<string, OneOrMany<string | boolean | number>>>;
}

export interface AccessRequest {
  /** `service:Action`, e.g. `dynamodb:BatchWriteItem`. */
  action: string;
  /** The resource ARN. */
  resource: string;
  /** Condition keys of the request (`aws:SecureTransport`, `aws:RequestTag/<key>`, …). */
  context?: Record<string, OneOrMany<string>>;
}

export type Decision = { decision: 'allow'; statement: PolicyStatement } | { decision: 'explicit-deny'; statement: PolicyStatement } | { decision: 'implicit-deny' };

const list = <T>(value: OneOrMany<T> | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** IAM wildcard match: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's').test(value);
}

const actionMatches = (patterns: string[], action: string) => patterns.some((p) => wildcardMatch(p, action, true));
const resourceMatches = (patterns: string[], resource: string) => patterns.some((p) => wildcardMatch(p, resource));

function appliesTo(statement: PolicyStatement, request: AccessRequest): boolean {
  const action = statement.Action !== undefined ? actionMatches(list(statement.Action), request.action) : !actionMatches(list(statement.NotAction), request.action);
  if (!action) return false;
  const resource = statement.Resource !== undefined ? resourceMatches(list(statement.Resource), request.resource) : !resourceMatches(list(statement.NotResource), request.resource);
  return resource && conditionsHold(statement.Condition, request.context ?? {});
}

type Comparator = (actual: string, expected: string) => boolean;

const COMPARATORS: Record<string, Comparator> = {
  StringEquals: (a, e) => a === e,
  StringNotEquals: (a, e) => a !== e,
  StringEqualsIgnoreCase: (a, e) => a.toLowerCase() === e.toLowerCase(),
  StringNotEqualsIgnoreCase: (a, e) => a.toLowerCase() !== e.toLowerCase(),
  StringLike: (a, e) => wildcardMatch(e, a),
  StringNotLike: (a, e) => !wildcardMatch(e, a),
  ArnEquals: (a, e) => a === e,
  ArnLike: (a, e) => wildcardMatch(e, a),
  ArnNotEquals: (a, e) => a !== e,
  ArnNotLike: (a, e) => !wildcardMatch(e, a),
  Bool: (a, e) => a.toLowerCase() === e.toLowerCase(),
  NumericEquals: (a, e) => Number(a) === Number(e),
  NumericNotEquals: (a, e) => Number(a) !== Number(e),
  NumericLessThan: (a, e) => Number(a) < Number(e),
  NumericLessThanEquals: (a, e) => Number(a) <= Number(e),
  NumericGreaterThan: (a, e) => Number(a) > Number(e),
  NumericGreaterThanEquals: (a, e) => Number(a) >= Number(e),
};

/** Negated operators hold for every expected value (AND); the others for any (OR). */
const NEGATED = /Not/;

function conditionsHold(conditions: PolicyStatement['Condition'], context: Record<string, OneOrMany<string>>): boolean {
  for (const [rawOperator, keys] of Object.entries(conditions ?? {})) {
    const setMatch = /^(ForAnyValue|ForAllValues):/.exec(rawOperator)?.[1];
    let operator = rawOperator.replace(/^(ForAnyValue|ForAllValues):/, '');
    const ifExists = operator.endsWith('IfExists');
    operator = operator.replace(/IfExists$/, '');
    for (const [key, expectedRaw] of Object.entries(keys)) {
      const expected = list(expectedRaw).map(String);
      const present = Object.prototype.hasOwnProperty.call(context, key);
      const actual = present ? list(context[key]).map(String) : [];
      if (operator === 'Null') {
        // `"Null": {"k": "true"}` holds when the key is absent.
        if (expected.every((e) => (e === 'true') !== present)) continue;
        return false;
      }
      const compare = COMPARATORS[operator];
      if (!compare) throw new Error(`IAM condition operator ${rawOperator} is not supported by test/support/iam/policy.ts: add it before relying on it`);
      if (!present) {
        if (ifExists || setMatch === 'ForAllValues') continue;
        // A missing key never matches; a negated operator on a missing key does (AWS: "...NotEquals" with no key is true).
        if (NEGATED.test(operator)) continue;
        return false;
      }
      const one = (value: string) => (NEGATED.test(operator) ? expected.every((e) => compare(value, e)) : expected.some((e) => compare(value, e)));
      const holds = setMatch === 'ForAllValues' ? actual.every(one) : actual.some(one);
      if (!holds) return false;
    }
  }
  return true;
}

/** Identity-policy evaluation: an explicit Deny wins over any Allow; nothing matching is an implicit deny. */
export function evaluate(request: AccessRequest, statements: readonly PolicyStatement[]): Decision {
  let allow: PolicyStatement | undefined;
  for (const statement of statements) {
    if (!appliesTo(statement, request)) continue;
    if (statement.Effect === 'Deny') return { decision: 'explicit-deny', statement };
    allow ??= statement;
  }
  return allow ? { decision: 'allow', statement: allow } : { decision: 'implicit-deny' };
}

/** Every (action, resource) pair an Allow statement grants, as written (wildcards unexpanded). */
export function grantsOf(statements: readonly PolicyStatement[]): { action: string; resource: string; statement: PolicyStatement }[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && s.Action !== undefined && s.Resource !== undefined)
    .flatMap((statement) => list(statement.Action).flatMap((action) => list(statement.Resource).map((resource) => ({ action, resource, statement }))));
}

/** `dynamodb:*`, `*`: a grant of every action of a service. */
export function isWholeServiceGrant(action: string): boolean {
  return action === '*' || /^[a-z0-9-]+:\*$/i.test(action);
}
