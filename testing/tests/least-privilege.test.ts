/**
 * Least privilege by construction: each handler, driven through its code paths against a real
 * DynamoDB API and the management API stand-in, calls exactly the AWS actions its wiring
 * manifest (lambda/<name>/wiring.json) declares, which is what Terraform grants. A call the
 * manifest lacks would be denied on AWS; a declared action no path calls is a grant too many.
 */
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConnectionStore } from '@wskit/shared';
import { startDynamo, type DynamoHandle } from '../src/dynamo';
import { captureLogs, connectEvent, disconnectEvent, httpEvent, lambdaContext, messageEvent, newConnectionId } from '../src/events';
import { startManagementApi, type ManagementApiServer } from '../src/management-api';

jest.setTimeout(60_000);

interface Manifest {
  permissions: { dynamodb: string[]; dynamodbIndexes: string[]; manageConnections: string[] };
}
const manifest = (name: string): Manifest =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'lambda', name, 'wiring.json'), 'utf8')) as Manifest;

interface Call {
  action: string;
  indexed: boolean;
}

/** A loopback proxy in front of the DynamoDB API that records every operation it forwards. */
async function recordingProxy(target: string): Promise<{ url: string; calls: Call[]; stop(): Promise<void> }> {
  const calls: Call[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
      let indexed = false;
      try {
        indexed = typeof (JSON.parse(body.toString('utf8')) as { IndexName?: unknown }).IndexName === 'string';
      } catch {
        // not JSON: recorded as is
      }
      calls.push({ action, indexed });
      const forward = request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let db: DynamoHandle;
let api: ManagementApiServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let store: ConnectionStore;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [db, api] = await Promise.all([startDynamo('dynalite'), startManagementApi({ stage: 'local' })]);
  proxy = await recordingProxy(db.endpoint);
  store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  Object.assign(process.env, {
    WSKIT_TABLE_NAME: db.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    WSKIT_CALLBACK_URL: api.url,
    WSKIT_PUBLIC_TOPIC_PREFIXES: 'public:',
    WSKIT_MAX_CONNECTIONS_PER_USER: '2',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    WSKIT_LOG_LEVEL: 'ERROR',
  });
});
afterAll(async () => {
  process.env = savedEnv;
  (require('@wskit/shared') as typeof import('@wskit/shared')).destroyManagementClients();
  await Promise.all([db?.stop(), api?.stop(), proxy?.stop()]);
});

/** Runs `scenario`, then compares what it called with the manifest of `name`. */
async function expectExactly(name: string, scenario: () => Promise<void>): Promise<void> {
  proxy.calls.length = 0;
  const managementBefore = api.requests.length;
  await captureLogs(scenario);
  const called = {
    dynamodb: [...new Set(proxy.calls.filter((c) => !c.indexed).map((c) => c.action))].sort(),
    dynamodbIndexes: [...new Set(proxy.calls.filter((c) => c.indexed).map((c) => c.action))].sort(),
    manageConnections: [...new Set(api.requests.slice(managementBefore).map((r) => r.method))].sort(),
  };
  const declared = manifest(name).permissions;
  expect(called).toEqual({
    dynamodb: [...declared.dynamodb].sort(),
    dynamodbIndexes: [...declared.dynamodbIndexes].sort(),
    manageConnections: [...declared.manageConnections].sort(),
  });
}

const load = <T>(workspace: string): T => {
  let loaded: T | undefined;
  jest.isolateModules(() => {
    loaded = require(workspace) as T;
  });
  return loaded!;
};
type WebSocketHandler = (event: unknown, context?: unknown) => Promise<{ statusCode: number; body?: string }>;

it('connect: admitted, refused at the cap, and reclaiming a gone connection', async () => {
  const { handler } = load<{ handler: WebSocketHandler }>('@wskit/connect');
  await expectExactly('connect', async () => {
    const old = Date.now() - 120_000;
    const first = newConnectionId();
    const second = newConnectionId();
    for (const connectionId of [first, second]) {
      api.connect(connectionId);
      expect((await handler(connectEvent({ connectionId, userId: 'pat', connectedAt: old }), lambdaContext())).statusCode).toBe(200);
    }
    // At the cap with both alive: refused. Then one is gone without its $disconnect: reclaimed.
    expect((await handler(connectEvent({ connectionId: newConnectionId(), userId: 'pat' }), lambdaContext())).statusCode).toBe(429);
    await store.subscribe(first, 'public:lp');
    api.disconnect(first);
    expect((await handler(connectEvent({ connectionId: newConnectionId(), userId: 'pat' }), lambdaContext())).statusCode).toBe(200);
  });
});

it('disconnect', async () => {
  const { handler } = load<{ handler: WebSocketHandler }>('@wskit/disconnect');
  const connectionId = newConnectionId();
  await store.admitConnection({ connectionId, userId: 'quinn', connectedAt: Date.now() }, { cap: 2, isGone: async () => false });
  await store.subscribe(connectionId, 'public:lp');
  await expectExactly('disconnect', async () => {
    expect((await handler(disconnectEvent({ connectionId }), lambdaContext())).statusCode).toBe(200);
  });
});

