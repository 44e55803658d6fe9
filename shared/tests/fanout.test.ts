/**
 * Fan-out at scale against real parts: dynalite / DynamoDB Local, the real SDK management
 * client, a real HTTP + WebSocket server and real `ws` clients.
 */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { ConnectionStore, MessageSender, AimdLimiter, Pace, destroyManagementClients, fanOutMetricValues, metricsLine, planShards, shardOf } from '../src';
import { startManagementApi } from '@wskit/testing/management-api';
import { startDynamo, type DynamoBackend, type DynamoHandle, itemsOfConnection } from '@wskit/testing/dynamo';
import { seededRandom } from '@wskit/testing/random';
import { closeClients, openClients, seedSubscribers, until, type TestClient } from '@wskit/testing/audience';
import { startWsGateway, type WsGateway } from '@wskit/testing/ws-harness';

jest.setTimeout(120_000);

const ENV = { ...process.env };
beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_REGION = 'us-east-1';
});
afterAll(() => {
  process.env = ENV;
  destroyManagementClients();
});

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}Aw=`);

async function* flatten(store: ConnectionStore, topic: string, pageSize: number, pages: { count: number }) {
  for await (const page of store.subscribers(topic, { pageSize })) {
    pages.count++;
    for (const s of page) yield s.connectionId;
  }
}

async function subscriberIds(store: ConnectionStore, topic: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of store.subscribers(topic, { consistentRead: true })) out.push(...page.map((s) => s.connectionId));
  return out.sort();
}

const BACKENDS: DynamoBackend[] = ['dynalite', 'dynamodb-local'];

describe.each(BACKENDS)('fan-out to 1,000 real WebSocket clients, table on %s', (backend) => {
  let db: DynamoHandle;
  let gw: WsGateway;
  let store: ConnectionStore;
  let clients: TestClient[] = [];

  beforeAll(async () => {
    [db, gw] = await Promise.all([startDynamo(backend), startWsGateway({ stage: 'test' })]);
    store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  });
  afterAll(async () => {
    await closeClients(clients);
    await Promise.all([db?.stop(), gw?.stop()]);
  });

  const sender = (options: Partial<ConstructorParameters<typeof MessageSender>[0]> = {}) =>
    new MessageSender({ endpoint: gw.callbackUrl, store, random: seededRandom(11), requestTimeoutMs: 30_000, retry: { baseDelayMs: 5, maxDelayMs: 100 }, ...options });

  // The paging test needs one backend (the paging is the same code); the removal test runs on both.
  const onDynalite: typeof it = ((name: string, fn: jest.ProvidesCallback, timeout?: number) => {
    if (backend === 'dynalite') it(name, fn, timeout);
  }) as typeof it;

  onDynalite('delivers to every one of 1,000 subscribers found over several Query pages', async () => {
    const topic = 'room.all';
    const audience = ids('A', 1000);
    // 50 connections on another topic must not receive anything.
    const bystanders = ids('B', 50);
    clients = await openClients(gw.wsUrl, [...audience, ...bystanders]);
    await seedSubscribers(db.client, db.tableName, [
      ...audience.map((connectionId) => ({ connectionId, topics: [topic] })),
      ...bystanders.map((connectionId) => ({ connectionId, topics: ['room.other'] })),
    ]);
    const pages = { count: 0 };
    const payload = JSON.stringify({ type: 'message', topic, data: { n: 1 }, mid: 'm-1', ts: Date.now() });
    const summary = await sender({ concurrency: 64 }).fanOut(flatten(store, topic, 150, pages), payload, { topic });

    expect(pages.count).toBeGreaterThanOrEqual(7);
    expect(summary).toMatchObject({ total: 1000, delivered: 1000, gone: 0, failed: 0, retried: 0, throttled: 0 });
    await until(() => clients.every((c) => c.received.length >= (audience.includes(c.id) ? 1 : 0)), 10_000, 'deliveries');
    for (const c of clients) expect(c.received).toEqual(audience.includes(c.id) ? [payload] : []);
    expect(gw.peakInFlight()).toBeLessThanOrEqual(64);
    await closeClients(clients);
    clients = [];
  });

  it('with 30% of sockets destroyed without a close frame: every live one receives, every dead one is removed with its subscriptions', async () => {
    const topic = 'room.dead';
    const audience = ids('D', 1000);
    clients = await openClients(gw.wsUrl, audience);
    const random = seededRandom(30);
    const dead = new Set(audience.filter(() => random() < 0.3));
    // Dead connections also follow a second topic; their rows there must go too.
    await seedSubscribers(
      db.client,
      db.tableName,
      audience.map((connectionId) => ({ connectionId, topics: dead.has(connectionId) ? [topic, 'room.side'] : [topic] })),
    );
    for (const c of clients) if (dead.has(c.id)) c.ws.terminate(); // socket destroyed, no close frame
    await until(() => gw.openCount() === audience.length - dead.size, 10_000, 'the server to see the dead sockets');

    const payload = JSON.stringify({ type: 'message', topic, data: 'hello', mid: 'm-2', ts: Date.now() });
    const summary = await sender({ concurrency: 64 }).fanOut(flatten(store, topic, 200, { count: 0 }), payload, { topic });
    expect(dead.size).toBeGreaterThan(250);
    expect(summary).toMatchObject({ total: 1000, delivered: 1000 - dead.size, gone: dead.size, failed: 0 });

    const live = clients.filter((c) => !dead.has(c.id));
    await until(() => live.every((c) => c.received.length === 1), 10_000, 'deliveries');
    for (const c of live) expect(c.received).toEqual([payload]);
    const items = await db.dump();
    const leftOf = (id: string) => itemsOfConnection(items, id);
    for (const id of dead) expect(leftOf(id)).toEqual([]);
    expect(await subscriberIds(store, topic)).toEqual(live.map((c) => c.id).sort());
    expect(await subscriberIds(store, 'room.side')).toEqual([]);
    for (const c of live.slice(0, 20)) expect(leftOf(c.id)).toHaveLength(2);
    await closeClients(clients);
    clients = [];
  });
});

describe('fan-out under throttling (dynalite)', () => {
  let db: DynamoHandle;
  let gw: WsGateway;
  let store: ConnectionStore;
  let clients: TestClient[] = [];

  beforeAll(async () => {
    [db, gw] = await Promise.all([startDynamo('dynalite'), startWsGateway({ stage: 'test' })]);
    store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  });
  afterAll(async () => {
    await closeClients(clients);
    await Promise.all([db?.stop(), gw?.stop()]);
  });

  it('delivers everything when 10% of callbacks answer 429, counts the retries and writes one EMF line', async () => {
    const topic = 'room.throttled';
    const audience = ids('T', 1000);
    clients = await openClients(gw.wsUrl, audience);
    await seedSubscribers(db.client, db.tableName, audience.map((connectionId) => ({ connectionId, topics: [topic] })));
    gw.setOptions({ throttleRate: 0.1, random: seededRandom(429) });
    gw.answers.clear();
    const lines: string[] = [];
    try {
      const payload = JSON.stringify({ type: 'message', topic, data: [1, 2, 3], mid: 'm-3', ts: Date.now() });
      const summary = await new MessageSender({
        endpoint: gw.callbackUrl,
        store,
        concurrency: 64,
        requestTimeoutMs: 30_000,
        random: seededRandom(3),
        // Enough attempts that a 10% throttle rate cannot exhaust them (0.1^8).
        retry: { maxAttempts: 8, baseDelayMs: 5, maxDelayMs: 100 },
        metrics: { namespace: 'wskit', service: 'wskit-test', write: (line) => lines.push(line) },
      }).fanOut(flatten(store, topic, 250, { count: 0 }), payload, { topic, metricProperties: { mid: 'm-3' } });

      const throttledAnswers = gw.answers.get(429) ?? 0;
      expect(throttledAnswers).toBeGreaterThan(50);
      expect(summary).toMatchObject({ total: 1000, delivered: 1000, gone: 0, failed: 0 });
      expect(summary.throttled).toBe(throttledAnswers);
      expect(summary.retries).toBe(throttledAnswers);
      expect(summary.retried).toBeGreaterThan(50);
      expect(summary.retried).toBeLessThanOrEqual(throttledAnswers);
      expect(summary.concurrency.lowest).toBeLessThan(64);
      await until(() => clients.every((c) => c.received.length === 1), 10_000, 'deliveries');
      for (const c of clients) expect(c.received).toEqual([payload]);

      expect(lines).toHaveLength(1);
      const emf = JSON.parse(lines[0]!);
      expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'wskit', Dimensions: [['Service']] });
      const names = emf._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
      for (const name of names) expect(typeof emf[name]).toBe('number');
      expect(emf).toMatchObject({ Service: 'wskit-test', topic, mid: 'm-3', Recipients: 1000, Delivered: 1000, Retries: throttledAnswers, Throttled: throttledAnswers });
    } finally {
      gw.setOptions({ throttleRate: 0 });
      await closeClients(clients);
      clients = [];
    }
  });

  it('when the id source fails mid-way, rethrows after the sends in flight settle and still removes the gone ones', async () => {
    const gone = ids('G', 3); // rows without sockets: the gateway answers 410
    await seedSubscribers(db.client, db.tableName, gone.map((connectionId) => ({ connectionId, topics: ['room.broken'] })));
    async function* failingSource() {
      yield* gone;
      throw new Error('Query page failed');
    }
    const sender = new MessageSender({ endpoint: gw.callbackUrl, store, requestTimeoutMs: 30_000 });
    await expect(sender.fanOut(failingSource(), 'x', { topic: 'room.broken' })).rejects.toThrow('Query page failed');
    expect(await subscriberIds(store, 'room.broken')).toEqual([]);
    expect((await db.dump()).filter((i) => gone.includes(i.connectionId?.S ?? ''))).toEqual([]);
  });

  it('backs its concurrency off when the API caps requests in flight, and still delivers everything', async () => {
    const topic = 'room.capped';
    const audience = ids('C', 400);
    clients = await openClients(gw.wsUrl, audience);
    await seedSubscribers(db.client, db.tableName, audience.map((connectionId) => ({ connectionId, topics: [topic] })));
    gw.setOptions({ maxInFlight: 12, callbackLatencyMs: 5 });
    gw.answers.clear();
    try {
      const summary = await new MessageSender({
        endpoint: gw.callbackUrl,
        store,
        concurrency: 96,
        requestTimeoutMs: 30_000,
        random: seededRandom(5),
        retry: { maxAttempts: 10, baseDelayMs: 5, maxDelayMs: 200 },
      }).fanOut(flatten(store, topic, 500, { count: 0 }), 'capped', { topic });
      expect(summary).toMatchObject({ total: 400, delivered: 400, failed: 0 });
      expect(summary.throttled).toBeGreaterThan(0);
      expect(summary.concurrency.lowest).toBeLessThanOrEqual(24);
      // Throttles stay far below what a sender that never backs off gets: 96 in flight
      // against a cap of 12 has 84 of every 96 attempts throttled, about 2,800 for 400
      // deliveries. Backing off, about 100 on a quiet machine; on a loaded one more, as
      // responses reach the client before the server counts them done.
      expect(summary.throttled).toBeLessThan(1000);
    } finally {
      gw.setOptions({ maxInFlight: undefined, callbackLatencyMs: 0 });
      await closeClients(clients);
      clients = [];
    }
  });
});

describe('Pace (a shard\'s part of the account quota)', () => {
  it('lets the burst through, then one request per 1/rate; a throttle halves the rate once per second and it climbs back', () => {
    let now = 0;
    const pace = new Pace(1000, 5, () => now);
    for (let i = 0; i < 5; i++) expect(pace.take()).toBe(0);
    expect(pace.take()).toBeCloseTo(1, 5);
    now += 1;
    expect(pace.take()).toBe(0);
    pace.throttled();
    pace.throttled(); // the same second: one cut
    expect(pace.lowestRate).toBe(500);
    expect(pace.take()).toBeCloseTo(2, 5); // 500/s now: 2 ms per request
    now += 1000;
    pace.throttled();
    expect(pace.lowestRate).toBeCloseTo(300, 0); // 500 + 100 climbed in the second, then halved
    now += 10_000;
    for (let i = 0; i < 5; i++) expect(pace.take()).toBe(0); // full rate and burst again
    expect(pace.take()).toBeCloseTo(1, 5);
  });

  it('paces a real fan-out: 600 deliveries at 2,000/s with a burst of 100 take at least 250 ms', async () => {
    const api = await startManagementApi({ stage: 'paced' });
    try {
      const audience = ids('P', 600);
      for (const id of audience) api.connect(id);
      const started = performance.now();
      const summary = await new MessageSender({ endpoint: api.url, concurrency: 64, requestTimeoutMs: 30_000 }).fanOut(audience, '{"type":"message"}', { pace: { perSecond: 2000, burst: 100 } });
      const elapsed = performance.now() - started;
      expect(summary).toMatchObject({ total: 600, delivered: 600 });
      // (600 - 100) / 2000 s is the least it may take; no upper bound (the machine may be slow).
      expect(elapsed).toBeGreaterThanOrEqual(245);
    } finally {
      await api.stop();
    }
  });
});

describe('shard plans', () => {
  const defaults = { shardRate: 2000, quotaPerSecond: 10_000, quotaBurst: 5000, quotaPercent: 90 };
  it('splits a big audience into ceil(quota share / shard rate) shards that share the quota and the burst', () => {
    expect(planShards(100_000, defaults)).toEqual({ shards: 5, pace: { perSecond: 1800, burst: 900 } });
    const raised = planShards(100_000, { ...defaults, quotaPerSecond: 30_000, quotaBurst: 15_000 });
    expect(raised.shards).toBe(14);
    expect(raised.pace.perSecond * 14).toBeCloseTo(27_000, 6);
    expect(raised.pace.burst).toBe(Math.floor(13_500 / 14));
    // A smaller audience: each shard is at least a second of work.
    expect(planShards(3000, defaults).shards).toBe(2);
    expect(planShards(1, defaults).shards).toBe(1);
  });

  it('hashes connection ids evenly and the same way everywhere', () => {
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 50_000; i++) counts[shardOf(`K${i}abcdefghijk=`, 5)]!++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    expect(shardOf('Kf2bqd9WywMCEng=', 7)).toBe(shardOf('Kf2bqd9WywMCEng=', 7));
  });
});

describe('AimdLimiter', () => {
  it('halves once per round trip on throttling and climbs back one slot per round trip', () => {
    const limiter = new AimdLimiter(64, 4);
    const tickets = Array.from({ length: 64 }, () => limiter.ticket());
    // A whole round trip of throttles (all started before the cut) cuts once.
    for (const t of tickets) limiter.onThrottle(t);
    expect(limiter.limit).toBe(32);
    // A request started after the cut cuts again.
    limiter.onThrottle(limiter.ticket());
    expect(limiter.limit).toBe(16);
    for (let i = 0; i < 10; i++) limiter.onThrottle(limiter.ticket());
    expect(limiter.limit).toBe(4);
    expect(limiter.lowest).toBe(4);
    // 4 successes at limit 4 add one slot.
    for (let i = 0; i < 4; i++) limiter.onSuccess();
    expect(Math.floor(limiter.limit)).toBe(5);
    for (let i = 0; i < 10_000; i++) limiter.onSuccess();
    expect(limiter.limit).toBe(64);
  });

  it('writes an EMF line whose metrics are all present', () => {
    const line = metricsLine(
      { service: 's', namespace: 'ns' },
      fanOutMetricValues({ total: 3, delivered: 1, gone: 1, failed: 1, retried: 1, retries: 2, throttled: 1, concurrency: { initial: 8, final: 4, lowest: 4 }, durationMs: 12, failures: [] }),
      { properties: { topic: 't' }, units: { FanOutDuration: 'Milliseconds' }, timestamp: 1700000000000 },
    );
    const emf = JSON.parse(line);
    expect(emf._aws).toMatchObject({ Timestamp: 1700000000000, CloudWatchMetrics: [{ Namespace: 'ns', Dimensions: [['Service']] }] });
    expect(emf).toMatchObject({ Service: 's', topic: 't', Recipients: 3, Delivered: 1, Gone: 1, Failed: 1, Retried: 1, Retries: 2, Throttled: 1, FanOutDuration: 12, FinalConcurrency: 4 });
  });
});

describe.each(BACKENDS)('ConnectionStore.removeConnections on %s', (backend) => {
  let db: DynamoHandle;
  beforeAll(async () => {
    db = await startDynamo(backend);
  });
  afterAll(async () => db?.stop());

  it('removes 130 connections and all their subscriptions across batch boundaries, idempotently', async () => {
    const store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
    const gone = ids('R', 130);
    const kept = ids('K', 5);
    await seedSubscribers(db.client, db.tableName, [
      ...gone.map((connectionId, i) => ({ connectionId, topics: ['t.a', `t.${i % 3}`] })),
      ...kept.map((connectionId) => ({ connectionId, topics: ['t.a'] })),
    ]);
    // A stale subscription whose connection row is already gone: removed through alsoTopics.
    await seedSubscribers(db.client, db.tableName, [{ connectionId: 'ORPHAN', topics: ['t.z'] }]);
    await db.client.send(new DeleteItemCommand({ TableName: db.tableName, Key: { pk: { S: 'conn#ORPHAN' }, sk: { S: 'meta' } } }));

    const result = await store.removeConnections([...gone, gone[0]!], {});
    expect(result).toEqual({ connections: 130, subscriptionsRemoved: 260 });
    expect(await store.removeConnections(['ORPHAN'], { alsoTopics: ['t.z'] })).toEqual({ connections: 1, subscriptionsRemoved: 1 });
    const items = await db.dump();
    expect(items.map((i) => i.connectionId?.S).filter((id) => !kept.includes(id!))).toEqual([]);
    // The kept connections' items and rows; the topics' audience estimates are not theirs.
    expect(items.filter((i) => !(i.pk?.S?.startsWith('topic#') && i.sk?.S === 'meta'))).toHaveLength(10);
    expect(await store.removeConnections(gone)).toEqual({ connections: 130, subscriptionsRemoved: 0 });
  });
});
