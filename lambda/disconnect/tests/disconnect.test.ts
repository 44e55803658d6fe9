import { ConnectionStore } from '@wskit/shared';
import { startDynamo, type DynamoHandle, itemsOfConnection } from '@wskit/testing/dynamo';
import { captureLogs, disconnectEvent, lambdaContext, newConnectionId } from '@wskit/testing/events';
import { handler } from '../src';

jest.setTimeout(30_000);

const savedEnv = { ...process.env };
let db: DynamoHandle;
let store: ConnectionStore;

beforeAll(async () => {
  db = await startDynamo('dynalite');
  store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  Object.assign(process.env, {
    WSKIT_TABLE_NAME: db.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});
afterAll(async () => {
  process.env = savedEnv;
  await db?.stop();
});

it('removes the connection, all its subscriptions and its user slot, and only those', async () => {
  const connectionId = newConnectionId();
  const other = newConnectionId();
  await store.admitConnection({ connectionId, userId: 'alice', connectedAt: Date.now() }, { cap: 3, isGone: async () => false });
  await store.putConnection({ connectionId: other, userId: 'bob', connectedAt: Date.now() });
  for (let i = 0; i < 30; i++) await store.subscribe(connectionId, `room.${i}`);
  await store.subscribe(other, 'room.1');
  const { result, lines } = await captureLogs(() => handler(disconnectEvent({ connectionId }), lambdaContext()));
  expect(result).toEqual({ statusCode: 200 });
  const items = await db.dump();
  expect(itemsOfConnection(items, connectionId)).toEqual([]);
  expect(itemsOfConnection(items, other)).toHaveLength(2);
  expect(await store.userSlots('alice')).toEqual([]);
  const line = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'disconnected');
  expect(line).toMatchObject({ connectionId, existed: true, subscriptionsRemoved: 30, disconnectStatusCode: 1001 });
});

it('answers 200 to a duplicate, late or unknown disconnect', async () => {
  const connectionId = newConnectionId();
  await store.putConnection({ connectionId, userId: 'carol', connectedAt: Date.now() });
  await store.subscribe(connectionId, 'x.y');
  const event = disconnectEvent({ connectionId });
  expect((await captureLogs(() => handler(event))).result).toEqual({ statusCode: 200 });
  expect((await captureLogs(() => handler(event))).result).toEqual({ statusCode: 200 });
  expect((await captureLogs(() => handler(disconnectEvent({ connectionId: newConnectionId() })))).result).toEqual({ statusCode: 200 });
});

it('never throws on events that are not $disconnect events', async () => {
  const before = await db.dump();
  for (const event of [null, undefined, 0, 'x', {}, { requestContext: [] }, { requestContext: { connectionId: {} } }]) {
    expect((await captureLogs(() => handler(event))).result.statusCode).toBe(400);
  }
  expect(await db.dump()).toEqual(before);
});

it('reports a failed cleanup as 500 without throwing', async () => {
  process.env.WSKIT_TABLE_NAME = 'no-such-table';
  try {
    let broken: typeof handler | undefined;
    jest.isolateModules(() => {
      broken = (require('../src') as typeof import('../src')).handler;
    });
    const { result, lines } = await captureLogs(() => broken!(disconnectEvent({ connectionId: newConnectionId() })));
    expect(result.statusCode).toBe(500);
    expect(lines.some((l) => JSON.parse(l).level === 'ERROR')).toBe(true);
  } finally {
    process.env.WSKIT_TABLE_NAME = db.tableName;
  }
});
