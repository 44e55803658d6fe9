// The HTTP API on the gateway's port, with the real http and authorizer bundles: a user's
// token over GET and POST, a backend's SigV4 under /iam, the path decoded as API Gateway does,
// and what the API answers before the function runs.
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { topicMessagesPath } from '@wskit/protocol';
import { startGateway, type Gateway } from '../src';
import { connect, httpRequest, signedRequest, type TestClient } from './helpers';
import { realBundles } from './bundles';

jest.setTimeout(60_000);

let workDir: string;
let gw: Gateway;
const clients: TestClient[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-http-api-'));
  gw = await startGateway({ distDir: realBundles(), dataDir: workDir, publicTopicPrefixes: ['public:'] });
  expect(gw.warnings).toEqual([]);
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const base = () => gw.httpApiUrl!;
const bearer = async (sub: string) => ({ authorization: `Bearer ${await gw.mintToken({ sub })}`, 'content-type': 'application/json' });
const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

test('a user publishes over HTTP to a WebSocket subscriber, then reads the history; the gateway prints its base', async () => {
  expect(base()).toBe(`${gw.httpUrl}/${gw.stage}`);
  const token = await gw.mintToken({ sub: 'listener' });
  const ws = await connect(`${gw.wsUrl}/?token=${encodeURIComponent(token)}`);
  clients.push(ws);
  const topic = 'public:room/1%';
  expect(await ws.request({ action: 'subscribe', id: 's', topic })).toMatchObject({ type: 'ack', seq: 0 });

  const posted = await httpRequest(`${base()}${topicMessagesPath(topic)}`, { method: 'POST', headers: await bearer('poster'), body: JSON.stringify({ data: { hi: 1 } }) });
  expect(posted.status).toBe(200);
  expect(json(posted.body)).toMatchObject({ type: 'ack', action: 'publish', topic, seq: 1, delivered: 1 });
  expect(await ws.nextJson()).toMatchObject({ type: 'message', topic, data: { hi: 1 }, seq: 1 });

  const page = await httpRequest(`${base()}${topicMessagesPath(topic)}?since=0&limit=10`, { headers: await bearer('reader') });
  expect(page.status).toBe(200);
  expect(json(page.body)).toMatchObject({ type: 'history', topic, seq: 1, complete: true, recovered: true, messages: [{ data: { hi: 1 }, seq: 1 }] });
});

test('a backend signs with IAM credentials under /iam and may use any topic', async () => {
  const url = `${base()}/iam${topicMessagesPath('user:somebody')}`;
  const posted = await signedRequest(url, { method: 'POST', body: JSON.stringify({ data: 'from a backend' }), headers: { 'content-type': 'application/json' } });
  expect([posted.status, json(posted.body)]).toEqual([200, expect.objectContaining({ type: 'ack', seq: 1 })]);
  const read = await signedRequest(url);
  expect(json(read.body)).toMatchObject({ seq: 1, messages: [{ data: 'from a backend' }] });
  // Unsigned, or signed with the wrong secret: the API answers before the function runs.
  expect((await httpRequest(url)).status).toBe(403);
  expect((await signedRequest(url, {}, { accessKeyId: 'local', secretAccessKey: 'wrong' })).status).toBe(403);
});

test('the API refuses before the function: no token 401, a bad token 403, no route 404', async () => {
  const url = `${base()}${topicMessagesPath('public:x')}`;
  expect(await httpRequest(url)).toMatchObject({ status: 401 });
  expect(json((await httpRequest(url)).body)).toEqual({ message: 'Unauthorized' });
  expect(await httpRequest(url, { headers: { authorization: 'Bearer not.a.token' } })).toMatchObject({ status: 403 });
  // A topic of another user: the function's own refusal, with the protocol's error frame.
  const forbidden = await httpRequest(`${base()}${topicMessagesPath('user:bob')}`, { headers: await bearer('alice') });
  expect([forbidden.status, json(forbidden.body).code]).toEqual([403, 'FORBIDDEN']);
  // Encoded once, a "/" in the topic splits the path when API Gateway decodes it: no route.
  expect((await httpRequest(`${base()}/topics/${encodeURIComponent('public:a/b')}/messages`, { headers: await bearer('alice') })).status).toBe(404);
  expect((await httpRequest(`${base()}/topics/public:x/messages`, { method: 'DELETE', headers: await bearer('alice') })).status).toBe(404);
});
