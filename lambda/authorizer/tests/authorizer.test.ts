import { sign } from 'node:crypto';
import { MAX_SUBJECT_LENGTH } from '@wskit/protocol';
import jwt from 'jsonwebtoken';
import { createLogger } from '@wskit/shared/logger';
import { type Authorizer, createAuthorizer } from '../src/authorizer';
import { MAX_TOKEN_BYTES } from '../src/config';
import type { WebSocketAuthorizerEvent } from '../src/token';
import {
  AUDIENCE, b64, connectEvent, ecKey, expectNoTokenIn, forge, goodClaims, hmac, ISSUER, type JwksServer, LogCapture,
  METHOD_ARN, MetricsCapture, now, rsaKey, rsaSign, signRs, startJwksServer, testAuthorizer, testConfig, type TestKey,
} from './helpers';

let keyA: TestKey; // in the JWKS, JWK without "alg"
let keyB: TestKey; // in the JWKS, JWK declares "alg": "RS256"
let attacker: TestKey; // never in the JWKS
let jwks: JwksServer;
let logs: LogCapture;
let metrics: MetricsCapture;
let authorizer: Authorizer;

beforeAll(async () => {
  keyA = rsaKey('key-a');
  keyB = rsaKey('key-b', { alg: 'RS256' });
  attacker = rsaKey('key-attacker');
  jwks = await startJwksServer([keyA, keyB]);
  ({ authorizer, logs, metrics } = testAuthorizer(testConfig(jwks.uri)));
});

afterAll(async () => {
  await jwks.stop();
});

const withToken = (token: string): WebSocketAuthorizerEvent => connectEvent({ query: { token } });

async function denial(event: unknown, using: Authorizer = authorizer, capture: LogCapture = logs): Promise<unknown> {
  capture.clear();
  await expect(using.authorize(event)).rejects.toThrow(/^Unauthorized$/);
  const last = capture.last();
  expect(last).toMatchObject({ level: 'WARN', service: 'wskit-authorizer', message: 'authorization denied' });
  return last?.reason;
}

describe('valid tokens', () => {
  test('an RS256 token in ?token= is allowed with the contract policy and context', async () => {
    const claims = goodClaims({ sub: 'alice', scope: 'topics:team. publish:news' });
    const token = signRs(keyA, claims);
    const result = await authorizer.authorize(withToken(token));
    expect(result).toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { userId: 'alice', scope: 'topics:team. publish:news', exp: claims.exp },
    });
  });

  test('the second key of the set verifies too', async () => {
    const result = await authorizer.authorize(withToken(signRs(keyB, goodClaims({ sub: 'bob' }))));
    expect(result.principalId).toBe('bob');
    expect(result.context.userId).toBe('bob');
  });

  test('no scope claim gives scope ""', async () => {
    const claims = goodClaims();
    delete claims.scope;
    const result = await authorizer.authorize(withToken(signRs(keyA, claims)));
    expect(result.context.scope).toBe('');
  });

  test('an scp array is joined with spaces', async () => {
    const claims = goodClaims({ scp: ['subscribe:a.', 'publish:b.'] });
    delete claims.scope;
    const result = await authorizer.authorize(withToken(signRs(keyA, claims)));
    expect(result.context.scope).toBe('subscribe:a. publish:b.');
  });

  test('exp just passed but inside the clock tolerance is allowed', async () => {
    const result = await authorizer.authorize(withToken(signRs(keyA, goodClaims({ exp: now() - 2 }))));
    expect(result.context.exp).toBeLessThan(now());
  });

  test('any audience from a configured list is accepted', async () => {
    const { authorizer: multi } = testAuthorizer(testConfig(jwks.uri, { audience: ['other-app', AUDIENCE] }));
    const result = await multi.authorize(withToken(signRs(keyA, goodClaims({ aud: 'other-app' }))));
    expect(result.principalId).toBe('alice');
  });

  test('header sources: "Bearer <jwt>" and a bare value, header name in any case', async () => {
    const { authorizer: viaHeader, logs: logsHere } = testAuthorizer(
      testConfig(jwks.uri, { tokenSources: [{ kind: 'query', name: 'token' }, { kind: 'header', name: 'authorization' }] }),
    );
    const token = signRs(keyA);
    await expect(viaHeader.authorize(connectEvent({ headers: { Authorization: `Bearer ${token}` } }))).resolves.toMatchObject({ principalId: 'alice' });
    await expect(viaHeader.authorize(connectEvent({ headers: { authorization: `bearer  ${token}` } }))).resolves.toMatchObject({ principalId: 'alice' });
    await expect(viaHeader.authorize(connectEvent({ headers: { AUTHORIZATION: token } }))).resolves.toMatchObject({ principalId: 'alice' });
    expect(logsHere.last()).toMatchObject({ message: 'access allowed', source: 'header:authorization' });
    // The query parameter comes first in the list, so it wins over the header.
    const bob = signRs(keyA, goodClaims({ sub: 'bob' }));
    await expect(
      viaHeader.authorize(connectEvent({ query: { token: bob }, headers: { Authorization: `Bearer ${token}` } })),
    ).resolves.toMatchObject({ principalId: 'bob' });
  });

  test('a repeated query parameter with the same value twice is not ambiguous', async () => {
    const token = signRs(keyA);
    const result = await authorizer.authorize(connectEvent({ query: { token: [token, token] } }));
    expect(result.principalId).toBe('alice');
  });
});

