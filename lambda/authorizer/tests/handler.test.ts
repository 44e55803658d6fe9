/**
 * The Lambda entry point as API Gateway calls it: configuration from process.env, read
 * on the first invocation; everything written to stdout/console captured and searched
 * for the token. stdout carries two kinds of JSON lines: log lines and EMF metrics lines.
 */
import type { AuthorizerResult } from '../src/authorizer';
import { connectEvent, expectNoTokenIn, goodClaims, METHOD_ARN, now, rsaKey, signRs, startJwksServer, type JwksServer, type TestKey, ISSUER, AUDIENCE } from './helpers';

type Handler = (event: unknown) => Promise<AuthorizerResult>;

let key: TestKey;
let jwks: JwksServer;
const savedEnv = { ...process.env };
let output: string[];

function freshHandler(): Handler {
  let loaded: Handler | undefined;
  jest.isolateModules(() => {
    loaded = (require('../src/index') as { handler: Handler }).handler;
  });
  return loaded as Handler;
}

beforeAll(async () => {
  key = rsaKey('only-key');
  jwks = await startJwksServer([key]);
});

afterAll(async () => {
  await jwks.stop();
});

beforeEach(() => {
  process.env = { ...savedEnv, WSKIT_JWKS_URI: jwks.uri, WSKIT_JWT_ISSUER: ISSUER, WSKIT_JWT_AUDIENCE: AUDIENCE, WSKIT_LOG_LEVEL: 'DEBUG' };
  delete process.env.AWS_LAMBDA_LOG_LEVEL;
  output = [];
  const record = (...args: unknown[]): void => {
    output.push(args.map(String).join(' '));
  };
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    record(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    record(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) jest.spyOn(console, method).mockImplementation(record);
});

afterEach(() => {
  jest.restoreAllMocks();
  process.env = savedEnv;
});

function lines(): Record<string, unknown>[] {
  return output.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}
const logLines = () => lines().filter((line) => !('_aws' in line));
const metricLines = () => lines().filter((line) => '_aws' in line);

test('allows a valid token and logs the decision without the token', async () => {
  const handler = freshHandler();
  const token = signRs(key, goodClaims({ sub: 'user-1', scope: 'publish:x.' }));
  const result = await handler(connectEvent({ query: { token } }));
  expect(result.principalId).toBe('user-1');
  expect(result.policyDocument.Statement[0].Resource).toBe(METHOD_ARN);
  expect(result.context).toMatchObject({ userId: 'user-1', scope: 'publish:x.' });
  expect(logLines()).toEqual([expect.objectContaining({ level: 'DEBUG', service: 'wskit-authorizer', message: 'access allowed' })]);
  expect(metricLines()).toEqual([expect.objectContaining({ Service: 'wskit-authorizer', Allowed: 1, Refused: 0 })]);
  expectNoTokenIn(output.join(''), token);
});

test('a token without kid, with one key in the JWKS, still needs a valid signature', async () => {
  const handler = freshHandler();
  // One key in the set: a token without kid may use it (the only key is picked).
  const token = signRs(key, goodClaims(), 'RS256', null);
  await expect(handler(connectEvent({ query: { token } }))).resolves.toMatchObject({ principalId: 'alice' });
  const forged = signRs(rsaKey('other'), goodClaims(), 'RS256', null);
  await expect(handler(connectEvent({ query: { token: forged } }))).rejects.toThrow(/^Unauthorized$/);
  expectNoTokenIn(output.join(''), forged);
});

test('denials: one log line and one metrics line each on stdout, reason named, token nowhere in stdout, stderr or console', async () => {
  const handler = freshHandler();
  const tokens = [
    signRs(key, goodClaims({ exp: now() - 600 })),
    signRs(key, goodClaims({ aud: 'someone-else' })),
    `${signRs(key)}x`,
    signRs(key, goodClaims(), 'RS256', 'unknown'),
  ];
  for (const token of tokens) {
    await expect(handler(connectEvent({ query: { token } }))).rejects.toThrow(/^Unauthorized$/);
  }
  const reasons = ['jwt expired', 'wrong audience', 'invalid signature', 'unknown kid'];
  expect(logLines().map((line) => line.reason)).toEqual(reasons);
  expect(metricLines().map((line) => [line.reason, line.Refused])).toEqual(reasons.map((reason) => [reason, 1]));
  expect(metricLines()[0]?._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'wskit', Dimensions: [['Service']] }] });
  for (const token of tokens) expectNoTokenIn(output.join(''), token);
});

test('a missing variable fails loudly, naming it, is not reported as a 401, and counts as a fault', async () => {
  delete process.env.WSKIT_JWKS_URI;
  process.env.WSKIT_METRICS_NAMESPACE = 'wskit/staging';
  const handler = freshHandler();
  await expect(handler(connectEvent({ query: { token: signRs(key) } }))).rejects.toThrow(/^WSKIT_JWKS_URI is not set: set it to/);
  expect(logLines()).toEqual([expect.objectContaining({ level: 'ERROR', message: 'configuration error', variable: 'WSKIT_JWKS_URI' })]);
  expect(metricLines()).toEqual([expect.objectContaining({ Faults: 1, Refused: 0, Allowed: 0, JwksUnavailable: 0, reason: 'configuration error' })]);
  expect(metricLines()[0]?._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'wskit/staging' }] });
});

test('a broken metrics namespace is a configuration error too; its fault line goes to the default namespace', async () => {
  process.env.WSKIT_METRICS_NAMESPACE = 'AWS/Lambda';
  const handler = freshHandler();
  await expect(handler(connectEvent({ query: { token: signRs(key) } }))).rejects.toThrow(/^WSKIT_METRICS_NAMESPACE is "AWS\/Lambda"/);
  expect(metricLines()).toEqual([expect.objectContaining({ Faults: 1 })]);
  expect(metricLines()[0]?._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'wskit' }] });
});

test('AWS_LAMBDA_LOG_LEVEL wins over WSKIT_LOG_LEVEL (the shared logger reads both)', async () => {
  process.env.AWS_LAMBDA_LOG_LEVEL = 'ERROR';
  const handler = freshHandler();
  await expect(handler(connectEvent({ query: { token: signRs(key, goodClaims({ exp: now() - 600 })) } }))).rejects.toThrow(/^Unauthorized$/);
  // WARN is below ERROR: no log line, but the metrics line is always written.
  expect(logLines()).toEqual([]);
  expect(metricLines()).toEqual([expect.objectContaining({ Refused: 1, reason: 'jwt expired' })]);
});

test('importing the module reads no configuration and opens no connection', () => {
  delete process.env.WSKIT_JWKS_URI;
  const before = jwks.fetches;
  expect(() => freshHandler()).not.toThrow();
  expect(jwks.fetches).toBe(before);
  expect(output).toEqual([]);
});
