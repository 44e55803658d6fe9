// A big topic's publish through the gateway and the built handlers: acknowledged as queued
// with its seq, the shard jobs run by the broadcaster from the fan-out queue, every
// subscriber reached once (real sockets and socketless simulated connections), and a
// connection that unsubscribed is never sent what is published after its ack.
import * as path from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { seedSubscribers, until } from '@wskit/testing/audience';
import { startGateway, type Gateway } from '../src';
import { connect, type TestClient } from './helpers';
import { realBundles } from './bundles';

jest.setTimeout(120_000);

const TOPIC = 'public:big';
const SIMULATED = 1200;

let workDir: string;
let gw: Gateway;
let ddb: DynamoDBClient;
const clients: TestClient[] = [];

beforeAll(async () => {
  const distDir = realBundles();
  if (!existsSync(path.join(distDir, 'broadcaster', 'index.mjs'))) throw new Error(`run ./build.sh first: ${distDir}/broadcaster/index.mjs is missing`);
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-handoff-'));
  gw = await startGateway({
    distDir,
    dataDir: workDir,
    rateLimits: { framesPerConnection: 0, publishesPerUser: 0 },
    // A small quota and shard rate: 13 shards, each paced, on 3 workers.
    managementRate: 2000,
    managementBurst: 200,
    fanOut: { inlineLimit: 5, shardRate: 100, workers: 3 },
  });
  ddb = new DynamoDBClient({ endpoint: gw.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const simulated = gw.simulated.add(SIMULATED, 'handoff');
  await seedSubscribers(ddb, gw.tableName, simulated.map((connectionId) => ({ connectionId, topics: [TOPIC] })));
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  ddb?.destroy();
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function signIn(sub: string): Promise<TestClient> {
  const token = await gw.mintToken({ sub });
  const client = await connect(`${gw.wsUrl}/?token=${encodeURIComponent(token)}`);
  clients.push(client);
  return client;
}

const messagesOf = (client: TestClient, seq: number) => client.inbox.filter((frame) => JSON.parse(frame).type === 'message' && JSON.parse(frame).seq === seq);

it('acks the publish as queued with its seq, then every subscriber gets it exactly once', async () => {
  const followers = await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(`follower-${i}`)));
  for (const [i, follower] of followers.entries()) expect(await follower.request({ action: 'subscribe', topic: TOPIC, id: `s${i}` })).toMatchObject({ type: 'ack' });
  const publisher = await signIn('publisher');

  const ack = await publisher.request({ action: 'publish', topic: TOPIC, data: { n: 1 }, id: 'p1' });
  expect(ack).toEqual({ type: 'ack', id: 'p1', action: 'publish', topic: TOPIC, mid: expect.any(String), seq: 1, queued: true });

  await until(() => gw.simulated.received(1) >= SIMULATED && followers.every((f) => messagesOf(f, 1).length > 0), 60_000, 'every subscriber to get seq 1');
  // Late copies would come from a shard run twice: give them time to show.
  await until(() => gw.fanOutQueue()!.inFlight === 0 && gw.fanOutQueue()!.pending === 0, 30_000, 'the queue to drain');
  expect(gw.simulated.count(1)).toMatchObject({ once: SIMULATED, duplicated: 0, lost: 0 });
  for (const follower of followers) expect(messagesOf(follower, 1)).toHaveLength(1);
  const stats = gw.fanOutQueue()!;
  expect(stats.sent).toBeGreaterThan(1);
  expect(stats).toMatchObject({ deleted: stats.sent, deadLettered: 0 });
});

it('never sends a connection what is published after its unsubscribe was acknowledged', async () => {
  const [leaving, staying] = await Promise.all([signIn('leaving'), signIn('staying')]);
  expect(await leaving.request({ action: 'subscribe', topic: TOPIC, id: 'a' })).toMatchObject({ type: 'ack' });
  expect(await staying.request({ action: 'subscribe', topic: TOPIC, id: 'b' })).toMatchObject({ type: 'ack' });
  expect(await leaving.request({ action: 'unsubscribe', topic: TOPIC, id: 'c' })).toMatchObject({ type: 'ack' });
  const ack = await staying.request<{ seq: number; queued?: boolean }>({ action: 'publish', topic: TOPIC, data: { n: 2 }, id: 'p2' });
  expect(ack.queued).toBe(true);
  await until(() => gw.simulated.received(ack.seq) >= SIMULATED && messagesOf(staying, ack.seq).length > 0, 60_000, 'the second message to arrive');
  await until(() => gw.fanOutQueue()!.inFlight === 0 && gw.fanOutQueue()!.pending === 0, 30_000, 'the queue to drain');
  expect(messagesOf(leaving, ack.seq)).toEqual([]);
  expect(gw.simulated.count(ack.seq)).toMatchObject({ once: SIMULATED, duplicated: 0, lost: 0 });
});

it('refuses an unsigned request to the fan-out queue: nobody else can queue a shard job', async () => {
  const queueUrl = gw.settings.get('fanout_queue_url')!;
  const body = JSON.stringify({ QueueUrl: queueUrl, MessageBody: '{"kind":"wskit.fanout"}' });
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(new URL(queueUrl), { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(body);
  });
  expect(status).toBe(403);
  expect(gw.fanOutQueue()!.sent).toBeGreaterThan(0);
});
