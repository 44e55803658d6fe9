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
  permissions: { dynamodb: string[]; dynamodbIndexes: string[]; manageConnections: string[]; fanOutQueue?: string[] };
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

/** SQS's IAM action for each API call (SendMessageBatch is authorized as SendMessage). */
const SQS_ACTION_OF: Record<string, string> = { SendMessage: 'SendMessage', SendMessageBatch: 'SendMessage' };

/** A loopback stand-in for the fan-out queue that records each SQS call and accepts every entry. */
async function recordingQueue(): Promise<{ url: string; actions: string[]; stop(): Promise<void> }> {
  const actions: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      actions.push(target.slice('AmazonSQS.'.length));
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Entries?: Array<{ Id: string }> };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })), Failed: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/000000000000/wskit-fanout`,
    actions,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const FANOUT_QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:wskit-fanout';

let db: DynamoHandle;
let queue: Awaited<ReturnType<typeof recordingQueue>>;
let api: ManagementApiServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let store: ConnectionStore;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [db, api] = await Promise.all([startDynamo('dynalite'), startManagementApi({ stage: 'local' })]);
  proxy = await recordingProxy(db.endpoint);
  queue = await recordingQueue();
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
    // An audience over 3 is handed off to the queue (each scenario publishes to one).
    WSKIT_FANOUT_QUEUE_URL: queue.url,
    WSKIT_FANOUT_QUEUE_ARN: FANOUT_QUEUE_ARN,
    WSKIT_INLINE_FANOUT_LIMIT: '3',
  });
});
afterAll(async () => {
  process.env = savedEnv;
  (require('@wskit/shared') as typeof import('@wskit/shared')).destroyManagementClients();
  await Promise.all([db?.stop(), api?.stop(), proxy?.stop(), queue?.stop()]);
});

/** Runs `scenario`, then compares what it called with the manifest of `name`. */
async function expectExactly(name: string, scenario: () => Promise<void>): Promise<void> {
  proxy.calls.length = 0;
  queue.actions.length = 0;
  const managementBefore = api.requests.length;
  await captureLogs(scenario);
  const called = {
    dynamodb: [...new Set(proxy.calls.filter((c) => !c.indexed).map((c) => c.action))].sort(),
    dynamodbIndexes: [...new Set(proxy.calls.filter((c) => c.indexed).map((c) => c.action))].sort(),
    manageConnections: [...new Set(api.requests.slice(managementBefore).map((r) => r.method))].sort(),
    fanOutQueue: [...new Set(queue.actions.map((action) => SQS_ACTION_OF[action] ?? `unmapped ${action}`))].sort(),
  };
  const declared = manifest(name).permissions;
  expect(called).toEqual({
    dynamodb: [...declared.dynamodb].sort(),
    dynamodbIndexes: [...declared.dynamodbIndexes].sort(),
    manageConnections: [...declared.manageConnections].sort(),
    fanOutQueue: [...(declared.fanOutQueue ?? [])].sort(),
  });
}

/** `count` live connections subscribed to `topic`: over the inline limit, so a publish hands off. */
async function subscribeCrowd(topic: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const connectionId = newConnectionId();
    await store.putConnection({ connectionId, userId: `crowd-${i}`, connectedAt: Date.now() });
    await store.subscribe(connectionId, topic);
    api.connect(connectionId);
    ids.push(connectionId);
  }
  return ids;
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
  const crowd = await subscribeCrowd('public:big', 4);
  await store.subscribe(gone.connectionId, 'public:msg');
  await store.subscribe(expired.connectionId, 'public:msg');
  api.disconnect(gone.connectionId);
  const send = async (frame: Record<string, unknown>, session = me) => {
    const { statusCode, body } = await handler(messageEvent(JSON.stringify(frame), session), lambdaContext());
    expect(statusCode).toBe(200);
    return JSON.parse(body!) as Record<string, unknown>;
  };
  await expectExactly('message', async () => {
    await send({ action: 'hello' });
    await send({ action: 'ping' });
    expect(await send({ action: 'subscribe', topic: 'public:msg' })).toMatchObject({ type: 'ack' });
    expect(await send({ action: 'publish', topic: 'public:msg', data: 1 })).toMatchObject({ type: 'ack', delivered: 1, gone: 1 });
    expect(await send({ action: 'subscribe', topic: 'public:msg', since: 0 })).toMatchObject({ type: 'ack', seq: 1 });
    expect(await send({ action: 'history', topic: 'public:msg' })).toMatchObject({ type: 'history' });
    expect(await send({ action: 'unsubscribe', topic: 'public:msg' })).toMatchObject({ type: 'ack' });
    expect(await send({ action: 'publish', topic: 'public:big', data: 2 })).toMatchObject({ type: 'ack', queued: true });
    expect(crowd).toHaveLength(4);
    expect(await send({ action: 'report', report: { clientVersion: '0.1.0', periodMs: 60000, counters: { reconnects: 1 } } })).toMatchObject({ type: 'ack' });
    // A connection whose row is gone: subscribe is refused, unsubscribe clears any row left.
    const ghost = { connectionId: newConnectionId(), userId: 'rae', exp: undefined };
    expect(await send({ action: 'subscribe', topic: 'public:msg' }, ghost)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await send({ action: 'unsubscribe', topic: 'public:msg' }, ghost)).toMatchObject({ type: 'ack' });
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
  await subscribeCrowd('public:bc-big', 4);
  const job = { kind: 'wskit.fanout', topic: 'public:bc-big', seq: 1, mid: 'm-1', shard: 0, shards: 1, queuedAt: Date.now(), frame: { type: 'message', topic: 'public:bc-big', data: 1, seq: 1, mid: 'm-1', ts: 1 } };
  await expectExactly('broadcaster', async () => {
    const event = {
      Records: [
        { messageId: 'lp-1', body: JSON.stringify({ topic: 'public:bc', data: 1 }), eventSource: 'aws:sqs', attributes: {} },
        // Over the inline limit: handed off as shard jobs.
        { messageId: 'lp-2', body: JSON.stringify({ topic: 'public:bc-big', data: 2 }), eventSource: 'aws:sqs', attributes: {} },
        // A shard job from the fan-out queue.
        { messageId: 'lp-3', body: JSON.stringify(job), eventSource: 'aws:sqs', eventSourceARN: FANOUT_QUEUE_ARN, attributes: {} },
      ],
    };
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
  await subscribeCrowd('public:hp-big', 4);
  await expectExactly('http', async () => {
    expect((await handler(httpEvent({ method: 'POST', topic: 'public:hp', body: '{"data":1}' }), lambdaContext())).statusCode).toBe(200);
    expect(JSON.parse((await handler(httpEvent({ method: 'POST', topic: 'public:hp-big', body: '{"data":2}' }), lambdaContext())).body!)).toMatchObject({ queued: true });
    expect((await handler(httpEvent({ method: 'GET', topic: 'public:hp', query: { since: '0' } }), lambdaContext())).statusCode).toBe(200);
    expect((await handler(httpEvent({ method: 'GET', topic: 'public:hp', iamPrincipal: 'arn:aws:iam::123456789012:role/svc' }), lambdaContext())).statusCode).toBe(200);
  });
});

it('authorizer: calls no AWS API at all', () => {
  expect(manifest('authorizer').permissions).toEqual({ dynamodb: [], dynamodbIndexes: [], manageConnections: [] });
  for (const name of ['connect', 'disconnect']) expect(manifest(name).permissions.fanOutQueue ?? []).toEqual([]);
});
