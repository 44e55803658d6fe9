/**
 * The JWKS cache against a real JWKS server on 127.0.0.1 that counts the requests it gets.
 * Long waits (cache max age, grace, minutes of storm) run on a clock the test moves; the
 * last block proves the rotation and fetch bounds in real time with a short interval.
 */
import { generateKeyPairSync } from 'node:crypto';
import { JwksCache } from '../src/keys';
import {
  connectEvent, ecKey, goodClaims, type JwksServer, ManualClock, mostInAnyWindow, randomKid, rsaKey, signRs,
  startJwksServer, testAuthorizer, type TestAuthorizer, testConfig, type TestKey,
} from './helpers';

let keyA: TestKey;
let keyB: TestKey;
let keyC: TestKey; // published by the IdP during a test (a rotation)
let tokenA: string;
let tokenB: string;
let tokenC: string;
/** Tokens signed by key-a under made-up kids: a storm reuses them (the kids are never cached). */
let stormTokens: string[];
const servers: JwksServer[] = [];

beforeAll(() => {
  keyA = rsaKey('key-a');
  keyB = rsaKey('key-b');
  keyC = rsaKey('key-c');
  tokenA = signRs(keyA, goodClaims({ sub: 'alice' }));
  tokenB = signRs(keyB, goodClaims({ sub: 'bob' }));
  tokenC = signRs(keyC, goodClaims({ sub: 'carol' }));
  stormTokens = Array.from({ length: 20 }, () => signRs(keyA, goodClaims({ sub: 'mallory' }), 'RS256', randomKid()));
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

/** 'allowed', or the denial reason from the log. Only when nothing else is in flight. */
async function outcome(subject: TestAuthorizer, token: string): Promise<string> {
  subject.logs.clear();
  try {
    await subject.authorizer.authorize(withToken(token));
    return 'allowed';
  } catch {
    const denial = subject.logs.records().find((record) => record.message === 'authorization denied');
    return String(denial?.reason);
  }
}

/** One burst: `storm` made-up kids and the `valid` tokens, all at once. */
async function burst(subject: TestAuthorizer, valid: string[], storm = 10): Promise<{ validRefused: number; stormAllowed: number }> {
  const [stormResults, validResults] = await Promise.all([
    Promise.allSettled(stormTokens.slice(0, storm).map((token) => subject.authorizer.authorize(withToken(token)))),
    Promise.allSettled(valid.map((token) => subject.authorizer.authorize(withToken(token)))),
  ]);
  return {
    validRefused: validResults.filter((result) => result.status === 'rejected').length,
    stormAllowed: stormResults.filter((result) => result.status === 'fulfilled').length,
  };
}

/** The simulated time of each request the server received. */
class FetchTimes {
  readonly times: number[] = [];
  private seen = 0;
  constructor(private readonly jwks: JwksServer, private readonly clock: ManualClock) {}
  note(): void {
    for (; this.seen < this.jwks.fetches; this.seen += 1) this.times.push(this.clock.ms);
  }
}

describe('a storm of made-up kids (simulated clock, default intervals)', () => {
  test('valid tokens keep verifying, every made-up kid is refused, at most 6 JWKS fetches in any minute', async () => {
    const jwks = await server([keyA, keyB]);
    const clock = new ManualClock();
    const subject = testAuthorizer(testConfig(jwks.uri), { now: clock.now });
    const fetched = new FetchTimes(jwks, clock);
    let validRefused = 0;
    let stormAllowed = 0;
    // Three minutes, a burst every 500 ms: 10 made-up kids beside two valid tokens, then a
    // made-up kid and a valid token one after the other.
    for (let step = 0; step < 360; step += 1) {
      const result = await burst(subject, [tokenA, tokenB]);
      validRefused += result.validRefused;
      stormAllowed += result.stormAllowed;
      await expect(subject.authorizer.authorize(withToken(stormTokens[step % stormTokens.length] as string))).rejects.toThrow('Unauthorized');
      await expect(subject.authorizer.authorize(withToken(tokenA))).resolves.toMatchObject({ principalId: 'alice' });
      fetched.note();
      clock.advance(500);
    }
    expect(validRefused).toBe(0);
    expect(stormAllowed).toBe(0);
    expect(mostInAnyWindow(fetched.times, 60_000)).toBeLessThanOrEqual(6);
    // The storm does refresh the set (that is how a rotated key gets in), once per 10 s.
    expect(jwks.fetches).toBeGreaterThanOrEqual(15);
    expect(jwks.fetches).toBeLessThanOrEqual(1 + 180 / 10);
    expect(subject.metrics.totals()).toEqual({ Allowed: 360 * 3, Refused: 360 * 11, JwksUnavailable: 0, Faults: 0 });
  });

  test('a key rotated in during the storm is accepted within 10 s of its first use (bound 30 s)', async () => {
    const jwks = await server([keyA, keyB]);
    const clock = new ManualClock();
    const subject = testAuthorizer(testConfig(jwks.uri), { now: clock.now });
    const fetched = new FetchTimes(jwks, clock);
    let firstUse: number | undefined;
    let acceptedAt: number | undefined;
    for (let step = 0; step < 120 && acceptedAt === undefined; step += 1) {
      expect((await burst(subject, [tokenA])).validRefused).toBe(0);
      if (step === 37) jwks.keys = [keyA.jwk, keyB.jwk, keyC.jwk]; // the IdP publishes key-c
      if (step >= 37) {
        firstUse ??= clock.ms;
        if ((await outcome(subject, tokenC)) === 'allowed') acceptedAt = clock.ms;
      }
      fetched.note();
      clock.advance(1000);
    }
    expect(acceptedAt).toBeDefined();
    expect((acceptedAt as number) - (firstUse as number)).toBeLessThanOrEqual(10_000);
    expect(mostInAnyWindow(fetched.times, 60_000)).toBeLessThanOrEqual(6);
  });

  test('without a storm, a new key is accepted once the interval since the last fetch has passed', async () => {
    const jwks = await server([keyA]);
    const clock = new ManualClock();
    const subject = testAuthorizer(testConfig(jwks.uri), { now: clock.now });
    expect(await outcome(subject, tokenA)).toBe('allowed');
    clock.advance(2000);
    jwks.keys = [keyA.jwk, keyC.jwk];
    const firstUse = clock.ms;
    // Inside the interval: refused without a fetch, never held waiting.
    expect(await outcome(subject, tokenC)).toBe('unknown kid');
    expect(jwks.fetches).toBe(1);
    clock.advance(8000);
    expect(await outcome(subject, tokenC)).toBe('allowed');
    expect(clock.ms - firstUse).toBe(8000);
    expect(jwks.fetches).toBe(2);
  });
});

describe('a key removed from the JWKS', () => {
  test('is refused after the next successful refresh, at most the max age, and never accepted again', async () => {
    const jwks = await server([keyA, keyB]);
    const clock = new ManualClock();
    const subject = testAuthorizer(testConfig(jwks.uri), { now: clock.now }); // max age 600 s, grace 3600 s
    expect(await outcome(subject, tokenA)).toBe('allowed');
    jwks.keys = [keyB.jwk]; // the IdP withdraws key-a

    clock.advance(599_000);
    expect(await outcome(subject, tokenA)).toBe('allowed'); // the fresh set still lists it
    expect(jwks.fetches).toBe(1);
    clock.advance(1000); // max age: the next request refreshes the set
    expect(await outcome(subject, tokenA)).toBe('unknown kid');
    expect(jwks.fetches).toBe(2);

    // Whatever happens next (storms, the JWKS down, the stale grace, fetches held back by
    // the interval), key-a stays refused, while key-b is served until the grace ends.
    jwks.mode = 'reset';
    const fetched = new FetchTimes(jwks, clock);
    let aAllowed = 0;
    let bAllowed = 0;
    for (let second = 0; second < 2 * 3600; second += 20) {
      await burst(subject, [], 5);
      if ((await outcome(subject, tokenA)) === 'allowed') aAllowed += 1;
      const b = await outcome(subject, tokenB);
      if (b === 'allowed') bAllowed += 1;
      else expect(b).toBe('jwks unavailable');
      fetched.note();
      clock.advance(20_000);
    }
    expect(aAllowed).toBe(0);
    // key-b: served while the set (fetched at 600 s) is within max age + grace (4200 s).
    expect(bAllowed).toBe(4200 / 20);
    expect(mostInAnyWindow(fetched.times, 60_000)).toBeLessThanOrEqual(6);

    jwks.mode = 'ok';
    clock.advance(10_000);
    expect(await outcome(subject, tokenB)).toBe('allowed');
    expect(await outcome(subject, tokenA)).toBe('unknown kid');
  });

  test('is refused as soon as any refresh brings the new set, such as one a storm caused', async () => {
    const jwks = await server([keyA, keyB]);
    const clock = new ManualClock();
    const subject = testAuthorizer(testConfig(jwks.uri), { now: clock.now });
    expect(await outcome(subject, tokenA)).toBe('allowed');
    jwks.keys = [keyB.jwk];
    clock.advance(10_000);
    await burst(subject, [], 3); // a made-up kid refreshes the set
    expect(jwks.fetches).toBe(2);
    expect(await outcome(subject, tokenA)).toBe('unknown kid');
    expect(await outcome(subject, tokenB)).toBe('allowed');
  });

  test('a kid re-used for another key: the old signatures stop verifying with the new set', async () => {
    const jwks = await server([keyA]);
    const clock = new ManualClock();
    const subject = testAuthorizer(testConfig(jwks.uri), { now: clock.now });
    expect(await outcome(subject, tokenA)).toBe('allowed');
    const successor = rsaKey('key-a');
    jwks.keys = [successor.jwk];
    clock.advance(600_000);
    expect(await outcome(subject, tokenA)).toBe('invalid signature');
    expect(await outcome(subject, signRs(successor, goodClaims({ sub: 'alice' })))).toBe('allowed');
  });
});

describe('an unavailable JWKS', () => {
  test('a stale set keeps serving its keys for the grace, then nothing until a fetch succeeds', async () => {
    const jwks = await server([keyA, keyB]);
    const clock = new ManualClock();
    const subject = testAuthorizer(testConfig(jwks.uri), { now: clock.now });
    expect(await outcome(subject, tokenA)).toBe('allowed');
    jwks.mode = 'status-503';

    clock.advance(600_000); // stale: the refresh fails, the set is served
    expect(await outcome(subject, tokenA)).toBe('allowed');
    expect(subject.logs.records().map((record) => record.message)).toContain('jwks refresh failed');
    expect(jwks.fetches).toBe(2);
    expect(await outcome(subject, tokenB)).toBe('allowed'); // no new attempt inside the interval
    expect(jwks.fetches).toBe(2);
    // A made-up kid cannot be checked against the IdP now: said so, and not a JWKS fault.
    expect(await outcome(subject, stormTokens[0] as string)).toBe('unknown kid (jwks refresh failed)');

    clock.advance(3_599_000); // max age + grace - 1 s
    expect(await outcome(subject, tokenA)).toBe('allowed');
    subject.metrics.clear();
    clock.advance(1000); // the grace is over
    expect(await outcome(subject, tokenA)).toBe('jwks unavailable');
    expect(subject.metrics.last()).toMatchObject({ Refused: 1, JwksUnavailable: 1, reason: 'jwks unavailable' });

    jwks.mode = 'ok';
    clock.advance(10_000);
    expect(await outcome(subject, tokenA)).toBe('allowed');
  });

  test('on a cold start: denied as jwks unavailable, one fetch attempt per interval, recovered when it answers', async () => {
    const jwks = await server([keyA]);
    jwks.mode = 'reset'; // the connection dies before any answer
    const clock = new ManualClock();
    const subject = testAuthorizer(testConfig(jwks.uri), { now: clock.now });
    const fetched = new FetchTimes(jwks, clock);
    for (let step = 0; step < 120; step += 1) {
      const result = await burst(subject, [tokenA, tokenA, tokenA], 2);
      expect(result.validRefused).toBe(3);
      fetched.note();
      clock.advance(1000);
    }
    expect(mostInAnyWindow(fetched.times, 60_000)).toBeLessThanOrEqual(6);
    expect(jwks.fetches).toBe(12);
    expect(subject.metrics.totals()).toEqual({ Allowed: 0, Refused: 600, JwksUnavailable: 600, Faults: 0 });
    jwks.mode = 'ok';
    clock.advance(10_000);
    expect(await outcome(subject, tokenA)).toBe('allowed');
  });

  test('an endpoint that is not listening: refused at once, nothing held open', async () => {
    const gone = await startJwksServer([keyA]);
    await gone.stop();
    const subject = testAuthorizer(testConfig(gone.uri));
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => subject.authorizer.authorize(withToken(tokenA))));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(subject.authorizer.jwksFetches).toBe(1);
    expect(subject.metrics.totals()).toMatchObject({ Refused: 20, JwksUnavailable: 20 });
  });

  test('an endpoint that never answers: everyone waits on the one request, until its deadline', async () => {
    const jwks = await server([keyA]);
    jwks.mode = 'hang';
    const subject = testAuthorizer(testConfig(jwks.uri, { jwksTimeoutMs: 300 }));
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => subject.authorizer.authorize(withToken(tokenA))));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(jwks.fetches).toBe(1);
    expect(subject.logs.records().find((record) => record.message === 'jwks refresh failed')).toMatchObject({ error: 'JWKS request timed out after 300 ms' });
  });
});