it('message: every action, a gone subscriber, an expired one', async () => {
  const { handler } = load<{ handler: WebSocketHandler }>('@wskit/message');
  const open = async (userId: string, exp?: number) => {
    const connectionId = newConnectionId();
    await store.putConnection({ connectionId, userId, connectedAt: Date.now(), tokenExp: exp });
    api.connect(connectionId);
    return { connectionId, userId, exp };
  };
  const me = await open('rae');
  const gone = await open('sam');
  const expired = await open('tia', Math.floor(Date.now() / 1000) - 60);
  await store.subscribe(gone.connectionId, 'public:lp');
  await store.subscribe(expired.connectionId, 'public:lp');
  api.disconnect(gone.connectionId);
  const send = async (frame: Record<string, unknown>, session = me) => {
    const { statusCode, body } = await handler(messageEvent(JSON.stringify(frame), session), lambdaContext());
    expect(statusCode).toBe(200);
    return JSON.parse(body!) as Record<string, unknown>;
  };
  await expectExactly('message', async () => {
    await send({ action: 'hello' });
    await send({ action: 'ping' });
    expect(await send({ action: 'subscribe', topic: 'public:lp' })).toMatchObject({ type: 'ack' });
    expect(await send({ action: 'publish', topic: 'public:lp', data: 1 })).toMatchObject({ type: 'ack', delivered: 1, gone: 1 });
    expect(await send({ action: 'subscribe', topic: 'public:lp', since: 0 })).toMatchObject({ type: 'ack', seq: 1 });
    expect(await send({ action: 'history', topic: 'public:lp' })).toMatchObject({ type: 'history' });
    expect(await send({ action: 'unsubscribe', topic: 'public:lp' })).toMatchObject({ type: 'ack' });
    expect(await send({ action: 'report', report: { clientVersion: '0.1.0', periodMs: 60000, counters: { reconnects: 1 } } })).toMatchObject({ type: 'ack' });
    // A connection whose row is gone: subscribe is refused, unsubscribe clears any row left.
    const ghost = { connectionId: newConnectionId(), userId: 'rae', exp: undefined };
    expect(await send({ action: 'subscribe', topic: 'public:lp' }, ghost)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await send({ action: 'unsubscribe', topic: 'public:lp' }, ghost)).toMatchObject({ type: 'ack' });
  });
});

it('broadcaster: an SQS batch to a topic with a gone and an expired subscriber', async () => {
  const { handler } = load<{ handler: (event: unknown, context?: unknown) => Promise<unknown> }>('@wskit/broadcaster');
  const live = newConnectionId();
  const gone = newConnectionId();
  const expired = newConnectionId();
  await store.putConnection({ connectionId: live, userId: 'uma', connectedAt: Date.now() });
  await store.putConnection({ connectionId: gone, userId: 'vic', connectedAt: Date.now() });
  await store.putConnection({ connectionId: expired, userId: 'wes', connectedAt: Date.now(), tokenExp: Math.floor(Date.now() / 1000) - 60 });
  for (const id of [live, gone, expired]) await store.subscribe(id, 'public:bc');
  api.connect(live);
  api.connect(expired);
  await expectExactly('broadcaster', async () => {
    const event = { Records: [{ messageId: 'lp-1', body: JSON.stringify({ topic: 'public:bc', data: 1 }), eventSource: 'aws:sqs', attributes: {} }] };
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
  });
});

it('http: publish (a gone and an expired subscriber) and history, for a user and a backend', async () => {
  const { handler } = load<{ handler: WebSocketHandler }>('@wskit/http');
  const gone = newConnectionId();
  const expired = newConnectionId();
  await store.putConnection({ connectionId: gone, userId: 'xia', connectedAt: Date.now() });
  await store.putConnection({ connectionId: expired, userId: 'yan', connectedAt: Date.now(), tokenExp: Math.floor(Date.now() / 1000) - 60 });
  for (const id of [gone, expired]) await store.subscribe(id, 'public:hp');
  api.connect(expired);
  await expectExactly('http', async () => {
    expect((await handler(httpEvent({ method: 'POST', topic: 'public:hp', body: '{"data":1}' }), lambdaContext())).statusCode).toBe(200);
    expect((await handler(httpEvent({ method: 'GET', topic: 'public:hp', query: { since: '0' } }), lambdaContext())).statusCode).toBe(200);
    expect((await handler(httpEvent({ method: 'GET', topic: 'public:hp', iamPrincipal: 'arn:aws:iam::123456789012:role/svc' }), lambdaContext())).statusCode).toBe(200);
  });
});

it('authorizer: calls no AWS API at all', () => {
  expect(manifest('authorizer').permissions).toEqual({ dynamodb: [], dynamodbIndexes: [], manageConnections: [] });
});
