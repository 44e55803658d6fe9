import { ConnectionStore, destroyManagementClients } from '@wskit/shared';
import { startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';
import { captureLogs, httpEvent, lambdaContext, newConnectionId, type HttpEventOptions } from '@wskit/testing/events';
import { startManagementApi, type ManagementApiServer } from '@wskit/testing/management-api';
import { handler } from '../src';

jest.setTimeout(30_000);

const savedEnv = { ...process.env };
let db: DynamoHandle;
let api: ManagementApiServer;
let store: ConnectionStore;

beforeAll(async () => {
  [db, api] = await Promise.all([startDynamo('dynalite'), startManagementApi({ stage: 'local' })]);
  store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  Object.assign(process.env, {
    WSKIT_TABLE_NAME: db.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    WSKIT_CALLBACK_URL: api.url,
    WSKIT_PUBLIC_TOPIC_PREFIXES: 'public:',
    WSKIT_PUBLISH_RATE_LIMIT: '5',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    WSKIT_LOG_LEVEL: 'WARN',
  });
});
afterAll(async () => {
  process.env = savedEnv;
  destroyManagementClients();
  await Promise.all([db?.stop(), api?.stop()]);
});

async function call(options: HttpEventOptions) {
  const { result } = await captureLogs(() => handler(httpEvent(options), lambdaContext()));
  return { status: result.statusCode, headers: result.headers, body: JSON.parse(result.body) as Record<string, unknown> };
}

async function subscriber(topic: string, userId = 'sub') {
  const connectionId = newConnectionId();
  await store.putConnection({ connectionId, userId, connectedAt: Date.now() });
  await store.subscribe(connectionId, topic);
  api.connect(connectionId);
  return connectionId;
}

it('publishes over HTTP to WebSocket subscribers, then serves the history', async () => {
  const listener = await subscriber('public:http');
  const first = await call({ method: 'POST', topic: 'public:http', body: JSON.stringify({ data: { n: 1 } }) });
  expect(first).toMatchObject({ status: 200, body: { type: 'ack', action: 'publish', topic: 'public:http', seq: 1, delivered: 1, gone: 0, failed: 0 } });
  expect(first.headers['content-type']).toBe('application/json');
  await call({ method: 'POST', topic: 'public:http', body: JSON.stringify({ data: 'two' }) });
  expect(api.delivered(listener).map((frame) => JSON.parse(frame).seq)).toEqual([1, 2]);

  const page = await call({ method: 'GET', topic: 'public:http', query: { since: '0' } });
  expect(page.status).toBe(200);
  expect(page.body).toMatchObject({ type: 'history', topic: 'public:http', seq: 2, complete: true, recovered: true });
  expect((page.body.messages as Array<{ data: unknown; seq: number }>).map((m) => [m.seq, m.data])).toEqual([
    [1, { n: 1 }],
    [2, 'two'],
  ]);
  const later = await call({ method: 'GET', topic: 'public:http', query: { since: '1', limit: '1' } });
  expect((later.body.messages as Array<{ seq: number }>).map((m) => m.seq)).toEqual([2]);
});

it('applies the topic policy to users, and lets IAM principals use any topic', async () => {
  expect(await call({ method: 'GET', topic: 'user:bob', userId: 'alice' })).toMatchObject({ status: 403, body: { type: 'error', code: 'FORBIDDEN' } });
  expect(await call({ method: 'POST', topic: 'user:bob', userId: 'alice', body: '{"data":1}' })).toMatchObject({ status: 403 });
  expect(await call({ method: 'GET', topic: 'user:alice', userId: 'alice' })).toMatchObject({ status: 200, body: { seq: 0 } });
  const backend = 'arn:aws:iam::123456789012:role/orders-service';
  expect(await call({ method: 'POST', topic: 'user:bob', iamPrincipal: backend, body: '{"data":"from a backend"}' })).toMatchObject({ status: 200, body: { seq: 1 } });
  expect(await call({ method: 'GET', topic: 'user:bob', iamPrincipal: backend })).toMatchObject({ status: 200, body: { seq: 1 } });
  // Any topic, but only topics: the grammar holds for IAM callers too, and nothing is stored.
  for (const method of ['GET', 'POST'] as const) {
    for (const topic of ['has space', '', 'x'.repeat(257), 'tab\there']) {
      expect(await call({ method, topic, iamPrincipal: backend, body: '{"data":1}' })).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
    }
  }
});

it('refuses what it cannot serve with the protocol status and a clear error', async () => {
  const cases: Array<[HttpEventOptions, number, string, RegExp]> = [
    [{ method: 'GET', topic: 'public:x', userId: null }, 403, 'FORBIDDEN', /Authorization: Bearer/],
    [{ method: 'GET', topic: 'public:x', exp: Math.floor(Date.now() / 1000) - 60 }, 401, 'TOKEN_EXPIRED', /fresh token/],
    [{ method: 'GET', topic: 'public:x', query: { since: '-1' } }, 400, 'BAD_REQUEST', /"since"/],
    [{ method: 'GET', topic: 'public:x', query: { limit: '0' } }, 400, 'BAD_REQUEST', /"limit"/],
    [{ method: 'POST', topic: 'public:x' }, 400, 'BAD_REQUEST', /no body/],
    [{ method: 'POST', topic: 'public:x', body: 'nope' }, 400, 'BAD_REQUEST', /not JSON/],
    [{ method: 'POST', topic: 'public:x', body: '{"value":1}' }, 400, 'BAD_REQUEST', /no "data"/],
    [{ method: 'POST', topic: 'public:x', body: JSON.stringify({ data: 'x'.repeat(140_000) }) }, 413, 'PAYLOAD_TOO_LARGE', /bytes/],
    [{ method: 'POST', topic: 'public:x', body: JSON.stringify({ data: 'x'.repeat(129_500) }) }, 413, 'PAYLOAD_TOO_LARGE', /limit/],
    [{ method: 'POST', topic: 'public:x', body: '{"data":{"__proto__":1}}' }, 400, 'BAD_REQUEST', /__proto__/],
  ];
  for (const [options, status, code, message] of cases) {
    const { status: got, body } = await call(options);
    expect([got, body.code]).toEqual([status, code]);
    expect(String(body.message)).toMatch(message);
  }
  // Anything else that reaches the function is refused, never thrown.
  for (const event of [null, {}, { routeKey: 'DELETE /topics/{topic}/messages' }, { routeKey: 'GET /topics/{topic}/messages', pathParameters: { topic: 5 } }]) {
    const { result } = await captureLogs(() => handler(event, lambdaContext()));
    expect(result.statusCode).toBeGreaterThanOrEqual(400);
    expect(result.statusCode).toBeLessThan(500);
  }
});

it('limits a user\'s publishes, with Retry-After', async () => {
  const statuses: number[] = [];
  let retryAfter: string | undefined;
  for (let i = 0; i < 7; i++) {
    const { status, headers, body } = await call({ method: 'POST', topic: 'public:busy', userId: 'busy', body: JSON.stringify({ data: i }) });
    statuses.push(status);
    if (status === 429) {
      retryAfter = headers['retry-after'];
      expect(body).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    }
  }
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
});
