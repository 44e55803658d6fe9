// POST /dev/publish -> an SQS-shaped event -> the REAL broadcaster bundle (dist/lambda,
// built by ./build.sh) in a worker thread -> fan-out through the gateway's @connections to
// real `ws` clients subscribed through the real message handler.
import * as path from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startGateway, type Gateway } from '../src';
import { connect, httpRequest, type TestClient } from './helpers';
import { realBundles } from './bundles';

jest.setTimeout(60_000);

let workDir: string;
let gw: Gateway;
const clients: TestClient[] = [];

beforeAll(async () => {
  const distDir = realBundles();
  if (!existsSync(path.join(distDir, 'broadcaster', 'index.mjs'))) {
    throw new Error(`broadcaster/index.mjs is missing from ${distDir}: run ./build.sh at the repository root first`);
  }
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-publish-'));
  gw = await startGateway({ distDir, dataDir: workDir });
  expect(gw.warnings).toEqual([]);
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function subscriber(sub: string, topic: string): Promise<TestClient> {
  const token = await gw.mintToken({ sub });
  const client = await connect(`${gw.wsUrl}/?token=${encodeURIComponent(token)}`);
  clients.push(client);
  const ack = await client.request<Record<string, unknown>>({ action: 'subscribe', id: 's', topic });
  expect(ack).toMatchObject({ type: 'ack', action: 'subscribe', topic });
  return client;
}

const publish = (body: unknown) =>
  httpRequest(`${gw.httpUrl}/dev/publish`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

test('a published message reaches every subscriber of the topic through the broadcaster', async () => {
  const [a, b] = await Promise.all([subscriber('alice', 'public:lobby'), subscriber('bob', 'public:lobby')]);
  const other = await subscriber('carol', 'public:elsewhere');
  const res = await publish({ topic: 'public:lobby', data: { text: 'hi from the backend' } });
  expect(res.status).toBe(200);
  const { results } = JSON.parse(res.body) as { results: Array<{ messageId: string; status: string }> };
  expect(results).toEqual([{ messageId: expect.any(String), status: 'delivered' }]);
  for (const client of [a, b]) {
    const frame = await client.nextJson();
    expect(frame).toEqual({ type: 'message', topic: 'public:lobby', data: { text: 'hi from the backend' }, mid: results[0]!.messageId, ts: expect.any(Number), seq: 1 });
  }
  await expect(other.next(300)).rejects.toThrow(/no frame/);
});

test('a batch with a malformed message refuses only that one, saying why', async () => {
  const c = await subscriber('dave', 'public:batch');
  const res = await publish([{ topic: 'public:batch', data: 1 }, { topic: 'bad topic!', data: 2 }, { topic: 'public:batch', data: 3 }]);
  expect(res.status).toBe(200);
  const { results } = JSON.parse(res.body) as { results: Array<{ status: string; reason?: string }> };
  expect(results.map((r) => r.status)).toEqual(['delivered', 'refused', 'delivered']);
  expect(results[1]!.reason).toMatch(/"topic" must be .*no spaces/);
  expect((await c.nextJson()).data).toBe(1);
  expect((await c.nextJson()).data).toBe(3);
});

test('bad requests get a clear answer', async () => {
  expect((await publish('{nope')).status).toBe(400);
  expect((await publish([])).status).toBe(400);
  expect((await publish(Array.from({ length: 11 }, () => ({ topic: 'public:x', data: 0 })))).status).toBe(400);
  const get = await httpRequest(`${gw.httpUrl}/dev/publish`);
  expect(get.status).toBe(405);
  expect(JSON.parse(get.body).message).toMatch(/POST a JSON body/);
});
