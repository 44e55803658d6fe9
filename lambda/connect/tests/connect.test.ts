import { destroyManagementClients } from '@wskit/shared';
import { startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';
import { captureLogs, connectEvent, lambdaContext, newConnectionId } from '@wskit/testing/events';
import { faults, startManagementApi, type ManagementApiServer } from '@wskit/testing/management-api';
import { handler as sharedHandler } from '../src';

/** The handler as a new execution environment loads it: settings are read once per environment. */
function freshHandler(): typeof sharedHandler {
  let loaded: typeof sharedHandler | undefined;
  jest.isolateModules(() => {
    loaded = (require('../src') as typeof import('../src')).handler;
  });
  return loaded!;
}
let handler = sharedHandler;
const withCap = (cap?: string) => {
  if (cap === undefined) delete process.env.WSKIT_MAX_CONNECTIONS_PER_USER;
  else process.env.WSKIT_MAX_CONNECTIONS_PER_USER = cap;
  handler = freshHandler();
};

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
  withCap(undefined);
});

const quiet = <T>(fn: () => Promise<T>) => captureLogs(fn);

/** A connection API Gateway knows about (as it would for a live client), opened through the handler. */
async function open(userId: string, connectedAt = Date.now()) {
  const connectionId = newConnectionId();
  api.connect(connectionId);
  const { result, lines } = await quiet(() => handler(connectEvent({ connectionId, userId, connectedAt }), lambdaContext()));
  return { connectionId, result, lines };
}

it('stores the connection with the authorizer userId verbatim, its token expiry, source IP, user agent, connectedAt and TTL', async () => {
  const connectionId = newConnectionId();
  const connectedAt = 1_767_225_600_456;
  const { result } = await quiet(() =>
    handler(connectEvent({ connectionId, userId: 'auth0|alice', connectedAt, sourceIp: '203.0.113.7', userAgent: 'wscat/5', exp: 1_767_229_200 }), lambdaContext()),
  );
  expect(result).toEqual({ statusCode: 200 });
  const item = (await db.dump()).find((i) => i.pk?.S === `conn#${connectionId}`);
  expect(item).toEqual({
    pk: { S: `conn#${connectionId}` },
    sk: { S: 'meta' },
    connectionId: { S: connectionId },
    userId: { S: 'auth0|alice' },
    connectedAt: { N: String(connectedAt) },
    sourceIp: { S: '203.0.113.7' },
    userAgent: { S: 'wscat/5' },
    tokenExp: { N: '1767229200' },
    expiresAt: { N: String(Math.floor(connectedAt / 1000) + 7200 + 300) },
  });
  // The user's slot is taken.
  const user = (await db.dump()).find((i) => i.pk?.S === 'user#auth0|alice');
  expect(user?.slots?.SS).toEqual([connectionId]);
});

it('refuses with 401 a userId that only looks like another user', async () => {
  const before = await db.dump();
  for (const userId of [' alice', 'alice\u00a0', '\ufeffalice', 'al\u200bice']) {
    const { result } = await quiet(() => handler(connectEvent({ connectionId: newConnectionId(), userId }), lambdaContext()));
    expect(result).toEqual({ statusCode: 401, body: 'Unauthorized' });
  }
  expect(await db.dump()).toEqual(before);
});

it('admits exactly the cap of 40 connects of one user that run at once', async () => {
  withCap('10');
  const results = await Promise.all(Array.from({ length: 40 }, () => open('burst')));
  expect(results.filter((r) => r.result.statusCode === 200)).toHaveLength(10);
  expect(results.filter((r) => r.result.statusCode === 429)).toHaveLength(30);
  const rows = (await db.dump()).filter((i) => i.pk?.S?.startsWith('conn#') && i.userId?.S === 'burst');
  expect(rows).toHaveLength(10);
});

it('refuses a connection over the per-user cap with 429, keeping nothing', async () => {
  withCap('3');
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
  withCap('0');
  for (let i = 0; i < 12; i++) expect((await open('uncapped')).result.statusCode).toBe(200);
  withCap(undefined);
  for (let i = 0; i < 10; i++) expect((await open('default-cap')).result.statusCode).toBe(200);
  expect((await open('default-cap')).result.statusCode).toBe(429);
});

it('at the cap, removes rows of connections API Gateway no longer has, then admits', async () => {
  withCap('3');
  const minuteAgo = Date.now() - 60_000;
  const live = [await open('stale-user', minuteAgo), await open('stale-user', minuteAgo)];
  const lost = await open('stale-user', minuteAgo);
  api.disconnect(lost.connectionId); // its $disconnect never arrived
  const before = api.requests.length;
  const next = await open('stale-user');
  expect(next.result).toEqual({ statusCode: 200 });
  expect(api.requests.slice(before).map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
  const rows = (await db.dump()).filter((i) => i.userId?.S === 'stale-user').map((i) => i.connectionId?.S);
  expect(rows.sort()).toEqual([...live.map((c) => c.connectionId), next.connectionId].sort());
});

it('at the cap, never reclaims a slot whose connection may still be connecting', async () => {
  withCap('2');
  await open('young-user');
  const lost = await open('young-user');
  api.disconnect(lost.connectionId);
  const before = api.requests.length;
  // Both are seconds old: their $connect may still be running, so nothing is asked or freed.
  expect((await open('young-user')).result.statusCode).toBe(429);
  expect(api.requests.length).toBe(before);
});

it('at the cap, keeps counting connections it cannot check (no permission) and refuses', async () => {
  withCap('2');
  const minuteAgo = Date.now() - 60_000;
  const first = await open('locked-user', minuteAgo);
  const second = await open('locked-user', minuteAgo);
  api.disconnect(second.connectionId);
  api.inject(first.connectionId, faults.forbidden());
  api.inject(second.connectionId, faults.forbidden());
  const third = await open('locked-user');
  expect(third.result.statusCode).toBe(429);
  expect((await db.dump()).filter((i) => i.pk?.S?.startsWith('conn#') && i.userId?.S === 'locked-user')).toHaveLength(2);
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
  handler = freshHandler();
  const event = connectEvent({ connectionId: newConnectionId() });
  const { result, lines } = await captureLogs(() => handler(event, lambdaContext()));
  expect(result.statusCode).toBe(500);
  expect(result.body).toContain(event.requestContext.requestId);
  const logged = lines.map((l) => JSON.parse(l));
  expect(logged.some((l) => l.level === 'ERROR' && JSON.stringify(l.error).includes('WSKIT_TABLE_NAME is not set: set it to'))).toBe(true);
  expect(logged.filter((l) => !l._aws).every((l) => l.service === 'wskit-connect' && l.requestId === event.requestContext.requestId)).toBe(true);
  expect(logged.filter((l) => l._aws)).toEqual([expect.objectContaining({ Service: 'wskit-connect', Faults: 1 })]);
  expect(lines.join('\n')).not.toContain('eyJ');

  process.env.WSKIT_TABLE_NAME = db.tableName;
  withCap('lots');
  const bad = await captureLogs(() => handler(connectEvent({ connectionId: newConnectionId() })));
  expect(bad.result.statusCode).toBe(500);
  expect(bad.lines.join('\n')).toContain('WSKIT_MAX_CONNECTIONS_PER_USER');
});
