import { destroyManagementClients } from '@wskit/shared';
import { startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';
import { captureLogs, connectEvent, lambdaContext, newConnectionId } from '@wskit/testing/events';
import { faults, startManagementApi, type ManagementApiServer } from '@wskit/testing/management-api';
import { handler } from '../src';

jest.setTimeout(30_000);

const savedEnv = { ...process.env };
let db: DynamoHandle;
let api: ManagementApiServer;

beforeAll(async () => {
  [db, api] = await Promise.all([startDynamo('dynalite'), startManagementApi({ stage: 'local' })]);
  Object.assign(process.env, {
    WSKIT_CALLBACK_URL: api.url,
    WSKIT_TABLE_NAME: db.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    WSKIT_LOG_LEVEL: 'INFO',
  });
});
afterAll(async () => {
  process.env = savedEnv;
  destroyManagementClients();
  await Promise.all([db?.stop(), api?.stop()]);
});
beforeEach(() => {
  process.env.WSKIT_TABLE_NAME = db.tableName;
  delete process.env.WSKIT_MAX_CONNECTIONS_PER_USER;
});

const quiet = <T>(fn: () => Promise<T>) => captureLogs(fn);

/** A connection API Gateway knows about (as it would for a live client), opened through the handler. */
async function open(userId: string) {
  const connectionId = newConnectionId();
  api.connect(connectionId);
  const { result, lines } = await quiet(() => handler(connectEvent({ connectionId, userId }), lambdaContext()));
  return { connectionId, result, lines };
}

it('stores the connection with the authorizer userId, source IP, user agent, connectedAt and TTL', async () => {
  const connectionId = newConnectionId();
  const connectedAt = 1_767_225_600_456;
  const { result } = await quiet(() =>
    handler(connectEvent({ connectionId, userId: 'alice', connectedAt, sourceIp: '203.0.113.7', userAgent: 'wscat/5' }), lambdaContext()),
  );
  expect(result).toEqual({ statusCode: 200 });
  const item = (await db.dump()).find((i) => i.pk?.S === `conn#${connectionId}`);
  expect(item).toEqual({
    pk: { S: `conn#${connectionId}` },
    sk: { S: 'meta' },
    connectionId: { S: connectionId },
    userId: { S: 'alice' },
    connectedAt: { N: String(connectedAt) },
    sourceIp: { S: '203.0.113.7' },
    userAgent: { S: 'wscat/5' },
    expiresAt: { N: String(Math.floor(connectedAt / 1000) + 7200 + 300) },
  });
});

it('refuses a connection over the per-user cap with 429, writing nothing', async () => {
  process.env.WSKIT_MAX_CONNECTIONS_PER_USER = '3';
  for (let i = 0; i < 3; i++) expect((await open('capped')).result).toEqual({ statusCode: 200 });
  const before = await db.dump();
  const { result, lines } = await open('capped');
  expect(result.statusCode).toBe(429);
  expect(result.body).toMatch(/3 open connections, the limit is 3/);
  expect(await db.dump()).toEqual(before);
  expect(lines.some((l) => JSON.parse(l).message.includes('cap reached'))).toBe(true);
  // Another user is not affected.
  expect((await open('someone-else')).result.statusCode).toBe(200);
});

it('has no cap when WSKIT_MAX_CONNECTIONS_PER_USER is 0, and defaults to 10', async () => {
  process.env.WSKIT_MAX_CONNECTIONS_PER_USER = '0';
  for (let i = 0; i < 12; i++) expect((await open('uncapped')).result.statusCode).toBe(200);
  delete process.env.WSKIT_MAX_CONNECTIONS_PER_USER;
  for (let i = 0; i < 10; i++) expect((await open('default-cap')).result.statusCode).toBe(200);
  expect((await open('default-cap')).result.statusCode).toBe(429);
});

it('at the cap, removes rows of connections API Gateway no longer has, then admits', async () => {
  process.env.WSKIT_MAX_CONNECTIONS_PER_USER = '3';
  const live = [await open('stale-user'), await open('stale-user')];
  const lost = await open('stale-user');
  api.disconnect(lost.connectionId); // its $disconnect never arrived
  const before = api.requests.length;
  const next = await open('stale-user');
  expect(next.result).toEqual({ statusCode: 200 });
  expect(api.requests.slice(before).map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
  const rows = (await db.dump()).filter((i) => i.userId?.S === 'stale-user').map((i) => i.connectionId?.S);
  expect(rows.sort()).toEqual([...live.map((c) => c.connectionId), next.connectionId].sort());
});

it('at the cap, keeps counting connections it cannot check (no permission) and refuses', async () => {
  process.env.WSKIT_MAX_CONNECTIONS_PER_USER = '2';
  const first = await open('locked-user');
  const second = await open('locked-user');
  api.disconnect(second.connectionId);
  api.inject(first.connectionId, faults.forbidden());
  api.inject(second.connectionId, faults.forbidden());
  const third = await open('locked-user');
  expect(third.result.statusCode).toBe(429);
  expect((await db.dump()).filter((i) => i.userId?.S === 'locked-user')).toHaveLength(2);
});

it('refuses with 401 when the authorizer context is missing or has no userId', async () => {
  const before = await db.dump();
  const noAuthorizer = connectEvent({ connectionId: newConnectionId(), userId: null });
  expect((await quiet(() => handler(noAuthorizer))).result).toEqual({ statusCode: 401, body: 'Unauthorized' });
  const emptyUser = connectEvent({ connectionId: newConnectionId() });
  (emptyUser.requestContext as { authorizer?: unknown }).authorizer = { userId: '', principalId: '' };
  expect((await quiet(() => handler(emptyUser))).result.statusCode).toBe(401);
  expect(await db.dump()).toEqual(before);
});

it('survives events that are not $connect events', async () => {
  const before = await db.dump();
  for (const event of [null, undefined, 42, 'x', [], {}, { requestContext: null }, { requestContext: { connectionId: 7 } }]) {
    const { result } = await quiet(() => handler(event));
    expect([400, 401]).toContain(result.statusCode);
  }
  expect(await db.dump()).toEqual(before);
});

it('answers 500 naming the missing variable in the log, never a token', async () => {
  delete process.env.WSKIT_TABLE_NAME;
  const event = connectEvent({ connectionId: newConnectionId() });
  const { result, lines } = await captureLogs(() => handler(event, lambdaContext()));
  expect(result.statusCode).toBe(500);
  expect(result.body).toContain(event.requestContext.requestId);
  const logged = lines.map((l) => JSON.parse(l));
  expect(logged.some((l) => l.level === 'ERROR' && JSON.stringify(l.error).includes('WSKIT_TABLE_NAME is not set: set it to'))).toBe(true);
  expect(logged.every((l) => l.service === 'wskit-connect' && l.requestId === event.requestContext.requestId)).toBe(true);
  expect(lines.join('\n')).not.toContain('eyJ');

  process.env.WSKIT_TABLE_NAME = db.tableName;
  process.env.WSKIT_MAX_CONNECTIONS_PER_USER = 'lots';
  const bad = await captureLogs(() => handler(connectEvent({ connectionId: newConnectionId() })));
  expect(bad.result.statusCode).toBe(500);
  expect(bad.lines.join('\n')).toContain('WSKIT_MAX_CONNECTIONS_PER_USER');
});
