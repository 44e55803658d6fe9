import { ConnectionNotFoundError, ConnectionStore, SubscriptionLimitError, connectionExpiresAt } from '../src';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMO_BACKENDS, startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';

jest.setTimeout(60_000);

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

  it('stores a connection with the TTL rule and reads it back', async () => {
    const at = 1_767_225_600_123;
    const id = newId();
    const stored = await store.putConnection({ connectionId: id, userId: 'alice', connectedAt: at, sourceIp: '203.0.113.9', userAgent: 'jest' });
    expect(stored.expiresAt).toBe(1_767_225_600 + 7200 + 300);
    expect(connectionExpiresAt(at)).toBe(stored.expiresAt);
    const read = await store.getConnection(id);
    expect(read).toEqual({ connectionId: id, userId: 'alice', connectedAt: at, sourceIp: '203.0.113.9', userAgent: 'jest', topics: [], expiresAt: stored.expiresAt });
    const items = await db.dump();
    const item = items.find((i) => i.pk?.S === `conn#${id}`);
    expect(item?.sk?.S).toBe('meta');
    expect(item?.topics).toBeUndefined();
    expect(item?.connectedAt?.N).toBe(String(at));
  });

  it('subscribe keeps the topics set and the subscription item consistent, idempotently', async () => {
    const id = newId();
    const { expiresAt } = await store.putConnection({ connectionId: id, userId: 'bob', connectedAt: connectedAt() });
    expect(await store.subscribe(id, 'public:news')).toEqual({ added: true, expiresAt });
    expect(await store.subscribe(id, 'public:news')).toEqual({ added: false, expiresAt });
    await store.subscribe(id, 'user:bob');
    expect((await store.getConnection(id))?.topics).toEqual(['public:news', 'user:bob']);
    const items = await db.dump();
    const sub = items.find((i) => i.pk?.S === 'topic#public:news' && i.sk?.S === `sub#${id}`);
    expect(sub).toEqual({
      pk: { S: 'topic#public:news' },
      sk: { S: `sub#${id}` },
      connectionId: { S: id },
      userId: { S: 'bob' },
      expiresAt: { N: String(expiresAt) },
    });

    expect(await store.unsubscribe(id, 'public:news')).toEqual({ removed: true });
    expect(await store.unsubscribe(id, 'public:news')).toEqual({ removed: false });
    expect((await store.getConnection(id))?.topics).toEqual(['user:bob']);
    const after = await db.dump();
    expect(after.some((i) => i.pk?.S === 'topic#public:news' && i.sk?.S === `sub#${id}`)).toBe(false);
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
    expect((await store.getConnection(id))?.topics).toHaveLength(70);
  });

  it('deleteConnection removes the connection and all its subscriptions in batches, idempotently', async () => {
    const id = newId();
    const other = newId();
    await store.putConnection({ connectionId: id, userId: 'dave', connectedAt: connectedAt() });
    await store.putConnection({ connectionId: other, userId: 'erin', connectedAt: connectedAt() });
    for (let i = 0; i < 60; i++) await store.subscribe(id, `room.${i}`);
    await store.subscribe(other, 'room.1');
    expect(await store.deleteConnection(id)).toEqual({ existed: true, subscriptionsRemoved: 60 });
    const items = await db.dump();
    expect(items.filter((i) => i.connectionId?.S === id)).toEqual([]);
    expect(items.some((i) => i.pk?.S === 'topic#room.1' && i.sk?.S === `sub#${other}`)).toBe(true);
    expect(await store.deleteConnection(id)).toEqual({ existed: false, subscriptionsRemoved: 0 });
    expect(await store.getConnection(other)).toBeDefined();
  });

  it('deleteConnection with alsoTopics removes an orphaned subscription', async () => {
    const id = newId();
    await store.putConnection({ connectionId: id, userId: 'frank', connectedAt: connectedAt() });
    await store.subscribe(id, 'orphan.topic');
    // The connection row vanished (TTL, manual cleanup) and left its subscription behind.
    await db.client.send(new DeleteItemCommand({ TableName: db.tableName, Key: { pk: { S: `conn#${id}` }, sk: { S: 'meta' } } }));
    expect(await store.deleteConnection(id, { alsoTopics: ['orphan.topic'] })).toEqual({ existed: false, subscriptionsRemoved: 1 });
    expect((await db.dump()).filter((i) => i.connectionId?.S === id)).toEqual([]);
  });

  it('pages the subscribers of a topic with a Query, skipping expired rows', async () => {
    const topic = `fan.${backend}`;
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const id = newId();
      ids.push(id);
      await store.putConnection({ connectionId: id, userId: `u${i}`, connectedAt: connectedAt() });
      await store.subscribe(id, topic);
    }
    // A row whose TTL passed but that DynamoDB has not yet removed.
    const stale = newId();
    await store.putConnection({ connectionId: stale, userId: 'old', connectedAt: Date.now() - 3 * 3600_000 });
    await store.subscribe(stale, topic);

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
    expect(commands.length).toBeGreaterThanOrEqual(5);

    const first = await store.subscribers(topic, { pageSize: 100 }).next();
    expect(first.value).toEqual(expect.arrayContaining([{ connectionId: ids[0], userId: 'u0', expiresAt: expect.any(Number) }]));
    await expect(store.subscribers(topic, { pageSize: 0 }).next()).rejects.toThrow(/pageSize/);
    const none: unknown[] = [];
    for await (const page of store.subscribers('no.such.topic')) none.push(page);
    expect(none).toEqual([]);
  });

  it('finds and counts a user\'s connections through byUser (subscriptions are not counted)', async () => {
    const user = `grace-${backend}`;
    const mine: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = newId();
      mine.push(id);
      await store.putConnection({ connectionId: id, userId: user, connectedAt: Date.now() + i });
      await store.subscribe(id, `user:${user}`);
    }
    await store.putConnection({ connectionId: newId(), userId: user, connectedAt: Date.now() - 3 * 3600_000 });
    await store.putConnection({ connectionId: newId(), userId: `${user}-other`, connectedAt: Date.now() });
    const found = await store.connectionsOfUser(user);
    expect(found.map((c) => c.connectionId)).toEqual(mine);
    expect(found[0]).toEqual({ connectionId: mine[0], connectedAt: expect.any(Number), expiresAt: expect.any(Number) });
    expect(await store.countConnectionsOfUser(user)).toBe(4);
    await store.deleteConnection(mine[1]!);
    expect(await store.countConnectionsOfUser(user)).toBe(3);
    expect(await store.countConnectionsOfUser('nobody')).toBe(0);
  });
});