interface BadCase {
  name: string;
  event: () => unknown;
  reason: string;
}

const t = (build: () => string) => () => withToken(build());

/**
 * Subjects that look like another user's or hide characters: refused at $connect with the
 * phrase subjectProblem() gives, never trimmed or normalised into someone else.
 */
const lookAlikeSubjects: Array<[name: string, sub: string, reason: string]> = [
  ['sub with a leading space', ' alice', 'sub with leading or trailing whitespace'],
  ['sub with a trailing space', 'alice ', 'sub with leading or trailing whitespace'],
  ['sub with a trailing no-break space', 'alice\u00a0', 'sub with leading or trailing whitespace'],
  ['sub with a trailing newline', 'alice\n', 'sub with leading or trailing whitespace'],
  ['sub with a control character inside', 'alice\nadmin', 'sub with a control character'],
  ['sub with a NUL inside', 'alice\u0000', 'sub with a control character'],
  ['sub with a leading byte order mark', '\ufeffalice', 'sub with a format character'],
  ['sub with a zero-width space inside', 'ali\u200bce', 'sub with a format character'],
  ['sub with a trailing zero-width joiner', 'alice\u200d', 'sub with a format character'],
  ['sub with a right-to-left override', '\u202eecila', 'sub with a format character'],
  ['sub with a space inside', 'alice smith', 'sub with a separator character'],
  ['sub with a line separator inside', 'alice\u2028bob', 'sub with a separator character'],
  ['sub with a lone surrogate', 'alice\ud800', 'sub with a surrogate, private-use or unassigned character'],
  ['sub with a private-use character', 'alice\ue000', 'sub with a surrogate, private-use or unassigned character'],
  ['sub with an unassigned code point', 'alice\u0378', 'sub with a surrogate, private-use or unassigned character'],
  [`sub of ${MAX_SUBJECT_LENGTH + 1} characters`, 'a'.repeat(MAX_SUBJECT_LENGTH + 1), `sub longer than ${MAX_SUBJECT_LENGTH} characters`],
];

