import { createServer } from 'node:http';
import { createAuthorizer } from '../src/authorizer';
import { KeyResolver } from '../src/keys';
import { createLogger } from '../src/logger';
import {
  connectEvent, goodClaims, LogCapture, randomKid, rsaKey, signRs, startJwksServer, testConfig, type JwksServer, type TestKey,
} from './helpers';

let keyA: TestKey;
let keyB: TestKey;
const servers: JwksServer[] = [];

beforeAll(() => {
  keyA = rsaKey('key-a');
  keyB = rsaKey('key-b');
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

async function server(keys: TestKey[]): Promise<JwksServer> {
  const started = await startJwksServer(keys);
  servers.push(started);
  return started;
}

const withToken = (token: string) => connectEvent({ query: { token } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('keys stay cached in module scope: the JWKS server stopped after the first fetch, tokens still verify', async () => {
  const jwks = await server([keyA, keyB]);
  const logs = new LogCapture();
  const authorizer = createAuthorizer(testConfig(jwks.uri), createLogger({ service: 'authorizer', write: logs.write }));

  await expect(authorizer.authorize(withToken(signRs(keyA)))).resolves.toMatchObject({ principalId: 'alice' });
  expect(jwks.fetches).toBe(1);
  await jwks.stop();

  for (const sub of ['alice', 'bob', 'carol', 'dave', 'erin']) {
    await expect(authorizer.authorize(withToken(signRs(keyA, goodClaims({ sub }))))).resolves.toMatchObject({ principalId: sub });
  }
  // The server really is gone: a kid that was never looked up cannot be fetched now.
  await expect(authorizer.authorize(withToken(signRs(keyB)))).rejects.toThrow('Unauthorized');
  expect(logs.last()).toMatchObject({ reason: 'jwks unavailable' });
  expect(jwks.fetches).toBe(1);
});

test('a storm of 200 tokens with random unknown kids causes a bounded number of JWKS fetches', async () => {
  const jwks = await server([keyA, keyB]);
  const logs = new LogCapture();
  const authorizer = createAuthorizer(
    testConfig(jwks.uri, { jwksRequestsPerMinute: 5 }),
    createLogger({ service: 'authorizer', write: logs.write }),
  );
  await expect(authorizer.authorize(withToken(signRs(keyA)))).resolves.toBeDefined();
  expect(jwks.fetches).toBe(1);

  const storm = Array.from({ length: 200 }, () => signRs(keyA, goodClaims(), 'RS256', randomKid()));
  // Half of them concurrently (one API Gateway burst), half one after the other.
  const concurrent = await Promise.allSettled(storm.slice(0, 100).map((token) => authorizer.authorize(withToken(token))));
  const sequential: PromiseSettledResult<unknown>[] = [];
  for (const token of storm.slice(100)) {
    sequential.push(await authorizer.authorize(withToken(token)).then((value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason })));
  }
  expect([...concurrent, ...sequential].every((result) => result.status === 'rejected')).toBe(true);

  // At most the limiter's budget of refetches (5 a minute), on top of the first fetch.
  expect(jwks.fetches).toBeGreaterThan(1);
  expect(jwks.fetches).toBeLessThanOrEqual(1 + 5);
  const reasons = new Set(logs.records().map((record) => record.reason));
  expect(reasons).toEqual(new Set(['unknown kid', 'unknown kid (jwks refetch rate-limited)']));

  // The key already cached is unaffected by the storm.
  await expect(authorizer.authorize(withToken(signRs(keyA, goodClaims({ sub: 'after-storm' }))))).resolves.toMatchObject({ principalId: 'after-storm' });
});

test('a key whose cache entry expired is still served while the JWKS is down (stale-if-error)', async () => {
  const jwks = await server([keyA, keyB]);
  const keys = new KeyResolver({ jwksUri: jwks.uri, requestsPerMinute: 10, cacheMaxAgeSeconds: 0.001, timeoutMs: 1000 });
  const first = await keys.resolve('key-a');
  expect(first.pem).toBe(keyA.publicPem);
  await jwks.stop();
  await sleep(5);
  await expect(keys.resolve('key-a')).resolves.toMatchObject({ pem: keyA.publicPem });
  await expect(keys.resolve('key-b')).rejects.toMatchObject({ reason: 'jwks unavailable' });
});

test('a key removed from the JWKS is refused once its cache entry expires (rotation, revocation)', async () => {
  const jwks = await server([keyA, keyB]);
  const keys = new KeyResolver({ jwksUri: jwks.uri, requestsPerMinute: 10, cacheMaxAgeSeconds: 0.001, timeoutMs: 1000 });
  await expect(keys.resolve('key-a')).resolves.toMatchObject({ pem: keyA.publicPem });
  jwks.keys = [keyB.jwk];
  await sleep(5);
  await expect(keys.resolve('key-a')).rejects.toMatchObject({ reason: 'unknown kid' });
  // Forgotten for good: even with the endpoint down it does not come back as a stale key.
  await jwks.stop();
  await sleep(5);
  await expect(keys.resolve('key-a')).rejects.toMatchObject({ reason: 'jwks unavailable' });
});

test('a JWKS endpoint that answers 500 or garbage denies with "jwks unavailable"', async () => {
  let mode: 'status' | 'garbage' = 'status';
  const broken = createServer((_request, response) => {
    if (mode === 'status') response.writeHead(500).end('boom');
    else response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ nope');
  });
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
  try {
    const port = (broken.address() as { port: number }).port;
    const keys = new KeyResolver({ jwksUri: `http://127.0.0.1:${port}/jwks`, requestsPerMinute: 10, cacheMaxAgeSeconds: 600, timeoutMs: 1000 });
    await expect(keys.resolve('key-a')).rejects.toMatchObject({ reason: 'jwks unavailable' });
    mode = 'garbage';
    await expect(keys.resolve('key-a')).rejects.toMatchObject({ reason: 'jwks unavailable' });
  } finally {
    broken.closeAllConnections();
    await new Promise((resolve) => broken.close(resolve));
  }
});

describe('a storm that spent the refetch budget', () => {
  async function spentResolver(keys: TestKey[]) {
    const jwks = await server(keys);
    const resolver = new KeyResolver({ jwksUri: jwks.uri, requestsPerMinute: 2, cacheMaxAgeSeconds: 0.001, timeoutMs: 1000 });
    await expect(resolver.resolve('key-a')).resolves.toMatchObject({ pem: keyA.publicPem });
    await expect(resolver.resolve(randomKid())).rejects.toMatchObject({ reason: 'unknown kid' });
    await expect(resolver.resolve(randomKid())).rejects.toMatchObject({ reason: 'unknown kid (jwks refetch rate-limited)' });
    expect(jwks.fetches).toBe(2);
    await sleep(5); // key-a's cache entry has expired: its next lookup needs the JWKS again
    return { jwks, resolver };
  }

  test('cannot lock out a known key: it is re-confirmed on its own budget', async () => {
    const { jwks, resolver } = await spentResolver([keyA, keyB]);
    await expect(resolver.resolve('key-a')).resolves.toMatchObject({ pem: keyA.publicPem });
    expect(jwks.fetches).toBe(3);
  });

  test('cannot keep a revoked key alive: removed from the JWKS, it is refused', async () => {
    const { jwks, resolver } = await spentResolver([keyA, keyB]);
    jwks.keys = [keyB.jwk];
    await expect(resolver.resolve('key-a')).rejects.toMatchObject({ reason: 'unknown kid' });
    // Forgotten: with the JWKS gone too, it does not come back as a stale key.
    await jwks.stop();
    await sleep(5);
    await expect(resolver.resolve('key-a')).rejects.toMatchObject({ reason: 'unknown kid (jwks refetch rate-limited)' });
  });

  test('a kid re-used for another key is not confirmed', async () => {
    const { jwks, resolver } = await spentResolver([keyA, keyB]);
    jwks.keys = [{ ...rsaKey('key-a').jwk }, keyB.jwk];
    await expect(resolver.resolve('key-a')).rejects.toMatchObject({ reason: 'unknown kid' });
  });
});
