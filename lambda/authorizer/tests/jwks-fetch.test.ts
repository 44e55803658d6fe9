import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchJwks } from '../src/jwks-fetch';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case '/slow':
        // Headers at once, then a body that trickles: only a whole-exchange deadline stops it.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"keys":[');
        setTimeout(() => response.end(']}'), 1000).unref();
        return;
      case '/big':
        response.writeHead(200).end(JSON.stringify({ keys: [{ pad: 'x'.repeat(400_000) }] }));
        return;
      case '/big-chunked':
        response.writeHead(200, { 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 40; i += 1) response.write('x'.repeat(10_000));
        response.end();
        return;
      case '/nokeys':
        response.writeHead(200).end('{"not":"a jwks"}');
        return;
      case '/null':
        response.writeHead(200).end('null');
        return;
      case '/503':
        response.writeHead(503).end('down');
        return;
      default:
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[{"kid":"a"}]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('a JWK set is answered as its keys', async () => {
  await expect(fetchJwks(`${base}/jwks`, { timeoutMs: 2000 })).resolves.toEqual({ keys: [{ kid: 'a' }] });
});

test('a slow answer hits the whole-request deadline', async () => {
  const started = Date.now();
  await expect(fetchJwks(`${base}/slow`, { timeoutMs: 150 })).rejects.toThrow(/timed out after 150 ms/);
  expect(Date.now() - started).toBeLessThan(900);
});

test('an oversized answer is refused, declared or streamed', async () => {
  await expect(fetchJwks(`${base}/big`, { timeoutMs: 2000 })).rejects.toThrow(/larger than 262144 bytes/);
  await expect(fetchJwks(`${base}/big-chunked`, { timeoutMs: 2000, maxBytes: 100_000 })).rejects.toThrow(/larger than 100000 bytes/);
});

test('a non-JWKS answer or an error status is refused', async () => {
  await expect(fetchJwks(`${base}/nokeys`, { timeoutMs: 2000 })).rejects.toThrow(/did not answer a JWK set/);
  await expect(fetchJwks(`${base}/null`, { timeoutMs: 2000 })).rejects.toThrow(/did not answer a JWK set/);
  await expect(fetchJwks(`${base}/503`, { timeoutMs: 2000 })).rejects.toThrow(/answered HTTP 503/);
});

test('plain http to anything but loopback is refused before any request', async () => {
  await expect(fetchJwks('http://issuer.example.com/.well-known/jwks.json', { timeoutMs: 2000 })).rejects.toThrow(/must be https/);
});
