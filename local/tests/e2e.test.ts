// End to end: real `ws` clients -> the local gateway -> the REAL handler bundles
// (dist/lambda, built by ./build.sh) in worker threads -> embedded dynalite.
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { generateKeyPairSync, createSign } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { startGateway, type Gateway } from '../src';
import { connect, connectRejected, eventually, type TestClient } from './helpers';
import { realBundles } from './bundles';

jest.setTimeout(60_000);

let workDir: string;
let distDir: string;
let gw: Gateway;
let ddb: DynamoDBClient;
const clients: TestClient[] = [];

async function signIn(gateway: Gateway, sub: string, scope?: string): Promise<TestClient> {
  const token = await gateway.mintToken({ sub, scope });
  const client = await connect(`${gateway.wsUrl}/?token=${encodeURIComponent(token)}`);
  clients.push(client);
  return client;
}

type Frame = Record<string, any>;

async function hello(client: TestClient): Promise<Frame> {
  const welcome = await client.request<Frame>({ action: 'hello', id: 'h' });
  expect(welcome.type).toBe('welcome');
  return welcome;
}

async function connectionRow(connectionId: string) {
  const { Item } = await ddb.send(new GetItemCommand({ TableName: gw.tableName, Key: { pk: { S: `conn#${connectionId}` }, sk: { S: 'meta' } } }));
  return Item;
}

async function subscriberIds(topic: string, gateway = gw): Promise<string[]> {
  const { Items = [] } = await ddb.send(
    new QueryCommand({
      TableName: gateway.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
      ExpressionAttributeValues: { ':pk': { S: `topic#${topic}` }, ':sub': { S: 'sub#' } },
    }),
  );
  return Items.filter((item) => item.active?.BOOL !== false).map((item) => item.connectionId!.S!);
}

