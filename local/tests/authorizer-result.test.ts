// How the gateway reads an authorizer's answer: the IAM policy evaluation and the
// stringified context, as API Gateway does for `$connect`.
import { decideAuthorization } from '../src/authorizer-result';

const ARN = 'arn:aws:execute-api:us-east-1:000000000000:wskitlocal/local/$connect';
const ok = (result: unknown) => ({ ok: true as const, result });
const policy = (statements: unknown[]) => ({ principalId: 'alice', policyDocument: { Version: '2012-10-17', Statement: statements }, context: { userId: 'alice' } });

test.each([
  ['exact ARN', { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ARN }],
  ['wildcards', { Action: 'execute-api:*', Effect: 'Allow', Resource: 'arn:aws:execute-api:*:*:wskitlocal/*/$connect' }],
  ['lists', { Action: ['execute-api:Invoke'], Effect: 'Allow', Resource: ['arn:aws:execute-api:us-east-1:1:other/local/$connect', ARN] }],
  ['case-insensitive action', { Action: 'Execute-API:invoke', Effect: 'Allow', Resource: '*' }],
])('allows with %s', (_name, statement) => {
  expect(decideAuthorization(ok(policy([statement])), ARN, 7)).toEqual({
    allow: true,
    authorizer: { userId: 'alice', principalId: 'alice', integrationLatency: 7 },
  });
});

test.each([
  ['a Deny', [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: ARN }], 403],
  ['an explicit Deny beside an Allow', [{ Action: '*', Effect: 'Allow', Resource: '*' }, { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: ARN }], 403],
  ['an Allow for another API', [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:0:other/local/$connect' }], 403],
  ['an Allow for another action', [{ Action: 's3:GetObject', Effect: 'Allow', Resource: '*' }], 403],
  ['no statement', [], 500],
])('refuses %s', (_name, statements, status) => {
  const decision = decideAuthorization(ok(policy(statements)), ARN, 1);
  expect(decision).toMatchObject({ allow: false, statusCode: status });
});

test('context values become strings; null values are dropped; objects are a 500', () => {
  const allow = { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: ARN };
  const decision = decideAuthorization(
    ok({ principalId: 42, policyDocument: { Statement: [allow] }, context: { exp: 1767225600, admin: true, scope: '', gone: null } }),
    ARN,
    3,
  );
  expect(decision).toEqual({ allow: true, authorizer: { exp: '1767225600', admin: 'true', scope: '', principalId: '42', integrationLatency: 3 } });
  expect(decideAuthorization(ok({ principalId: 'a', policyDocument: { Statement: [allow] }, context: { list: [1] } }), ARN, 1)).toMatchObject({ allow: false, statusCode: 500 });
  expect(decideAuthorization(ok({ policyDocument: { Statement: [allow] } }), ARN, 1)).toMatchObject({ allow: false, statusCode: 500 });
  expect(decideAuthorization(ok(null), ARN, 1)).toMatchObject({ allow: false, statusCode: 500 });
});

test('errors: Unauthorized is 401, anything else 500', () => {
  expect(decideAuthorization({ ok: false, error: { errorType: 'Error', errorMessage: 'Unauthorized' } }, ARN, 1)).toMatchObject({ statusCode: 401, message: 'Unauthorized' });
  expect(decideAuthorization({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out' } }, ARN, 1)).toMatchObject({ statusCode: 500 });
});
