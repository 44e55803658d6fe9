// What must hold under attack and under a busy client, driven for real through the gateway
// and the built handlers: many frames in flight on one socket, parallel connects, a close
// racing subscribes, an expired token, a flood, on dynalite and on DynamoDB Local.
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';
import { startGateway, type Gateway } from '../src';
import { connect, eventually, type TestClient } from './helpers';
import { realBundles } from './bundles';

jest.setTimeout(180_000);

type Backend = 'dynalite' | 'dynamodb-local';

describe.each<Backend>(['dynalite', 'dynamodb-local'])('on %s', (backend) => {
  let workDir: string;
  let db: DynamoHandle | undefined;
  let gw: Gateway;
  let ddb: DynamoDBClient;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'wskit-trust-'));
    if (backend === 'dynamodb-local') db = await startDynamo('dynamodb-local');
    gw = await startGateway({
      distDir: realBundles(),
      dataDir: workDir,
      ...(db ? { dynamodbEndpoint: db.endpoint } : {}),
      publicTopicPrefixes: ['public:'],
      maxConnectionsPerUser: 10,
      // These tests are about order and exactness, not volume: the limits have their own test.
      rateLimits: { framesPerConnection: 0, publishesPerUser: 0 },
      jwtClockToleranceSeconds: 0,
    });
    ddb = new DynamoDBClient({ endpoint: gw.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    ddb?.destroy();
    await gw?.stop();
    await db?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  async function signIn(sub: string, ttlSeconds?: number): Promise<TestClient> {
    const token = await gw.mintToken(ttlSeconds === undefined ? { sub } : { sub, ttlSeconds });
    const client = await connect(`${gw.wsUrl}/?token=${encodeURIComponent(token)}`);
    clients.push(client);
    return client;
  }

  async function connectionId(client: TestClient): Promise<string> {
    return String((await client.request({ action: 'hello', id: 'hello' })).connectionId);
  }

  /** The connection's topic set and its active subscription rows, read consistently. */
  async function state(id: string, topics: string[]): Promise<{ set: string[]; rows: string[] }> {
    const { Item } = await ddb.send(new GetItemCommand({ TableName: gw.tableName, Key: { pk: { S: `conn#${id}` }, sk: { S: 'meta' } }, ConsistentRead: true }));
    const rows: string[] = [];
    for (const topic of topics) {
      const { Items } = await ddb.send(
        new QueryCommand({
          TableName: gw.tableName,
          KeyConditionExpression: 'pk = :pk AND sk = :sk',
          ExpressionAttributeValues: { ':pk': { S: `topic#${topic}` }, ':sk': { S: `sub#${id}` } },
          ConsistentRead: true,
        }),
      );
      if ((Items ?? []).some((item) => item.active?.BOOL !== false)) rows.push(topic);
    }
    return { set: (Item?.topics?.SS ?? []).sort(), rows: rows.sort() };
  }

  /** Sends every frame at once on the socket, then collects the replies by id. */
  async function pipeline(client: TestClient, frames: Array<Record<string, unknown>>): Promise<Map<string, Record<string, unknown>>> {
    for (const frame of frames) client.send(frame);
    const replies = new Map<string, Record<string, unknown>>();
    while (replies.size < frames.length) {
      const reply = await client.nextJson(30_000);
      replies.set(String(reply.id), reply);
    }
    return replies;
  }

  test('300 subscribe/unsubscribe pairs pipelined on one socket: the rows and the topic set agree, and delivery follows them', async () => {
    const client = await signIn('pipeliner');
    const publisher = await signIn('announcer');
    const id = await connectionId(client);
    const topic = `public:race.${backend}`;
    const frames = Array.from({ length: 600 }, (_, i) => ({ action: i % 2 ? 'unsubscribe' : 'subscribe', id: `f${i}`, topic }));
    const replies = await pipeline(client, frames);
    expect([...replies.values()].every((r) => r.type === 'ack')).toBe(true);
    const { set, rows } = await state(id, [topic]);
    expect(rows).toEqual(set);

    const ack = await publisher.request({ action: 'publish', id: 'p', topic, data: 'who hears this?' });
    expect(ack.delivered).toBe(set.length);
    if (set.length === 1) expect(await client.nextJson()).toMatchObject({ type: 'message', data: 'who hears this?' });
    else await expect(client.next(300)).rejects.toThrow(/no frame/);

    // A client that waits for each ack sees exactly the state its last ack describes.
    for (const action of ['unsubscribe', 'subscribe', 'unsubscribe', 'subscribe']) {
      await client.request({ action, id: action, topic });
      const published = await publisher.request({ action: 'publish', id: 'again', topic, data: action });
      expect(published.delivered).toBe(action === 'subscribe' ? 1 : 0);
      if (action === 'subscribe') expect(await client.nextJson()).toMatchObject({ data: 'subscribe' });
    }
    await expect(client.next(300)).rejects.toThrow(/no frame/);
  });

  test('150 subscribes to different topics pipelined: exactly the 100-topic limit is taken', async () => {
    const client = await signIn('greedy');
    const id = await connectionId(client);
    const topics = Array.from({ length: 150 }, (_, i) => `public:g.${i}`);
    const replies = await pipeline(client, topics.map((topic, i) => ({ action: 'subscribe', id: `s${i}`, topic })));
    const acked = [...replies.values()].filter((r) => r.type === 'ack');
    expect(acked).toHaveLength(100);
    for (const r of replies.values()) if (r.type !== 'ack') expect(r).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/100 subscriptions/) });
    const { set, rows } = await state(id, topics);
    expect(set).toHaveLength(100);
    expect(rows).toEqual(set);
  });

  test('40 parallel connects of one user with a cap of 10 admit exactly 10', async () => {
    const token = await gw.mintToken({ sub: `crowd-${backend}` });
    const url = `${gw.wsUrl}/?token=${encodeURIComponent(token)}`;
    const attempts = await Promise.allSettled(Array.from({ length: 40 }, () => connect(url)));
    const opened = attempts.filter((a): a is PromiseFulfilledResult<TestClient> => a.status === 'fulfilled').map((a) => a.value);
    clients.push(...opened);
    expect(opened).toHaveLength(10);
    for (const a of attempts) if (a.status === 'rejected') expect((a.reason as { statusCode?: number }).statusCode).toBe(429);
    // One closes: once its $disconnect ran, its slot is free again for the next.
    await opened[0]!.close();
    const admitted = await eventually(
      () =>
        connect(url).then(
          (client) => {
            clients.push(client);
            return true;
          },
          () => false,
        ),
      Boolean,
      10_000,
    );
    expect(admitted).toBe(true);
  });

  test('subscribes racing the socket closing leave no subscription behind', async () => {
    for (let round = 0; round < 3; round++) {
      const client = await signIn(`leaver-${round}`);
      const id = await connectionId(client);
      const topics = Array.from({ length: 20 }, (_, i) => `public:leave.${round}.${i}`);
      for (const [i, topic] of topics.entries()) client.send({ action: 'subscribe', id: `s${i}`, topic });
      await client.close();
      await eventually(() => state(id, topics), ({ set }) => set.length === 0, 10_000);
      // Let every subscribe that was in flight finish, then look again.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await state(id, topics)).toEqual({ set: [], rows: [] });
    }
  });

  test('a connection whose token expired receives nothing more and is closed', async () => {
    const short = await signIn('brief', 2);
    const topic = `public:expiry.${backend}`;
    expect(await short.request({ action: 'subscribe', id: 's', topic })).toMatchObject({ type: 'ack' });
    const publisher = await signIn('speaker');
    expect(await publisher.request({ action: 'publish', id: 'p1', topic, data: 'before' })).toMatchObject({ delivered: 1 });
    expect(await short.nextJson()).toMatchObject({ data: 'before' });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await publisher.request({ action: 'publish', id: 'p2', topic, data: 'after' })).toMatchObject({ delivered: 0 });
    const closed = await short.closed;
    expect(closed.code).toBe(1000);
    expect(short.inbox.map((f) => JSON.parse(f) as Record<string, unknown>).some((f) => f.data === 'after')).toBe(false);
  });
});

