import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJwksFetcher, JwksRefetchRateLimited } from '../src/jwks-fetch';

let server: Server;
let base: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    hits += 1;
    if (request.url === '/slow') {
      setTimeout(() => response.writeHead(200).end('{"keys":[]}'), 1000).unref();
      return;
    }
    if (request.url === '/big') {
      response.writeHead(200).end(JSON.stringify({ keys: [{ pad: 'x'.repeat(400_000) }] }));
      return;
    }
    if (request.url === '/nokeys') {
      response.writeHead(200).end('{"not":"a jwks"}');
      return;
    }
    setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[{"kid":"a"}]}'), 20).unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  hits = 0;
});

test('concurrent misses share one request in flight', async () => {
  const fetcher = createJwksFetcher({ requestsPerMinute: 10, timeoutMs: 2000 });
  const results = await Promise.all(Array.from({ length: 50 }, () => fetcher(`${base}/jwks`)));
  expect(results.every((result) => result.keys.length === 1)).toBe(true);
  expect(hits).toBe(1);
  expect(fetcher.fetches).toBe(1);
});

test('at most N requests in any 60-second window, refused at once beyond that, budget back after the window', async () => {
  let clock = 1_000_000;
  const fetcher = createJwksFetcher({ requestsPerMinute: 3, timeoutMs: 2000, now: () => clock });
  for (let i = 0; i < 3; i += 1) {
    await fetcher(`${base}/jwks`);
    clock += 1000;
  }
  const started = Date.now();
  await expect(fetcher(`${base}/jwks`)).rejects.toBeInstanceOf(JwksRefetchRateLimited);
  expect(Date.now() - started).toBeLessThan(50);
  expect(hits).toBe(3);
  clock = 1_000_000 + 60_000; // the first request leaves the window
  await expect(fetcher(`${base}/jwks`)).resolves.toEqual({ keys: [{ kid: 'a' }] });
  await expect(fetcher(`${base}/jwks`)).rejects.toBeInstanceOf(JwksRefetchRateLimited);
  expect(hits).toBe(4);
});

test('a slow endpoint hits the deadline, an oversized or non-JWKS answer is refused', async () => {
  const fetcher = createJwksFetcher({ requestsPerMinute: 10, timeoutMs: 100 });
  await expect(fetcher(`${base}/slow`)).rejects.toThrow(/timed out after 100 ms/);
  await expect(fetcher(`${base}/big`)).rejects.toThrow(/larger than/);
  await expect(fetcher(`${base}/nokeys`)).rejects.toThrow(/did not answer a JWK set/);
});