beforeAll(async () => {
  distDir = realBundles();
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-e2e-'));
  gw = await startGateway({ distDir, dataDir: path.join(workDir, 'main'), maxConnectionsPerUser: 3, abnormalCloseDetectionMs: 60_000, slotSettleSeconds: 1 });
  expect(gw.warnings).toEqual([]);
  ddb = new DynamoDBClient({ endpoint: gw.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  ddb?.destroy();
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('tokens', () => {
  test('a valid token connects; hello answers welcome with the AWS limits', async () => {
    const client = await signIn(gw, 'alice');
    const welcome = await hello(client);
    expect(welcome).toMatchObject({
      id: 'h',
      userId: 'alice',
      connectionId: expect.stringMatching(/^[A-Za-z0-9_-]{15}=$/),
      limits: { maxMessageBytes: 131072, maxFrameBytes: 32768, idleTimeoutSeconds: 600, maxConnectionSeconds: 7200 },
    });
    const row = await connectionRow(welcome.connectionId);
    expect(row).toMatchObject({ userId: { S: 'alice' }, sourceIp: { S: '127.0.0.1' } });
  });

  test('missing, malformed, expired and foreign tokens are 401', async () => {
    const expired = await gw.mintToken({ sub: 'alice', ttlSeconds: -60 });
    // Same claims, signed by a key the JWKS does not hold.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const [header, payload] = (await gw.mintToken({ sub: 'mallory' })).split('.');
    const foreign = `${header}.${payload}.${createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey).toString('base64url')}`;
    for (const query of ['', '?token=', '?token=not-a-jwt', `?token=${expired}`, `?token=${foreign}`]) {
      const res = await connectRejected(`${gw.wsUrl}/${query}`);
      expect([query.slice(0, 20), res.statusCode]).toEqual([query.slice(0, 20), 401]);
    }
  });

  test('the per-user connection cap answers 429', async () => {
    for (let i = 0; i < 3; i++) await signIn(gw, 'capped');
    const token = await gw.mintToken({ sub: 'capped' });
    expect((await connectRejected(`${gw.wsUrl}/?token=${token}`)).statusCode).toBe(429);
  });

  test('at the cap, a connection whose $disconnect was lost does not lock the user out', async () => {
    const held = [await signIn(gw, 'pruned'), await signIn(gw, 'pruned'), await signIn(gw, 'pruned')];
    const { connectionId } = await hello(held[0]!);
    // The socket vanishes without a close frame; the gateway has not noticed, the row stays.
    (held[0]!.ws as unknown as { _socket: Socket })._socket.destroy();
    await eventually(() => gw.connections().find((c) => c.connectionId === connectionId)?.state, (s) => s === 'dropped');
    expect(await connectionRow(connectionId)).toBeDefined();
    // Once the connections are older than the settle time (1 s here, 30 s by default), the
    // connect handler asks GetConnection, gets 410 for that one, prunes it and admits the new one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fourth = await signIn(gw, 'pruned');
    expect((await hello(fourth)).userId).toBe('pruned');
    await eventually(connectionRow.bind(null, connectionId), (row) => row === undefined);
  });
});

describe('the wire protocol through the gateway', () => {
  test('ping answers pong with the same ts and id', async () => {
    const client = await signIn(gw, 'pinger');
    const ts = Date.now();
    expect(await client.request({ action: 'ping', id: 'p1', ts })).toEqual({ type: 'pong', id: 'p1', ts });
  });

  test('subscribe and publish across three clients, then unsubscribe', async () => {
    const [alice, bob, carol] = await Promise.all([signIn(gw, 'alice'), signIn(gw, 'bob'), signIn(gw, 'carol')]);
    const topic = 'public:room-1';
    for (const client of [alice, bob, carol]) {
      expect(await client.request({ action: 'subscribe', id: 's', topic })).toMatchObject({ type: 'ack', id: 's', topic });
    }
    alice.send({ action: 'publish', id: 'pub1', topic, data: { text: 'hello all' } });
    const ack = await alice.waitFor<Frame>((f) => f.type === 'ack' && f.id === 'pub1');
    expect(ack).toMatchObject({ delivered: 3, gone: 0, failed: 0 });
    const received = await Promise.all([alice, bob, carol].map((c) => c.waitFor<Frame>((f) => f.type === 'message')));
    for (const message of received) {
      expect(message).toMatchObject({ type: 'message', topic, data: { text: 'hello all' }, mid: ack.mid });
      expect(typeof message.ts).toBe('number');
    }

    expect(await bob.request({ action: 'unsubscribe', id: 'u', topic })).toMatchObject({ type: 'ack', id: 'u' });
    alice.send({ action: 'publish', id: 'pub2', topic, data: 'second' });
    expect(await alice.waitFor<Frame>((f) => f.id === 'pub2')).toMatchObject({ type: 'ack', delivered: 2 });
    await carol.waitFor<Frame>((f) => f.type === 'message' && f.data === 'second');
    // Bob's next frame is the pong, not the message he unsubscribed from.
    expect(await bob.request({ action: 'ping', id: 'after' })).toMatchObject({ type: 'pong', id: 'after' });
    expect(bob.inbox).toEqual([]);
  });

  test('a topic outside the policy is FORBIDDEN; a scope grants it', async () => {
    const plain = await signIn(gw, 'dora');
    expect(await plain.request({ action: 'subscribe', id: 'f', topic: 'team.red' })).toMatchObject({ type: 'error', code: 'FORBIDDEN', id: 'f' });
    const scoped = await signIn(gw, 'erin', 'topics:team.');
    expect(await scoped.request({ action: 'subscribe', id: 'g', topic: 'team.red' })).toMatchObject({ type: 'ack', id: 'g' });
  });

  test('the management API reaches a real connection through the SDK: post, get, delete, Gone', async () => {
    const client = await signIn(gw, 'frank');
    const { connectionId } = await hello(client);
    const sdk = new ApiGatewayManagementApiClient({ endpoint: gw.callbackUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"type":"message","topic":"user:frank","data":1}') }));
      expect(await client.nextJson()).toMatchObject({ topic: 'user:frank', data: 1 });
      expect((await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }))).Identity?.SourceIp).toBe('127.0.0.1');
      await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      expect((await client.closed).code).toBe(1000);
      // The real disconnect handler ran: the row is gone.
      await eventually(connectionRow.bind(null, connectionId), (row) => row === undefined);
      await expect(sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') }))).rejects.toBeInstanceOf(GoneException);
    } finally {
      sdk.destroy();
    }
  });
});

describe('cleanup', () => {
  test('a closed connection leaves no rows behind', async () => {
    const client = await signIn(gw, 'gina');
    const { connectionId } = await hello(client);
    await client.request({ action: 'subscribe', id: 's', topic: 'public:cleanup' });
    await client.request({ action: 'subscribe', id: 's2', topic: 'user:gina' });
    expect(await subscriberIds('public:cleanup')).toContain(connectionId);
    await client.close(1000, 'done');
    await eventually(connectionRow.bind(null, connectionId), (row) => row === undefined);
    await eventually(() => subscriberIds('public:cleanup'), (ids) => !ids.includes(connectionId));
    expect(await subscriberIds('user:gina')).not.toContain(connectionId);
  });

  test('a socket destroyed without a close frame is removed on the next publish', async () => {
    const [publisher, dropped] = await Promise.all([signIn(gw, 'hank'), signIn(gw, 'ivy')]);
    const topic = 'public:drop';
    await publisher.request({ action: 'subscribe', id: 's', topic });
    await dropped.request({ action: 'subscribe', id: 's', topic });
    const { connectionId } = await hello(dropped);
    (dropped.ws as unknown as { _socket: Socket })._socket.destroy();
    await eventually(() => gw.connections().find((c) => c.connectionId === connectionId)?.state, (s) => s === 'dropped');
    // API Gateway has not noticed yet: the rows are still there.
    expect(await subscriberIds(topic)).toContain(connectionId);

    publisher.send({ action: 'publish', id: 'p', topic, data: 'anyone?' });
    const ack = await publisher.waitFor<Frame>((f) => f.id === 'p');
    expect(ack).toMatchObject({ type: 'ack', delivered: 1, gone: 1 });
    await eventually(() => subscriberIds(topic), (ids) => !ids.includes(connectionId));
    await eventually(connectionRow.bind(null, connectionId), (row) => row === undefined);
  });
});

describe('limits with the real handlers', () => {
  test('an oversize frame closes with 1009 and a binary frame with 1003', async () => {
    const big = await signIn(gw, 'jack');
    big.send(JSON.stringify({ action: 'publish', topic: 'public:x', data: 'x'.repeat(40 * 1024) }));
    expect((await big.closed).code).toBe(1009);
    const binary = await signIn(gw, 'kim');
    binary.ws.send(Buffer.from('{"action":"ping"}'), { binary: true });
    expect((await binary.closed).code).toBe(1003);
  });

  describe('short idle timeout and maximum duration', () => {
    let short: Gateway;
    beforeAll(async () => {
      short = await startGateway({ distDir, dataDir: path.join(workDir, 'short'), limits: { idleTimeoutMs: 800, maxConnectionMs: 2000 } });
    });
    afterAll(() => short?.stop());

    test('idle: 1001 Going away, and the row is removed', async () => {
      const client = await signIn(short, 'idle');
      const { connectionId } = await hello(client);
      expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
      const shortDdb = new DynamoDBClient({ endpoint: short.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      try {
        await eventually(
          async () => (await shortDdb.send(new GetItemCommand({ TableName: short.tableName, Key: { pk: { S: `conn#${connectionId}` }, sk: { S: 'meta' } } }))).Item,
          (item) => item === undefined,
        );
      } finally {
        shortDdb.destroy();
      }
    });

    test('maximum duration: a busy connection is still closed with 1001', async () => {
      const client = await signIn(short, 'busy');
      const started = Date.now();
      const timer = setInterval(() => client.send({ action: 'ping' }), 250);
      const closed = await client.closed;
      clearInterval(timer);
      expect(closed).toEqual({ code: 1001, reason: 'Going away' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1800);
    });
  });
});