describe('cold starts', () => {
  test('parallel first invocations share one fetch', async () => {
    const jwks = await server([keyA, keyB]);
    const subject = testAuthorizer(testConfig(jwks.uri));
    const tokens = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? tokenA : tokenB));
    const results = await Promise.all(tokens.map((token) => subject.authorizer.authorize(withToken(token))));
    expect(results.map((result) => result.principalId)).toEqual(tokens.map((_, i) => (i % 2 === 0 ? 'alice' : 'bob')));
    expect(jwks.fetches).toBe(1);
  });

  test('the set stays in module scope: the JWKS server stopped after the first fetch, every listed key still verifies', async () => {
    const jwks = await server([keyA, keyB]);
    const subject = testAuthorizer(testConfig(jwks.uri));
    expect(await outcome(subject, tokenA)).toBe('allowed');
    await jwks.stop();
    for (const sub of ['alice', 'bob', 'carol']) {
      await expect(subject.authorizer.authorize(withToken(signRs(keyA, goodClaims({ sub }))))).resolves.toMatchObject({ principalId: sub });
    }
    // key-b was never asked for, yet it came with the set.
    expect(await outcome(subject, tokenB)).toBe('allowed');
    // A made-up kid inside the interval: refused without a fetch.
    expect(await outcome(subject, stormTokens[0] as string)).toBe('unknown kid');
    expect(jwks.fetches).toBe(1);
  });
});