const corpus: BadCase[] = [
  { name: 'alg none, empty signature', event: t(() => forge({ alg: 'none', typ: 'JWT' }, goodClaims(), () => '')), reason: 'malformed token' },
  { name: 'alg none with a signature segment', event: t(() => forge({ alg: 'none', kid: 'key-a' }, goodClaims(), () => 'c2ln')), reason: 'algorithm not allowed' },
  { name: 'alg NONE in capitals', event: t(() => forge({ alg: 'NONE', kid: 'key-a' }, goodClaims(), () => 'c2ln')), reason: 'algorithm not allowed' },
  { name: 'HS256 signed with the RSA public key PEM as HMAC secret', event: t(() => forge({ alg: 'HS256', kid: 'key-a' }, goodClaims(), hmac('sha256', keyA.publicPem))), reason: 'algorithm not allowed' },
  { name: 'HS512 signed with the RSA public key PEM as HMAC secret', event: t(() => forge({ alg: 'HS512', kid: 'key-a' }, goodClaims(), hmac('sha512', keyA.publicPem))), reason: 'algorithm not allowed' },
  { name: 'RS512 when only RS256 is allowed', event: t(() => signRs(keyA, goodClaims(), 'RS512')), reason: 'algorithm not allowed' },
  { name: 'PS256 when only RS256 is allowed', event: t(() => signRs(keyA, goodClaims(), 'PS256')), reason: 'algorithm not allowed' },
  { name: 'expired an hour ago', event: t(() => signRs(keyA, goodClaims({ iat: now() - 7200, exp: now() - 3600 }))), reason: 'jwt expired' },
  { name: 'expired just beyond the clock tolerance', event: t(() => signRs(keyA, goodClaims({ exp: now() - 7 }))), reason: 'jwt expired' },
  { name: 'not yet valid (nbf in 10 minutes)', event: t(() => signRs(keyA, goodClaims({ nbf: now() + 600 }))), reason: 'jwt not active' },
  { name: 'issued in the future (iat in 10 minutes)', event: t(() => signRs(keyA, goodClaims({ iat: now() + 600 }))), reason: 'issued in the future' },
  { name: 'iat that is not a number', event: t(() => forge({ alg: 'RS256', kid: 'key-a' }, goodClaims({ iat: 'yesterday' }), rsaSign(keyA.privateKey))), reason: 'invalid iat' },
  { name: 'wrong issuer', event: t(() => signRs(keyA, goodClaims({ iss: 'https://evil.test/' }))), reason: 'wrong issuer' },
  { name: 'issuer without its trailing slash', event: t(() => signRs(keyA, goodClaims({ iss: ISSUER.slice(0, -1) }))), reason: 'wrong issuer' },
  { name: 'missing issuer', event: t(() => signRs(keyA, goodClaims({ iss: undefined }))), reason: 'wrong issuer' },
  { name: 'wrong audience', event: t(() => signRs(keyA, goodClaims({ aud: 'another-app' }))), reason: 'wrong audience' },
  { name: 'missing audience', event: t(() => signRs(keyA, goodClaims({ aud: undefined }))), reason: 'wrong audience' },
  { name: 'missing sub', event: t(() => signRs(keyA, goodClaims({ sub: undefined }))), reason: 'missing or empty sub' },
  { name: 'empty sub', event: t(() => signRs(keyA, goodClaims({ sub: '' }))), reason: 'missing or empty sub' },
  { name: 'numeric sub', event: t(() => signRs(keyA, goodClaims({ sub: 12345 }))), reason: 'missing or empty sub' },
  ...lookAlikeSubjects.map(([name, sub, reason]): BadCase => ({ name, event: t(() => signRs(keyA, goodClaims({ sub }))), reason })),
  { name: 'missing exp', event: t(() => forge({ alg: 'RS256', kid: 'key-a' }, goodClaims({ exp: undefined }), rsaSign(keyA.privateKey))), reason: 'missing or invalid exp' },
  { name: 'exp as a string', event: t(() => forge({ alg: 'RS256', kid: 'key-a' }, goodClaims({ exp: String(now() + 3600) }), rsaSign(keyA.privateKey))), reason: 'missing or invalid exp' },
  { name: 'scope that is an object', event: t(() => signRs(keyA, goodClaims({ scope: { admin: true } }))), reason: 'invalid scope' },
  { name: 'unknown kid', event: t(() => signRs(keyA, goodClaims(), 'RS256', 'no-such-kid')), reason: 'unknown kid' },
  { name: 'no kid while the JWKS has several keys', event: t(() => signRs(keyA, goodClaims(), 'RS256', null)), reason: 'no kid and several keys' },
  { name: 'kid that is a number', event: t(() => forge({ alg: 'RS256', kid: 7 }, goodClaims(), rsaSign(keyA.privateKey))), reason: 'invalid kid' },
  { name: 'kid of 1000 characters', event: t(() => forge({ alg: 'RS256', kid: 'k'.repeat(1000) }, goodClaims(), rsaSign(keyA.privateKey))), reason: 'invalid kid' },
  { name: 'crit header', event: t(() => forge({ alg: 'RS256', kid: 'key-a', crit: ['exp'] }, goodClaims(), rsaSign(keyA.privateKey))), reason: 'unsupported critical header' },
  { name: 'wrong key: another RSA key signs under a known kid', event: t(() => signRs(attacker, goodClaims(), 'RS256', 'key-a')), reason: 'invalid signature' },
  { name: 'embedded jwk header with the attacker key', event: t(() => forge({ alg: 'RS256', kid: 'key-a', jwk: attacker.jwk }, goodClaims(), rsaSign(attacker.privateKey))), reason: 'invalid signature' },
  {
    name: 'tampered payload (sub changed, signature kept)',
    event: t(() => {
      const [header, , signature] = signRs(keyA).split('.');
      return `${header}.${b64(goodClaims({ sub: 'admin' }))}.${signature}`;
    }),
    reason: 'invalid signature',
  },
  {
    name: 'tampered signature (one character flipped)',
    event: t(() => {
      const token = signRs(keyA);
      const i = token.length - 10;
      return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    }),
    reason: 'invalid signature',
  },
  {
    name: 'signature taken from another valid token',
    event: t(() => {
      const [header, payload] = signRs(keyA, goodClaims({ sub: 'mallory' })).split('.');
      return `${header}.${payload}.${signRs(keyA).split('.')[2]}`;
    }),
    reason: 'invalid signature',
  },
  { name: 'truncated by ten characters', event: t(() => signRs(keyA).slice(0, -10)), reason: 'invalid signature' },
  { name: 'truncated to two segments', event: t(() => signRs(keyA).split('.').slice(0, 2).join('.')), reason: 'malformed token' },
  { name: 'trailing dot', event: t(() => `${signRs(keyA)}.`), reason: 'malformed token' },
  { name: 'extra segment', event: t(() => `${signRs(keyA)}.${b64('extra')}`), reason: 'malformed token' },
  { name: 'garbage word', event: t(() => 'hello'), reason: 'malformed token' },
  { name: 'non-base64 characters', event: t(() => '$$$.%%%.^^^'), reason: 'malformed token' },
  { name: 'standard base64 padding and plus signs', event: t(() => `${signRs(keyA)}==`.replace(/-/g, '+')), reason: 'malformed token' },
  { name: 'header that is not JSON', event: t(() => `${b64('{not json')}.${b64(goodClaims())}.c2ln`), reason: 'malformed header' },
  { name: 'header that is a JSON string', event: t(() => `${b64('"RS256"')}.${b64(goodClaims())}.c2ln`), reason: 'malformed header' },
  { name: 'payload that is not JSON, validly signed', event: t(() => forge({ alg: 'RS256', kid: 'key-a' }, 'not json at all', rsaSign(keyA.privateKey))), reason: 'malformed payload' },
  { name: 'payload that is a JSON array, validly signed', event: t(() => forge({ alg: 'RS256', kid: 'key-a' }, [1, 2, 3], rsaSign(keyA.privateKey))), reason: 'malformed payload' },
  { name: 'oversized token (validly signed, over 8 KB)', event: t(() => signRs(keyA, goodClaims({ pad: 'x'.repeat(MAX_TOKEN_BYTES) }))), reason: 'token too large' },
  { name: 'one megabyte of junk', event: t(() => 'a'.repeat(1024 * 1024)), reason: 'token too large' },
  { name: 'empty ?token=', event: t(() => ''), reason: 'empty token' },
  { name: 'whitespace only', event: t(() => '   '), reason: 'malformed token' },
  { name: 'valid token with a leading space', event: t(() => ` ${signRs(keyA)}`), reason: 'malformed token' },
  { name: 'valid token with a newline inside', event: t(() => signRs(keyA).replace('.', '.\n')), reason: 'malformed token' },
  { name: 'missing: no query string at all', event: () => connectEvent(), reason: 'missing token' },
  { name: 'token in the wrong place (Authorization header, source is query:token)', event: () => connectEvent({ headers: { Authorization: `Bearer ${signRs(keyA)}` } }), reason: 'missing token' },
  { name: 'token under another query name', event: () => connectEvent({ query: { access_token: signRs(keyA) } }), reason: 'missing token' },
  { name: 'two different tokens in the query', event: () => connectEvent({ query: { token: [signRs(keyA), signRs(keyA, goodClaims({ sub: 'bob' }))] } }), reason: 'ambiguous token' },
  { name: 'valid token but no methodArn', event: () => ({ ...withToken(signRs(keyA)), methodArn: undefined }), reason: 'malformed event' },
  { name: 'valid token but a methodArn that is not an execute-api ARN', event: () => connectEvent({ query: { token: signRs(keyA) }, methodArn: '*' }), reason: 'malformed event' },
  { name: 'event null', event: () => null, reason: 'malformed event' },
  { name: 'event a string', event: () => 'token=abc', reason: 'malformed event' },
  { name: 'queryStringParameters not an object', event: () => ({ ...connectEvent(), queryStringParameters: 'token=abc', multiValueQueryStringParameters: 7 }), reason: 'missing token' },
];

