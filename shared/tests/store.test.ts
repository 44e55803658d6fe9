import { ConnectionNotFoundError, ConnectionStore, SubscriptionLimitError, connectionExpiresAt } from '../src';
import { DeleteItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DYNAMO_BACKENDS, delayingClient, startDynamo, type DynamoHandle, itemsOfConnection } from '@wskit/testing/dynamo';
import { seededRandom } from '@wskit/testing/random';

jest.setTimeout(120_000);

type Item = Record<string, AttributeValue>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DYNAMO_BACKENDS)('ConnectionStore on %s', (backend) => {
  let db: DynamoHandle;
  let store: ConnectionStore;
  const commands: string[] = [];

  beforeAll(async () => {
    db = await startDynamo(backend);
    db.client.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommandNames' },
    );
    store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client, maxTopicsPerConnection: 70 });
  });
  afterAll(async () => {
    await db?.stop();
  });

  const connectedAt = () => Date.now();
  let counter = 0;
  const newId = () => `c${++counter}${backend === 'dynalite' ? 'A' : 'B'}x=`;
  const rowsOf = (items: Item[], connectionId: string) => items.filter((i) => i.sk?.S === `sub#${connectionId}`);
  const activeTopics = (items: Item[], connectionId: string) =>
    rowsOf(items, connectionId)
      .filter((i) => i.active?.BOOL !== false)
      .map((i) => i.pk!.S!.slice('topic#'.length))
      .sort();

  /** The invariant: a topic delivers to the connection iff it counts against its limit. */
  async function expectConsistent(connectionId: string): Promise<string[]> {
    const topics = (await store.getConnection(connectionId))?.topics ?? [];
    expect(activeTopics(await db.dump(), connectionId)).toEqual(topics);
    return topics;
  }

  async function delivered(topic: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of store.subscribers(topic, { consistentRead: true })) ids.push(...page.map((s) => s.connectionId));
    return ids.sort();
  }

  it('stores a connection with the TTL rule and its token expiry, and reads it back', async () => {
    const at = 1_767_225_600_123;
    const id = newId();
    const stored = await store.putConnection({ connectionId: id, userId: 'alice', connectedAt: at, sourceIp: '203.0.113.9', userAgent: 'jest', tokenExp: 1_767_229_200 });
    expect(stored.expiresAt).toBe(1_767_225_600 + 7200 + 300);
    expect(connectionExpiresAt(at)).toBe(stored.expiresAt);
    expect(await store.getConnection(id)).toEqual({
      connectionId: id,
      userId: 'alice',
      connectedAt: at,
      sourceIp: '203.0.113.9',
      userAgent: 'jest',
      tokenExp: 1_767_229_200,
      topics: [],
      expiresAt: stored.expiresAt,
    });
    const item = (await db.dump()).find((i) => i.pk?.S === `conn#${id}`);
    expect(item?.sk?.S).toBe('meta');
    expect(item?.topics).toBeUndefined();
  });

  it('subscribe writes a versioned row; unsubscribe leaves a tombstone fan-out skips; both idempotent', async () => {
    const id = newId();
    const { expiresAt } = await store.putConnection({ connectionId: id, userId: 'bob', connectedAt: connectedAt(), tokenExp: 1_900_000_000 });
    expect(await store.subscribe(id, 'public:news')).toEqual({ added: true, expiresAt });
    expect(await store.subscribe(id, 'public:news')).toEqual({ added: false, expiresAt });
    await store.subscribe(id, 'user:bob');
    expect(await expectConsistent(id)).toEqual(['public:news', 'user:bob']);
    const row = (await db.dump()).find((i) => i.pk?.S === 'topic#public:news' && i.sk?.S === `sub#${id}`);
    expect(row).toEqual({
      pk: { S: 'topic#public:news' },
      sk: { S: `sub#${id}` },
      connectionId: { S: id },
      userId: { S: 'bob' },
      expiresAt: { N: String(expiresAt) },
      tokenExp: { N: '1900000000' },
      ver: { N: '2' },
      active: { BOOL: true },
    });
    expect(await delivered('public:news')).toEqual([id]);

    expect(await store.unsubscribe(id, 'public:news')).toEqual({ removed: true });
    expect(await store.unsubscribe(id, 'public:news')).toEqual({ removed: false });
    expect(await store.unsubscribe(id, 'never.subscribed')).toEqual({ removed: false });
    expect(await expectConsistent(id)).toEqual(['user:bob']);
    const tombstone = (await db.dump()).find((i) => i.pk?.S === 'topic#public:news' && i.sk?.S === `sub#${id}`);
    expect(tombstone).toMatchObject({ active: { BOOL: false }, ver: { N: '4' } });
    expect(await delivered('public:news')).toEqual([]);
    expect((await db.dump()).some((i) => i.pk?.S === 'topic#never.subscribed')).toBe(false);

    // Subscribing again revives the row with a newer version.
    await store.subscribe(id, 'public:news');
    expect(await delivered('public:news')).toEqual([id]);
    expect(await expectConsistent(id)).toEqual(['public:news', 'user:bob']);
  });

  it('refuses to subscribe an unknown connection and writes nothing', async () => {
    const before = await db.dump();
    await expect(store.subscribe('nope=', 'public:x')).rejects.toBeInstanceOf(ConnectionNotFoundError);
    expect(await db.dump()).toEqual(before);
  });

  it('enforces the per-connection topic limit but still accepts a repeat', async () => {
    const id = newId();
    await store.putConnection({ connectionId: id, userId: 'carol', connectedAt: connectedAt() });
    for (let i = 0; i < 70; i++) await store.subscribe(id, `limit.${i}`);
    await expect(store.subscribe(id, 'limit.70')).rejects.toBeInstanceOf(SubscriptionLimitError);
    await expect(store.subscribe(id, 'limit.3')).resolves.toMatchObject({ added: false });
    expect(await expectConsistent(id)).toHaveLength(70);
  });

  it('deleteConnection removes the connection, its subscriptions and tombstones, and its slot, idempotently', async () => {
    const id = newId();
    const other = newId();
    await store.admitConnection({ connectionId: id, userId: 'dave', connectedAt: connectedAt() }, { cap: 5, isGone: async () => false });
    await store.putConnection({ connectionId: other, userId: 'erin', connectedAt: connectedAt() });
    for (let i = 0; i < 60; i++) await store.subscribe(id, `room.${i}`);
    for (let i = 0; i < 5; i++) await store.unsubscribe(id, `room.${i}`);
    await store.subscribe(other, 'room.1');
    expect(await store.userSlots('dave')).toEqual([id]);
    expect(await store.deleteConnection(id)).toEqual({ existed: true, subscriptionsRemoved: 55 });
    const items = await db.dump();
    expect(itemsOfConnection(items, id)).toEqual([]);
    expect(await store.userSlots('dave')).toEqual([]);
    expect(items.some((i) => i.pk?.S === 'topic#room.1' && i.sk?.S === `sub#${other}`)).toBe(true);
    expect(await store.deleteConnection(id)).toEqual({ existed: false, subscriptionsRemoved: 0 });
    expect(await store.getConnection(other)).toBeDefined();
  });

  it('deleteConnection with alsoTopics removes an orphaned subscription', async () => {
    const id = newId();
    await store.putConnection({ connectionId: id, userId: 'frank', connectedAt: connectedAt() });
    await store.subscribe(id, 'orphan.topic');
    await db.client.send(new DeleteItemCommand({ TableName: db.tableName, Key: { pk: { S: `conn#${id}` }, sk: { S: 'meta' } } }));
    expect(await store.deleteConnection(id, { alsoTopics: ['orphan.topic'] })).toEqual({ existed: false, subscriptionsRemoved: 1 });
    expect(itemsOfConnection(await db.dump(), id)).toEqual([]);
  });

  it('removeConnections removes rows, tombstones and slots of many connections', async () => {
    const ids = [newId(), newId(), newId()];
    for (const id of ids) {
      await store.admitConnection({ connectionId: id, userId: 'gone-user', connectedAt: connectedAt() }, { cap: 10, isGone: async () => false });
      await store.subscribe(id, 'gone.a');
      await store.subscribe(id, 'gone.b');
      await store.unsubscribe(id, 'gone.b');
    }
    expect(await store.removeConnections(ids)).toEqual({ connections: 3, subscriptionsRemoved: 6 });
    const items = await db.dump();
    for (const id of ids) expect(itemsOfConnection(items, id)).toEqual([]);
    expect(await store.userSlots('gone-user')).toEqual([]);
  });

  it('pages the subscribers of a topic with a Query, skipping expired rows and tombstones', async () => {
    const topic = `fan.${backend}`;
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const id = newId();
      ids.push(id);
      await store.putConnection({ connectionId: id, userId: `u${i}`, connectedAt: connectedAt(), tokenExp: 2_000_000_000 + i });
      await store.subscribe(id, topic);
    }
    const stale = newId();
    await store.putConnection({ connectionId: stale, userId: 'old', connectedAt: Date.now() - 3 * 3600_000 });
    await store.subscribe(stale, topic);
    const left = newId();
    await store.putConnection({ connectionId: left, userId: 'left', connectedAt: connectedAt() });
    await store.subscribe(left, topic);
    await store.unsubscribe(left, topic);

    commands.length = 0;
    const pages: string[][] = [];
    for await (const page of store.subscribers(topic, { pageSize: 5, consistentRead: true })) {
      expect(page.length).toBeGreaterThan(0);
      expect(page.length).toBeLessThanOrEqual(5);
      pages.push(page.map((s) => s.connectionId));
    }
    expect(pages.length).toBeGreaterThanOrEqual(5);
    expect(pages.flat().sort()).toEqual([...ids].sort());
    expect(commands.every((name) => name === 'QueryCommand')).toBe(true);

    const first = await store.subscribers(topic, { pageSize: 100 }).next();
    expect(first.value).toEqual(expect.arrayContaining([{ connectionId: ids[0], userId: 'u0', expiresAt: expect.any(Number), tokenExp: 2_000_000_000 }]));
    await expect(store.subscribers(topic, { pageSize: 0 }).next()).rejects.toThrow(/pageSize/);
    const none: unknown[] = [];
    for await (const page of store.subscribers('no.such.topic')) none.push(page);
    expect(none).toEqual([]);
  });

  describe('under concurrency (requests really in flight at once)', () => {
    /** Whether a request writes a subscription row (document or low-level form). */
    const writesRow = (name: string, input: Record<string, unknown>) => {
      const pk = (input.Item as Record<string, unknown> | undefined)?.pk as string | { S?: string } | undefined;
      return /^Put(Item)?Command$/.test(name) && String(typeof pk === 'object' ? pk?.S : pk).startsWith('topic#');
    };

    /** A store whose subscription-row writes land late and in shuffled order. */
    const shuffledStore = (seed: number) => {
      const random = seededRandom(seed);
      const client = delayingClient(db.endpoint, (name, input) =>
        writesRow(name, input) ? Math.floor(random() * 25) : 0,
      );
      return new ConnectionStore({ tableName: db.tableName, dynamoDb: client, maxTopicsPerConnection: 70 });
    };

    it('300 subscribe/unsubscribe pairs on one topic, all in flight: rows and the topic set agree', async () => {
      const random = seededRandom(backend === 'dynalite' ? 7 : 8);
      const racing = shuffledStore(backend === 'dynalite' ? 17 : 18);
      for (let round = 0; round < 3; round++) {
        const id = newId();
        await store.putConnection({ connectionId: id, userId: 'racer', connectedAt: connectedAt() });
        const operations = Array.from({ length: 300 }, (_, i) => async () => {
          await sleep(Math.floor(random() * 5));
          if (i % 2 === 0) await racing.subscribe(id, 'race.topic');
          else await racing.unsubscribe(id, 'race.topic');
        });
        await Promise.all(operations.map((op) => op()));
        const topics = await expectConsistent(id);
        expect(await delivered('race.topic')).toEqual(topics.includes('race.topic') ? expect.arrayContaining([id]) : expect.not.arrayContaining([id]));
        // Whatever won, a sequential operation afterwards decides the state exactly.
        await store.unsubscribe(id, 'race.topic');
        expect(await delivered('race.topic')).not.toContain(id);
        expect(await expectConsistent(id)).toEqual([]);
      }
    });

    it('the topic limit is exact when 150 subscribes to different topics race', async () => {
      const id = newId();
      await store.putConnection({ connectionId: id, userId: 'greedy', connectedAt: connectedAt() });
      const outcomes = await Promise.allSettled(Array.from({ length: 150 }, (_, i) => store.subscribe(id, `greedy.${i}`)));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(70);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(SubscriptionLimitError);
      expect(await expectConsistent(id)).toHaveLength(70);
    });

    it('a $disconnect racing subscribes leaves no row behind', async () => {
      // Subscription rows land 40 ms late: the removal runs between a subscribe's two writes.
      const slowRows = new ConnectionStore({
        tableName: db.tableName,
        dynamoDb: delayingClient(db.endpoint, (name, input) =>
          writesRow(name, input) ? 40 : 0,
        ),
      });
      for (let round = 0; round < 5; round++) {
        const id = newId();
        await store.putConnection({ connectionId: id, userId: 'leaver', connectedAt: connectedAt() });
        const subscribes = Array.from({ length: 20 }, (_, i) => slowRows.subscribe(id, `leaver.${i % 7}`).catch((e: unknown) => e));
        await sleep(10 + round * 5);
        const removal = store.deleteConnection(id);
        const results = await Promise.all([...subscribes, removal]);
        const refused = results.slice(0, -1).filter((r) => r instanceof Error);
        for (const r of refused) expect(r).toBeInstanceOf(ConnectionNotFoundError);
        // The removal did land between the two writes of the subscribes it raced.
        expect(refused.length).toBeGreaterThan(0);
        expect(rowsOf(await db.dump(), id)).toEqual([]);
        expect(await store.getConnection(id)).toBeUndefined();
      }
    });
  });

  describe('per-user connection slots', () => {
    it('admits exactly the cap of 40 parallel connects, and refused ones leave nothing', async () => {
      const user = `burst-${backend}`;
      const ids = Array.from({ length: 40 }, () => newId());
      const results = await Promise.all(
        ids.map((connectionId) => store.admitConnection({ connectionId, userId: user, connectedAt: connectedAt() }, { cap: 10, isGone: async () => false })),
      );
      const admitted = ids.filter((_, i) => results[i]!.admitted);
      expect(admitted).toHaveLength(10);
      expect(await store.userSlots(user)).toEqual([...admitted].sort());
      const items = await db.dump();
      for (const id of ids) expect(items.some((i) => i.pk?.S === `conn#${id}`)).toBe(admitted.includes(id));
      for (const r of results) if (!r.admitted) expect(r.open).toBe(10);
    });

    it('reclaims the slots of connections that are gone, never of young ones', async () => {
      const user = `reclaim-${backend}`;
      let clock = Date.now();
      const timed = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client, now: () => clock });
      const checked: string[] = [];
      const gone = new Set<string>();
      const isGone = async (id: string) => {
        checked.push(id);
        return gone.has(id);
      };
      const old = [newId(), newId(), newId()];
      for (const id of old) {
        expect((await timed.admitConnection({ connectionId: id, userId: user, connectedAt: clock }, { cap: 3, isGone })).admitted).toBe(true);
      }
      // At the cap, all young: nothing is even asked.
      expect(await timed.admitConnection({ connectionId: newId(), userId: user, connectedAt: clock }, { cap: 3, isGone })).toEqual({ admitted: false, open: 3 });
      expect(checked).toEqual([]);

      clock += 60_000;
      // One lost its $disconnect (API Gateway says gone), one's row vanished (TTL), one lives.
      gone.add(old[0]!);
      await db.client.send(new DeleteItemCommand({ TableName: db.tableName, Key: { pk: { S: `conn#${old[1]}` }, sk: { S: 'meta' } } }));
      const fresh = newId();
      expect((await timed.admitConnection({ connectionId: fresh, userId: user, connectedAt: clock }, { cap: 3, isGone })).admitted).toBe(true);
      expect(await timed.userSlots(user)).toEqual([old[2]!, fresh].sort());
      expect(checked.sort()).toEqual([old[0]!, old[2]!].sort());
      expect(await timed.getConnection(old[0]!)).toBeUndefined();
      // A failing check keeps the slot.
      const another = newId();
      const unsure = async () => {
        throw new Error('network');
      };
      await timed.admitConnection({ connectionId: another, userId: user, connectedAt: clock }, { cap: 3, isGone });
      expect((await timed.admitConnection({ connectionId: newId(), userId: user, connectedAt: clock + 61_000 }, { cap: 3, isGone: unsure })).admitted).toBe(false);
    });

    it('cap 0 keeps no slots', async () => {
      const id = newId();
      await store.admitConnection({ connectionId: id, userId: 'uncapped', connectedAt: connectedAt() }, { cap: 0, isGone: async () => false });
      expect(await store.userSlots('uncapped')).toEqual([]);
      expect(await store.getConnection(id)).toBeDefined();
    });
  });
});
