/**
 * SubscriberCache against real DynamoDB APIs (dynalite and DynamoDB Local): what a publish
 * reads per call, and the bound it keeps. Two caches stand for two execution environments
 * of the publishing functions; the store's writes really are in flight at once.
 */
import { ConnectionStore, SubscriberCache, topicChangeKey } from '../src';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMO_BACKENDS, delayingClient, startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';
import { seededRandom } from '@wskit/testing/random';

jest.setTimeout(180_000);

const ids = (list: Array<{ connectionId: string }>) => list.map((s) => s.connectionId).sort();

describe.each(DYNAMO_BACKENDS)('SubscriberCache on %s', (backend) => {
  let db: DynamoHandle;
  let store: ConnectionStore;
  let counter = 0;
  const newId = () => `s${++counter}${backend === 'dynalite' ? 'A' : 'B'}w=`;
  const cache = () => new SubscriberCache({ tableName: db.tableName, dynamoDb: db.client });
  const open = async (userId = 'u') => {
    const connectionId = newId();
    await store.putConnection({ connectionId, userId, connectedAt: Date.now() });
    return connectionId;
  };

  beforeAll(async () => {
    db = await startDynamo(backend);
    store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('reads the rows once, then one counter read per publish, and only the changes it missed', async () => {
    const topic = `room.${backend}.1`;
    const members = await Promise.all(Array.from({ length: 30 }, () => open()));
    for (const id of members) await store.subscribe(id, topic);
    const a = cache();
    const b = cache();
    expect(ids(await a.subscribers(topic))).toEqual([...members].sort());
    expect(a.last.source).toBe('full');
    expect(ids(await a.subscribers(topic))).toEqual([...members].sort());
    expect(a.last).toEqual({ source: 'cache', requests: 1 });
    expect(ids(await b.subscribers(topic))).toHaveLength(30);

    const late = await open();
    await store.subscribe(late, topic);
    await store.unsubscribe(members[0]!, topic);
    await store.unsubscribe(members[0]!, topic); // idempotent: the change is recorded again
    const expected = [...members.slice(1), late].sort();
    expect(ids(await a.subscribers(topic))).toEqual(expected);
    expect(a.last).toEqual({ source: 'changes', requests: 2 });
    expect(ids(await b.subscribers(topic))).toEqual(expected);
    expect(ids(await a.subscribers(topic))).toEqual(expected);
    expect(a.last.source).toBe('cache');
  });

  it('keeps an estimate of the audience that a publish can hand off on without reading the rows', async () => {
    const topic = `room.${backend}.estimate`;
    const estimate = async () => Number((await db.dump()).find((i) => i.pk?.S === `topic#${topic}` && i.sk?.S === 'meta')?.subscribers?.N);
    const ids5 = await Promise.all(Array.from({ length: 5 }, () => open()));
    for (const id of ids5) await store.subscribe(id, topic);
    await store.subscribe(ids5[0]!, topic); // again: no change to the count
    await store.unsubscribe(ids5[1]!, topic);
    await store.unsubscribe(ids5[1]!, topic); // again: no change either
    expect(await estimate()).toBe(4);
    const fresh = cache();
    expect(await fresh.read(topic, { listUpTo: 3 })).toEqual({ estimated: 4 });
    expect(fresh.last).toEqual({ source: 'estimate', requests: 1 });
    // A connection that goes away without unsubscribing leaves the estimate high, until a
    // cache reads the rows and sets it right.
    await store.deleteConnection(ids5[2]!);
    expect(await estimate()).toBe(4);
    const view = await fresh.read(topic, { listUpTo: 10 });
    expect('list' in view && ids(view.list)).toEqual([ids5[0]!, ids5[3]!, ids5[4]!].sort());
    expect(await estimate()).toBe(3);
    // Once cached, the list is what a read returns, whatever the estimate.
    expect('list' in (await fresh.read(topic, { listUpTo: 1 }))).toBe(true);
  });

  it('an unsubscribe from a topic never subscribed records nothing', async () => {
    const id = await open();
    const topic = `never.${backend}`;
    await store.unsubscribe(id, topic);
    expect((await db.dump()).some((i) => i.pk?.S === `topic#${topic}`)).toBe(false);
  });

  it('applies the changes after one still being written, and reads that one once it lands', async () => {
    const topic = `room.${backend}.gap`;
    const [slow, leaving] = [await open(), await open()];
    await store.subscribe(leaving, topic);
    const a = cache();
    expect(ids(await a.subscribers(topic))).toEqual([leaving]);

    // The change entry of `slow`'s subscribe is held back: its number is counted, the entry
    // is not there yet, so its subscribe is not acknowledged.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slowStore = new ConnectionStore({
      tableName: db.tableName,
      dynamoDb: delayingClient(db.endpoint, () => 0),
    });
    const gate = delayingClient(db.endpoint, () => 0);
    gate.middlewareStack.add(
      (next) => async (args) => {
        const item = (args.input as { Item?: { sk?: unknown } }).Item;
        const sk = typeof item?.sk === 'object' ? (item.sk as { S?: string }).S : item?.sk;
        if (typeof sk === 'string' && sk.startsWith('chg#')) await held;
        return next(args);
      },
      { step: 'initialize', name: 'holdChangeEntry' },
    );
    const gatedStore = new ConnectionStore({ tableName: db.tableName, dynamoDb: gate });
    const subscribing = gatedStore.subscribe(slow, topic);
    // Wait until its number is counted (the meta counter moved), then unsubscribe `leaving`.
    for (let i = 0; i < 200; i++) {
      const meta = (await db.dump()).find((item) => item.pk?.S === `topic#${topic}` && item.sk?.S === 'meta');
      if (Number(meta?.changes?.N) === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await slowStore.unsubscribe(leaving, topic);
    // The unsubscribe is acknowledged: it is applied though the change before it is missing.
    expect(ids(await a.subscribers(topic))).toEqual([]);
    release();
    await subscribing;
    expect(ids(await a.subscribers(topic))).toEqual([slow]);
    expect(a.last.source).toBe('changes');
  });

  it('a change entry that never lands makes the cache read the rows after the gap bound', async () => {
    const topic = `room.${backend}.lost`;
    const id = await open();
    let now = Date.now();
    const a = new SubscriberCache({ tableName: db.tableName, dynamoDb: db.client, now: () => now });
    expect(await a.subscribers(topic)).toEqual([]);
    await store.subscribe(id, topic);
    // Its writer stopped between the counter and the entry: the entry is gone.
    await db.client.send(new DeleteItemCommand({ TableName: db.tableName, Key: { pk: { S: `topic#${topic}` }, sk: { S: topicChangeKey(topic, 1).sk } } }));
    expect(await a.subscribers(topic)).toEqual([]);
    now += 31_000;
    expect(ids(await a.subscribers(topic))).toEqual([id]);
    expect(a.last.source).toBe('full');
  });

  it('forgets a connection found gone, and skips expired ones', async () => {
    const topic = `room.${backend}.gone`;
    const [gone, staying] = [await open(), await open()];
    await store.subscribe(gone, topic);
    await store.subscribe(staying, topic);
    const a = cache();
    expect(ids(await a.subscribers(topic))).toHaveLength(2);
    a.forget(topic, gone);
    expect(ids(await a.subscribers(topic))).toEqual([staying]);
  });

  it('under concurrency: a read started after an acknowledgement always reflects it', async () => {
    const topic = `room.${backend}.race`;
    const random = seededRandom(backend === 'dynalite' ? 7 : 11);
    // Every write waits a random 0-20 ms: the steps of concurrent operations interleave.
    const racingStore = new ConnectionStore({
      tableName: db.tableName,
      dynamoDb: delayingClient(db.endpoint, (name) => (/Put|Update/.test(name) ? Math.floor(random() * 20) : 0)),
    });
    const connections = await Promise.all(Array.from({ length: 12 }, () => open()));
    const caches = [cache(), cache()];
    await Promise.all(caches.map((c) => c.subscribers(topic)));

    // Per connection, operations run one after another; connections run at once. Each
    // records when it started and when it was acknowledged, and what it left.
    interface Op { connectionId: string; subscribed: boolean; startedAt: number; ackedAt: number }
    const ops: Op[] = [];
    const reads: Array<{ startedAt: number; endedAt: number; members: Set<string> }> = [];
    let running = true;
    const readers = caches.map(async (c) => {
      while (running) {
        const startedAt = performance.now();
        const members = new Set(ids(await c.subscribers(topic)));
        reads.push({ startedAt, endedAt: performance.now(), members });
      }
    });
    await Promise.all(
      connections.map(async (connectionId) => {
        for (let i = 0; i < 8; i++) {
          const subscribed = random() < 0.5;
          const startedAt = performance.now();
          if (subscribed) await racingStore.subscribe(connectionId, topic);
          else await racingStore.unsubscribe(connectionId, topic);
          ops.push({ connectionId, subscribed, startedAt, ackedAt: performance.now() });
        }
      }),
    );
    running = false;
    await Promise.all(readers);

    let checked = 0;
    for (const read of reads) {
      for (const connectionId of connections) {
        const mine = ops.filter((op) => op.connectionId === connectionId);
        // An operation in flight while the read ran may or may not be in it.
        if (mine.some((op) => op.startedAt < read.endedAt && op.ackedAt > read.startedAt)) continue;
        const before = mine.filter((op) => op.ackedAt <= read.startedAt).pop();
        if (!before) continue;
        expect({ connectionId, member: read.members.has(connectionId) }).toEqual({ connectionId, member: before.subscribed });
        checked++;
      }
    }
    // The check ran, and on reads made while operations were in flight.
    const lastAck = Math.max(...ops.map((op) => op.ackedAt));
    expect(reads.filter((read) => read.startedAt < lastAck).length).toBeGreaterThanOrEqual(10);
    expect(checked).toBeGreaterThan(50);
  });
});
