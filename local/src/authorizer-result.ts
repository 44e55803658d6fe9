/**
 * How API Gateway reads a Lambda REQUEST authorizer's answer for `$connect`:
 * - the function throws `Unauthorized` -> 401;
 * - a policy without an Allow for the method ARN, or with a matching Deny -> 403;
 * - anything malformed (no principalId, no policy, context values that are not
 *   string/number/boolean), another error or a timeout -> 500;
 * - Allow: `requestContext.authorizer` on later events is the context with every value
 *   turned into a string, plus principalId and integrationLatency.
 */
export type AuthorizerDecision =
  | { allow: true; authorizer: Record<string, unknown> }
  | { allow: false; statusCode: 401 | 403 | 500; message: string; reason: string };

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/**
 * IAM-style wildcard match: `*` any run of characters, `?` one character. Greedy with one
 * backtrack point (no regular expression), so a pattern of many `*` costs linear time.
 */
function wildcardMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

function statementMatches(statement: Statement, methodArn: string): boolean {
  const actions = asList(statement.Action).filter((a): a is string => typeof a === 'string');
  const resources = asList(statement.Resource).filter((r): r is string => typeof r === 'string');
  return (
    actions.some((a) => wildcardMatch(a.toLowerCase(), 'execute-api:invoke')) &&
    resources.some((r) => wildcardMatch(r, methodArn))
  );
}

export function decideAuthorization(
  outcome: { ok: true; result: unknown } | { ok: false; error: { errorType: string; errorMessage: string } },
  methodArn: string,
  integrationLatency: number,
): AuthorizerDecision {
  if (!outcome.ok) {
    if (outcome.error.errorMessage === 'Unauthorized') {
      return { allow: false, statusCode: 401, message: 'Unauthorized', reason: 'authorizer threw Unauthorized' };
    }
    return {
      allow: false,
      statusCode: 500,
      message: 'Internal server error',
      reason: `authorizer failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`,
    };
  }
  const result = outcome.result as { principalId?: unknown; policyDocument?: { Statement?: unknown }; context?: unknown } | null;
  const malformed = (reason: string): AuthorizerDecision => ({
    allow: false,
    statusCode: 500,
    message: 'Internal server error',
    reason: `authorizer response is malformed: ${reason}`,
  });
  if (!result || typeof result !== 'object') return malformed('not an object');
  if (typeof result.principalId !== 'string' && typeof result.principalId !== 'number') {
    return malformed('principalId missing');
  }
  const statements = asList(result.policyDocument?.Statement).filter((st): st is Statement => !!st && typeof st === 'object');
  if (!result.policyDocument || statements.length === 0) return malformed('policyDocument.Statement missing');

  // Keys are the function's: kept as own properties (`__proto__` included), never assigned.
  const context = new Map<string, string>();
  if (result.context !== undefined && result.context !== null) {
    if (typeof result.context !== 'object' || Array.isArray(result.context)) return malformed('context is not a map');
    for (const [key, value] of Object.entries(result.context)) {
      if (value === null || value === undefined) continue;
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        return malformed(`context.${key} is a ${Array.isArray(value) ? 'list' : typeof value}; only strings, numbers and booleans are allowed`);
      }
      context.set(key, String(value));
    }
  }

  const matching = statements.filter((s) => statementMatches(s, methodArn));
  if (matching.some((s) => s.Effect === 'Deny')) {
    return { allow: false, statusCode: 403, message: 'Forbidden', reason: 'policy denies the method ARN' };
  }
  if (!matching.some((s) => s.Effect === 'Allow')) {
    return { allow: false, statusCode: 403, message: 'Forbidden', reason: 'policy does not allow the method ARN' };
  }
  return {
    allow: true,
    authorizer: { ...Object.fromEntries(context), principalId: String(result.principalId), integrationLatency },
  };
}