describe(`a corpus of ${corpus.length} bad requests, each denied with its reason`, () => {
  test('the corpus holds at least 30 cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
  });

  test.each(corpus.map((item) => [item.name, item] as const))('%s', async (_name, item) => {
    const event = item.event();
    const reason = await denial(event);
    expect(reason).toBe(item.reason);
    const token = (event as WebSocketAuthorizerEvent | null)?.queryStringParameters?.token;
    if (typeof token === 'string') expectNoTokenIn(logs.lines.join(''), token.trim());
  });
});

describe('algorithm pinning against the key', () => {
  test('a JWK that declares RS256 refuses an RS512 token even when RS512 is configured', async () => {
    const { authorizer: both, logs: capture } = testAuthorizer(testConfig(jwks.uri, { algorithms: ['RS256', 'RS512'] }));
    expect(await denial(withToken(signRs(keyB, goodClaims(), 'RS512')), both, capture)).toBe('algorithm does not match key');
    // Control: the JWK without an "alg" accepts the configured RS512.
    await expect(both.authorize(withToken(signRs(keyA, goodClaims(), 'RS512')))).resolves.toMatchObject({ principalId: 'alice' });
  });
});

describe('EC keys', () => {
  test('ES256 verifies when configured; an RS256 token is then refused', async () => {
    const ec = ecKey('ec-1');
    const ecJwks = await startJwksServer([ec, keyA]);
    try {
      const { authorizer: es, logs: capture } = testAuthorizer(testConfig(ecJwks.uri, { algorithms: ['ES256'] }));
      const token = jwt.sign(goodClaims({ sub: 'ec-user' }), ec.privateKey, { algorithm: 'ES256', keyid: 'ec-1' });
      await expect(es.authorize(withToken(token))).resolves.toMatchObject({ principalId: 'ec-user' });
      expect(await denial(withToken(signRs(keyA)), es, capture)).toBe('algorithm not allowed');
      // An ES256 header over the RSA key's kid: the key type does not fit the algorithm, and
      // the key is never handed to the verifier.
      const confused = forge({ alg: 'ES256', kid: 'key-a' }, goodClaims(), rsaSign(keyA.privateKey));
      expect(await denial(withToken(confused), es, capture)).toBe('algorithm does not match key');
    } finally {
      await ecJwks.stop();
    }
  });

  test('an ES384 header over a P-256 key is refused before verification', async () => {
    const ec = ecKey('ec-256');
    const ecJwks = await startJwksServer([ec]);
    try {
      const { authorizer: es, logs: capture } = testAuthorizer(testConfig(ecJwks.uri, { algorithms: ['ES256', 'ES384'] }));
      const p1363 = (input: string): string => sign('sha384', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      expect(await denial(withToken(forge({ alg: 'ES384', kid: 'ec-256' }, goodClaims(), p1363)), es, capture)).toBe('algorithm does not match key');
      const es256 = jwt.sign(goodClaims({ sub: 'p256-user' }), ec.privateKey, { algorithm: 'ES256', keyid: 'ec-256' });
      await expect(es.authorize(withToken(es256))).resolves.toMatchObject({ principalId: 'p256-user' });
    } finally {
      await ecJwks.stop();
    }
  });
});

describe('logs', () => {
  test('one denial line per refused request, JSON, with reason and connection, never the token', async () => {
    const token = signRs(keyA, goodClaims({ exp: now() - 3600, sub: 'secret-subject-value' }));
    const reason = await denial(withToken(token));
    expect(reason).toBe('jwt expired');
    expect(logs.lines).toHaveLength(1);
    const record = logs.records()[0];
    expect(record).toMatchObject({ level: 'WARN', service: 'wskit-authorizer', source: 'query:token', connectionId: 'PZQ2dc6PjoECJqg=', sourceIp: '203.0.113.7' });
    expect(typeof record?.timestamp).toBe('string');
    expectNoTokenIn(logs.lines.join(''), token);
    expect(logs.lines.join('')).not.toContain('secret-subject-value');
  });
});

describe('subjects: the verified sub, verbatim', () => {
  test.each([
    ['Auth0', 'auth0|5f7c8ec7c33c6c004bbafe82'],
    ['Auth0 social (Google)', 'google-oauth2|104372345678901234567'],
    ['Auth0 enterprise connection', 'samlp|corp-idp|jdoe@corp.example'],
    ['an e-mail with a plus tag', 'alice+ws@example.com'],
    ['a UUID (Cognito)', '3f2504e0-4f89-41d3-9a0c-0305e82c3301'],
    ['Okta', '00u1a2b3c4D5e6F7g8h9'],
    ['Azure AD (base64url pairwise id)', 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ'],
    ['Azure AD object id', 'a1b2c3d4-e5f6-4a5b-9c8d-0123456789ab'],
    ['Keycloak', 'f:3c1c3a2e-1e5f-4b0f-9a53-8d2b1c7e9f00:alice'],
    ['a non-ASCII name', 'müller.jürgen@example.de'],
    [`exactly ${MAX_SUBJECT_LENGTH} characters`, 's'.repeat(MAX_SUBJECT_LENGTH)],
  ])('%s is allowed as it is', async (_name, sub) => {
    const result = await authorizer.authorize(withToken(signRs(keyA, goodClaims({ sub }))));
    expect(result.principalId).toBe(sub);
    expect(result.context.userId).toBe(sub);
  });

  test('a refused look-alike is logged by its fixed phrase, never quoted', async () => {
    for (const sub of [' mallory-x', 'mallory-x\u00a0', '\ufeffmallory-x', 'mallory\u200b-x', 'mallory-x\u0000', `mallory-${'x'.repeat(MAX_SUBJECT_LENGTH)}`]) {
      logs.clear();
      metrics.clear();
      const reason = await denial(withToken(signRs(keyA, goodClaims({ sub }))));
      expect(reason).toMatch(/^sub /);
      expect(logs.lines.join('') + metrics.lines.join('')).not.toMatch(/mallory/);
    }
  });
});

describe('metrics: one EMF line per invocation', () => {
  const names = ['Allowed', 'Refused', 'JwksUnavailable', 'Faults'];

  function expectShape(record: Record<string, unknown> | undefined, namespace = 'wskit-test'): void {
    expect(record?._aws).toEqual({
      Timestamp: expect.any(Number),
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['Service']], Metrics: names.map((Name) => ({ Name, Unit: 'Count' })) }],
    });
    expect(record?.Service).toBe('wskit-authorizer');
    // Nothing per user or per connection in the line; reason is a property, not a dimension.
    expect(Object.keys(record ?? {}).sort()).toEqual([...names, 'Service', '_aws', ...(record && 'reason' in record ? ['reason'] : [])].sort());
  }

  test('an allowed token counts Allowed, a refused one Refused with its reason', async () => {
    metrics.clear();
    await authorizer.authorize(withToken(signRs(keyA, goodClaims({ sub: 'metric-user' }))));
    await expect(authorizer.authorize(withToken(signRs(keyA, goodClaims({ exp: now() - 600 }))))).rejects.toThrow('Unauthorized');
    const [allowed, refused] = metrics.records();
    expect(metrics.lines).toHaveLength(2);
    expectShape(allowed);
    expectShape(refused);
    expect(allowed).toMatchObject({ Allowed: 1, Refused: 0, JwksUnavailable: 0, Faults: 0 });
    expect(allowed).not.toHaveProperty('reason');
    expect(refused).toMatchObject({ Allowed: 0, Refused: 1, JwksUnavailable: 0, Faults: 0, reason: 'jwt expired' });
    expect(metrics.lines.join('')).not.toContain('metric-user');
  });

  test('every corpus denial is a Refused, none a fault', async () => {
    metrics.clear();
    for (const item of corpus) await expect(authorizer.authorize(item.event())).rejects.toThrow('Unauthorized');
    expect(metrics.totals()).toEqual({ Allowed: 0, Refused: corpus.length, JwksUnavailable: 0, Faults: 0 });
  });

  test('an unexpected error is a Fault (and still a 401)', async () => {
    const { authorizer: faulty, metrics: captured, logs: faultyLogs } = testAuthorizer(testConfig(jwks.uri));
    const event = connectEvent({ query: { token: signRs(keyA) } });
    Object.defineProperty(event, 'queryStringParameters', {
      get() {
        throw new TypeError('event getter exploded');
      },
    });
    Object.defineProperty(event, 'multiValueQueryStringParameters', { value: undefined });
    await expect(faulty.authorize(event)).rejects.toThrow(/^Unauthorized$/);
    expectShape(captured.last());
    expect(captured.last()).toMatchObject({ Allowed: 0, Refused: 1, JwksUnavailable: 0, Faults: 1, reason: 'internal error' });
    expect(faultyLogs.last()).toMatchObject({ level: 'ERROR', reason: 'internal error', error: 'TypeError' });
  });

  test('no JWKS at all is JwksUnavailable, a fault and not the caller\'s error', async () => {
    const gone = await startJwksServer([keyA]);
    await gone.stop();
    const { authorizer: cold, metrics: captured, logs: coldLogs } = testAuthorizer(testConfig(gone.uri, { metricsNamespace: 'wskit/prod' }));
    await expect(cold.authorize(withToken(signRs(keyA)))).rejects.toThrow(/^Unauthorized$/);
    expectShape(captured.last(), 'wskit/prod');
    expect(captured.last()).toMatchObject({ Allowed: 0, Refused: 1, JwksUnavailable: 1, Faults: 0, reason: 'jwks unavailable' });
    expect(coldLogs.records().map((record) => record.message)).toEqual(['jwks refresh failed', 'authorization denied']);
  });

  test('a metrics writer that throws changes no answer', async () => {
    const quiet = new LogCapture();
    const broken = createAuthorizer(testConfig(jwks.uri), {
      logger: createLogger('wskit-authorizer', { write: quiet.write }),
      writeMetrics: () => {
        throw new Error('stdout closed');
      },
    });
    await expect(broken.authorize(withToken(signRs(keyA)))).resolves.toMatchObject({ principalId: 'alice' });
    await expect(broken.authorize(withToken('nope'))).rejects.toThrow(/^Unauthorized$/);
  });
});

