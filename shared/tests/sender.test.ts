import { PostToConnectionCommand, ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import {
  ConnectionStore,
  MessageSender,
  PayloadTooLargeError,
  classifySendError,
  destroyManagementClients,
  type SenderTransport,
} from '../src';
import { DYNAMO_BACKENDS, startDynamo, type DynamoHandle, itemsOfConnection } from '@wskit/testing/dynamo';
import { faults, startManagementApi, type ManagementApiServer } from '@wskit/testing/management-api';
import { seededRandom } from '@wskit/testing/random';

jest.setTimeout(60_000);

const ENV = { ...process.env };
// Session credentials, so the security token is signed and checked too.
const SIGNER = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local/secret+key', region: 'us-east-1' };
beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = SIGNER.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = SIGNER.secretAccessKey;
  process.env.AWS_SESSION_TOKEN = 'local-session-token';
  process.env.AWS_REGION = SIGNER.region;
});
afterAll(() => {
  process.env = ENV;
  destroyManagementClients();
});

const TRANSPORTS: SenderTransport[] = ['signed-http', 'sdk'];
const CASES = DYNAMO_BACKENDS.flatMap((backend) => TRANSPORTS.map((transport) => [backend, transport] as const));

// The management API checks every request's SigV4 signature, as API Gateway does.
describe.each(CASES)('MessageSender with the store on %s, PostToConnection by %s', (backend, transport) => {
  let db: DynamoHandle;
  let api: ManagementApiServer;
  let store: ConnectionStore;
  let counter = 0;
  const newId = () => `S${backend === 'dynalite' ? 'a' : 'b'}${transport === 'sdk' ? 'k' : 'h'}${++counter}Zw=`;

  beforeAll(async () => {
    [db, api] = await Promise.all([startDynamo(backend), startManagementApi({ stage: 'test', verifySignature: SIGNER })]);
    store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  });
  afterAll(async () => {
    await Promise.all([db?.stop(), api?.stop()]);
  });
  beforeEach(() => api.reset());

  const sender = (options: Partial<ConstructorParameters<typeof MessageSender>[0]> = {}) =>
    new MessageSender({ endpoint: api.url, store, transport, random: seededRandom(7), retry: { baseDelayMs: 5, maxDelayMs: 40 }, ...options });

  async function liveConnection(topics: string[] = []): Promise<string> {
    const id = newId();
    api.connect(id);
    await store.putConnection({ connectionId: id, userId: 'u', connectedAt: Date.now() });
    for (const topic of topics) await store.subscribe(id, topic);
    return id;
  }

  it('delivers the exact UTF-8 payload with PostToConnection', async () => {
    const id = await liveConnection();
    const payload = JSON.stringify({ type: 'message', text: 'héllo ✓ 😀' });
    expect(await sender().send(id, payload)).toEqual({ connectionId: id, status: 'delivered', attempts: 1 });
    expect(api.delivered(id)).toEqual([payload]);
    expect(api.requests).toEqual([expect.objectContaining({ method: 'POST', connectionId: id, status: 200 })]);
  });

  it('treats GoneException as gone and removes the connection and its subscriptions', async () => {
    const id = await liveConnection(['gone.a', 'gone.b']);
    api.inject(id, faults.gone());
    expect(await sender().send(id, 'x')).toMatchObject({ status: 'gone', attempts: 1 });
    expect(itemsOfConnection(await db.dump(), id)).toEqual([]);
  });

  it('treats a bare 410 (which the SDK names Unknown) as gone too', async () => {
    const id = await liveConnection(['bare.a']);
    api.inject(id, faults.bareGone());
    // What the real SDK raises for it:
    const raw = new ApiGatewayManagementApiClient({ endpoint: api.url, region: 'us-east-1', maxAttempts: 1 });
    const probe = newId();
    api.inject(probe, faults.bareGone());
    const error = await raw.send(new PostToConnectionCommand({ ConnectionId: probe, Data: Buffer.from('x') })).catch((e: unknown) => e);
    raw.destroy();
    expect((error as Error).name).toBe('Unknown');
    expect(classifySendError(error)).toBe('gone');

    expect(await sender().send(id, 'x')).toMatchObject({ status: 'gone', attempts: 1 });
    expect(itemsOfConnection(await db.dump(), id)).toEqual([]);
  });

  it('removes the subscription a gone subscriber left under the topic even without its connection row', async () => {
    const id = await liveConnection(['stale.t']);
    await store.deleteConnection(id); // row gone...
    await store.putConnection({ connectionId: id, userId: 'u', connectedAt: Date.now() });
    await store.subscribe(id, 'stale.t');
    const { DeleteItemCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
    await db.client.send(new DeleteItemCommand({ TableName: db.tableName, Key: { pk: { S: `conn#${id}` }, sk: { S: 'meta' } } }));
    api.disconnect(id);
    expect(await sender().send(id, 'x', { topic: 'stale.t' })).toMatchObject({ status: 'gone' });
    expect(itemsOfConnection(await db.dump(), id)).toEqual([]);
  });

  it('retries 429, 500, 503 and connection resets, then delivers', async () => {
    const id = await liveConnection();
    api.inject(id, faults.throttled(), faults.internal(), faults.reset());
    expect(await sender().send(id, 'after retries')).toEqual({ connectionId: id, status: 'delivered', attempts: 4 });
    expect(api.requests.map((r) => r.status)).toEqual([429, 500, 0, 200]);
    expect(api.delivered(id)).toEqual(['after retries']);
  });

  it('gives up after the bounded number of attempts', async () => {
    const id = await liveConnection();
    api.inject(id, ...Array.from({ length: 10 }, faults.unavailable));
    const result = await sender({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } }).send(id, 'x');
    expect(result).toMatchObject({ status: 'failed', attempts: 3 });
    expect(api.requests).toHaveLength(3);
    expect(await store.getConnection(id)).toBeDefined();
  });

  it('does not retry 403 or 413 and keeps the connection', async () => {
    const id = await liveConnection();
    api.inject(id, faults.forbidden());
    expect(await sender().send(id, 'x')).toMatchObject({ status: 'failed', attempts: 1, errorName: 'ForbiddenException' });
    api.inject(id, faults.payloadTooLarge());
    expect(await sender().send(id, 'x')).toMatchObject({ status: 'failed', attempts: 1, errorName: 'PayloadTooLargeException' });
    expect(await store.getConnection(id)).toBeDefined();
  });

  it('refuses payloads over 131072 UTF-8 bytes before sending', async () => {
    const id = await liveConnection();
    const s = sender();
    const twoByteChars = 'é'.repeat(65_537); // 65,537 characters, 131,074 bytes
    await expect(s.send(id, twoByteChars)).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(s.send(id, twoByteChars)).rejects.toThrow(/131074 bytes.*131072/);
    await expect(s.fanOut([id], new Uint8Array(131_073))).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(api.requests).toEqual([]);
    expect(await s.send(id, 'a'.repeat(131_072))).toMatchObject({ status: 'delivered' });
  });

  it('never retries past the Lambda remaining time', async () => {
    const id = await liveConnection();
    api.inject(id, ...Array.from({ length: 50 }, faults.internal));
    const deadline = Date.now() + 1500;
    const context = { getRemainingTimeInMillis: () => deadline - Date.now() };
    const started = Date.now();
    const result = await sender({
      context,
      retry: { maxAttempts: 50, baseDelayMs: 300, maxDelayMs: 300, reserveMs: 500 },
      random: () => 0.999,
    }).send(id, 'x');
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ status: 'failed', errorName: 'DeadlineExceeded' });
    expect(result.attempts).toBeGreaterThanOrEqual(2);
    // The budget is 1000 ms; without the deadline this would run 50 attempts (~15 s).
    expect(elapsed).toBeLessThan(1000 + 300);
  });

  it('aborts a hanging request at the deadline', async () => {
    const id = await liveConnection();
    api.inject(id, faults.delay(2000));
    const deadline = Date.now() + 900;
    const started = Date.now();
    const result = await sender({ context: { getRemainingTimeInMillis: () => deadline - Date.now() }, retry: { reserveMs: 500 } }).send(id, 'x');
    expect(result.status).toBe('failed');
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('fans out with bounded concurrency and summarises the outcome', async () => {
    const topic = `room.${backend}`;
    const ok: string[] = [];
    const gone: string[] = [];
    const flaky: string[] = [];
    const broken: string[] = [];
    for (let i = 0; i < 60; i++) ok.push(await liveConnection([topic]));
    for (let i = 0; i < 10; i++) {
      const id = await liveConnection([topic]);
      api.inject(id, i % 2 ? faults.gone() : faults.bareGone());
      gone.push(id);
    }
    for (let i = 0; i < 8; i++) {
      const id = await liveConnection([topic]);
      api.inject(id, faults.throttled(), faults.reset());
      flaky.push(id);
    }
    for (let i = 0; i < 5; i++) {
      const id = await liveConnection([topic]);
      api.inject(id, ...Array.from({ length: 4 }, faults.internal));
      broken.push(id);
    }
    async function* subscriberIds() {
      for await (const page of store.subscribers(topic, { pageSize: 7, consistentRead: true })) {
        for (const s of page) yield s.connectionId;
      }
    }
    const payload = JSON.stringify({ type: 'message', topic, data: { n: 1 } });
    const summary = await sender({ concurrency: 6 }).fanOut(subscriberIds(), payload, { topic });
    expect(summary).toMatchObject({ total: 83, delivered: 68, gone: 10, failed: 5, retried: 13 });
    expect(summary.durationMs).toBeGreaterThanOrEqual(0);
    expect(summary.failures.map((f) => f.connectionId).sort()).toEqual([...broken].sort());
    expect(api.maxInFlight()).toBeLessThanOrEqual(6);
    for (const id of [...ok, ...flaky]) expect(api.delivered(id)).toEqual([payload]);
    const remaining = [];
    for await (const page of store.subscribers(topic, { consistentRead: true })) remaining.push(...page.map((s) => s.connectionId));
    expect(remaining.sort()).toEqual([...ok, ...flaky, ...broken].sort());
  });

  it('keeps exactly `concurrency` requests in flight when the API is slow', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await liveConnection());
    api.setLatency(25);
    try {
      const summary = await sender({ concurrency: 5 }).fanOut(ids, 'slow');
      expect(summary).toMatchObject({ total: 30, delivered: 30, gone: 0, failed: 0, retried: 0 });
      expect(api.maxInFlight()).toBe(5);
      expect(summary.durationMs).toBeGreaterThanOrEqual(6 * 25 - 10);
    } finally {
      api.setLatency(0);
    }
  });

  it('reads and closes connections with GetConnection and DeleteConnection', async () => {
    const id = newId();
    api.connect(id, { sourceIp: '192.0.2.1', userAgent: 'probe/1' });
    const s = sender();
    const info = await s.connectionInfo(id);
    expect(info).toEqual({ connectedAt: expect.any(Date), lastActiveAt: expect.any(Date), sourceIp: '192.0.2.1', userAgent: 'probe/1' });
    expect(await s.closeConnection(id)).toBe(true);
    expect(api.isConnected(id)).toBe(false);
    expect(await s.connectionInfo(id)).toBeUndefined();
    expect(await s.closeConnection(id)).toBe(false);
    api.inject(id, faults.forbidden());
    await expect(s.connectionInfo(id)).rejects.toMatchObject({ name: 'ForbiddenException' });
    expect(api.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'DELETE 204', 'GET 410', 'DELETE 410', 'GET 403']);
  });

  it('sends a duplicate id once', async () => {
    const id = await liveConnection();
    const summary = await sender().fanOut([id, id, id], 'dup');
    expect(summary).toMatchObject({ total: 1, delivered: 1 });
    expect(api.delivered(id)).toEqual(['dup']);
  });
});

describe('MessageSender endpoint', () => {
  const saved = process.env.WSKIT_CALLBACK_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.WSKIT_CALLBACK_URL;
    else process.env.WSKIT_CALLBACK_URL = saved;
  });

  it('is built from apiId, region and stage', () => {
    delete process.env.WSKIT_CALLBACK_URL;
    expect(MessageSender.forApi({ apiId: 'a1b2c3d4e5', stage: 'prod', region: 'eu-west-1' }).endpoint).toBe(
      'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod',
    );
  });

  it('is overridden by WSKIT_CALLBACK_URL', () => {
    process.env.WSKIT_CALLBACK_URL = 'http://127.0.0.1:8080/local/';
    const s = MessageSender.forApi({ apiId: 'a1b2c3d4e5', stage: 'prod', region: 'eu-west-1' });
    expect(s.endpoint).toBe('http://127.0.0.1:8080/local');
  });

  it('names the variable when the override is not a URL', () => {
    process.env.WSKIT_CALLBACK_URL = 'not a url';
    expect(() => MessageSender.forApi({ apiId: 'x', stage: 'y', region: 'us-east-1' })).toThrow(/WSKIT_CALLBACK_URL/);
  });
});