const WINDOW_SECONDS = 3600;

describe('rate limits through the gateway', () => {
  let workDir: string;
  let gw: Gateway;
  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'wskit-flood-'));
    // 120 frames per connection per fixed window of an hour: a flood straddles a window
    // boundary (where a fixed window rightly lets a second 120 through) only if it runs then.
    gw = await startGateway({ distDir: realBundles(), dataDir: workDir, functionConcurrency: 4, rateLimits: { framesPerConnection: 120, windowSeconds: WINDOW_SECONDS } });
  });
  afterAll(async () => {
    await gw?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('a flood of 400 frames on one socket, spread over 4 execution environments, gets at most the limit through', async () => {
    const token = await gw.mintToken({ sub: 'flooder' });
    const client = await connect(`${gw.wsUrl}/?token=${encodeURIComponent(token)}`);
    try {
      const window = () => Math.floor(Date.now() / 1000 / WINDOW_SECONDS);
      const firstWindow = window();
      for (let i = 0; i < 400; i++) client.send({ action: 'ping', id: `p${i}` });
      const replies: Array<Record<string, unknown>> = [];
      while (replies.length < 400) replies.push(await client.nextJson(30_000));
      // The windows the handlers decided in (same clock: the functions run in this process).
      const windows = window() - firstWindow + 1;
      const through = replies.filter((r) => r.type === 'pong').length;
      const limited = replies.filter((r) => r.code === 'RATE_LIMITED');
      expect(through + limited.length).toBe(400);
      // Leases an environment took and did not spend make the limit stricter, never looser.
      expect(through).toBeLessThanOrEqual(120 * windows);
      expect(through).toBeGreaterThanOrEqual(60);
      expect(limited[0]).toMatchObject({ retryAfterMs: expect.any(Number) });
      // The connection stays open: refused frames never close it.
      expect(client.ws.readyState).toBe(client.ws.OPEN);
    } finally {
      await client.close();
    }
  });
});