describe('the HTTP API (payload 2.0, simple responses)', () => {
  const httpRequest = (headers: Record<string, string>) => ({
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4a5/$default/GET/topics/public:x/messages',
    identitySource: headers.authorization ? [headers.authorization] : [],
    routeKey: 'GET /topics/{topic}/messages',
    rawPath: '/topics/public%253Ax/messages',
    headers,
    requestContext: { requestId: 'req-http', http: { method: 'GET', sourceIp: '198.51.100.7' } },
  });

  test('a Bearer token in the Authorization header is authorized with the same context', async () => {
    const claims = goodClaims({ sub: 'auth0|carol', scope: 'topics:team.' });
    const result = await authorizer.authorizeHttp(httpRequest({ authorization: `Bearer ${signRs(keyA, claims)}` }));
    expect(result).toEqual({ isAuthorized: true, context: { userId: 'auth0|carol', scope: 'topics:team.', exp: claims.exp } });
  });

  test('anything else is isAuthorized false (API Gateway answers 403), logged and counted, never thrown', async () => {
    const before = metrics.totals().Refused;
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: `Bearer ${signRs(attacker)}` }, { authorization: `Bearer ${signRs(keyA, goodClaims({ sub: ' alice' }))}` }]) {
      await expect(authorizer.authorizeHttp(httpRequest(headers))).resolves.toEqual({ isAuthorized: false });
    }
    await expect(authorizer.authorizeHttp({ version: '2.0', type: 'REQUEST' })).resolves.toEqual({ isAuthorized: false });
    expect(metrics.totals().Refused - before).toBe(5);
    expect(logs.records().filter((record) => record.requestId === 'req-http' && record.level === 'WARN').map((record) => record.sourceIp)).toEqual(Array(4).fill('198.51.100.7'));
  });
});