describe('the keys of a set', () => {
  test('only public signing keys are used; a bad entry spoils nothing; the first of two equal kids wins', async () => {
    const ec = ecKey('ec-1');
    const otherEc = ecKey('ec-2');
    const impostor = rsaKey('key-a');
    const { publicKey: weakKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak = { jwk: weakKey.export({ format: 'jwk' }) };
    const jwks = await server([]);
    jwks.keys = [
      { ...keyB.jwk, kid: 'for-encryption', use: 'enc' },
      { ...keyB.jwk, kid: 'with-private-part', d: 'AQAB' },
      { ...keyB.jwk, kid: 'encrypt-only', key_ops: ['encrypt'] },
      { kty: 'oct', kid: 'symmetric', k: 'c2VjcmV0' },
      { kty: 'OKP', kid: 'ed', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
      { kty: 'RSA', kid: 'broken', n: 'not base64url!', e: 'AQAB' },
      { ...weak.jwk, kid: 'rsa-1024' },
      { ...ec.jwk, kid: 'bad-curve', crv: 'P-192' },
      { ...ec.jwk, kid: 'off-curve', y: otherEc.jwk.y },
      { ...keyB.jwk, kid: 7 },
      null,
      'a string',
      keyA.jwk,
      impostor.jwk,
      { ...ec.jwk, key_ops: ['verify'] },
    ];
    const cache = new JwksCache({ jwksUri: jwks.uri, maxAgeMs: 600_000, minRefreshIntervalMs: 10_000, staleGraceMs: 0, timeoutMs: 2000 });
    const a = await cache.resolve('key-a');
    expect(a.kty).toBe('RSA');
    expect(a.key.export({ type: 'spki', format: 'pem' })).toBe(keyA.publicPem);
    await expect(cache.resolve('ec-1')).resolves.toMatchObject({ kty: 'EC', crv: 'P-256' });
    for (const kid of ['for-encryption', 'with-private-part', 'encrypt-only', 'symmetric', 'ed', 'broken', 'rsa-1024', 'bad-curve', 'off-curve', '7']) {
      await expect(cache.resolve(kid)).rejects.toMatchObject({ reason: 'unknown kid' });
    }
    // Two usable keys: a token without kid cannot pick one.
    await expect(cache.resolve(undefined)).rejects.toMatchObject({ reason: 'no kid and several keys' });
    expect(cache.fetches).toBe(1);
  });

  test('an empty set refuses everything, as the IdP says', async () => {
    const jwks = await server([]);
    const subject = testAuthorizer(testConfig(jwks.uri));
    expect(await outcome(subject, tokenA)).toBe('unknown kid');
    expect(await outcome(subject, signRs(keyA, goodClaims(), 'RS256', null))).toBe('unknown kid');
    expect(subject.metrics.last()).toMatchObject({ Refused: 1, JwksUnavailable: 0 });
  });

  test('intervals that cannot hold the bounds are refused', () => {
    expect(() => new JwksCache({ jwksUri: 'https://issuer.test/jwks', maxAgeMs: 5000, minRefreshIntervalMs: 10_000, staleGraceMs: 0, timeoutMs: 1000 })).toThrow(RangeError);
    expect(() => new JwksCache({ jwksUri: 'https://issuer.test/jwks', maxAgeMs: 5000, minRefreshIntervalMs: 0, staleGraceMs: 0, timeoutMs: 1000 })).toThrow(RangeError);
  });
});

describe('in real time (an interval of 500 ms instead of 10 s)', () => {
  test('during a storm, valid tokens never fail, a rotated-in key is accepted within 3 intervals, fetches start an interval apart', async () => {
    const intervalMs = 500;
    const jwks = await server([keyA]);
    const subject = testAuthorizer(testConfig(jwks.uri, { jwksMinRefreshIntervalSeconds: intervalMs / 1000, jwksCacheMaxAgeSeconds: 600 }));
    const started = Date.now();
    expect(await outcome(subject, tokenA)).toBe('allowed');

    let storming = true;
    let validRefused = 0;
    let stormAllowed = 0;
    const storm = (async () => {
      while (storming) {
        const result = await burst(subject, [tokenA], 5);
        validRefused += result.validRefused;
        stormAllowed += result.stormAllowed;
        await sleep(5);
      }
    })();
    await sleep(2 * intervalMs);

    jwks.keys = [keyA.jwk, keyC.jwk];
    const firstUse = Date.now();
    let acceptedAt: number | undefined;
    while (acceptedAt === undefined && Date.now() - firstUse < 20 * intervalMs) {
      try {
        await subject.authorizer.authorize(withToken(tokenC));
        acceptedAt = Date.now();
      } catch {
        await sleep(10);
      }
    }
    await sleep(intervalMs);
    storming = false;
    await storm;
    const elapsed = Date.now() - started;

    expect(validRefused).toBe(0);
    expect(stormAllowed).toBe(0);
    expect(acceptedAt).toBeDefined();
    // The bound is 30 s for the default 10 s interval: three intervals.
    expect((acceptedAt as number) - firstUse).toBeLessThanOrEqual(3 * intervalMs);
    // Fetch starts are at least an interval apart, so no more than this many fit.
    expect(jwks.fetches).toBeLessThanOrEqual(Math.floor(elapsed / intervalMs) + 1);
    expect(jwks.fetches).toBeGreaterThanOrEqual(2);
  });
});
