// The gateway's own contract, checked against small fixture handlers (tests/fixtures/lambda):
// event shapes, authorizer outcomes, routing, error frames, limits, and the management
// API through the real AWS SDK client. The real handler bundles are exercised in e2e.test.ts.
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { WebSocket, type ClientOptions } from 'ws';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
  PayloadTooLargeException,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { startGateway, type Gateway } from '../src';
import { connect, connectRejected, eventually, readEventLog, signedRequest, type TestClient } from './helpers';

jest.setTimeout(30_000);

const fixtures = path.join(__dirname, 'fixtures', 'lambda');
const AWS_ID = /^[A-Za-z0-9_-]{15}=$/;

let workDir: string;
let eventLog: string;
let gw: Gateway;
const clients: TestClient[] = [];

async function open(query = 'token=good-alice', options?: ClientOptions): Promise<TestClient> {
  const client = await connect(`${gw.wsUrl}/?${query}`, options);
  clients.push(client);
  return client;
}

const fixtureEnv = () => ({ FIXTURE_EVENT_LOG: eventLog });

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-gw-'));
  eventLog = path.join(workDir, 'events.jsonl');
  gw = await startGateway({
    distDir: fixtures,
    dataDir: path.join(workDir, 'gw1'),
    functionTimeoutMs: { message: 1500 },
    functionEnv: { connect: fixtureEnv(), disconnect: fixtureEnv(), message: fixtureEnv() },
    limits: { maxFrameBytes: 32 * 1024, maxMessageBytes: 128 * 1024 },
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await gw?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe('$connect and the authorizer', () => {
  test('a missing token is 401 before any function runs', async () => {
    const before = readEventLog(eventLog).length;
    const res = await connectRejected(gw.wsUrl);
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ message: 'Unauthorized' });
    expect(readEventLog(eventLog)).toHaveLength(before);
  });

  test.each([
    ['token=wrong', 401, 'Unauthorized'],
    ['token=deny', 403, 'Forbidden'],
    ['token=boom', 500, 'Internal server error'],
    ['token=nested', 500, 'Internal server error'],
  ])('%s is answered %i', async (query, status, message) => {
    const res = await connectRejected(`${gw.wsUrl}/?${query}`);
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body)).toEqual({ message });
  });

  test('an invalid handshake is refused before any function runs', async () => {
    const before = readEventLog(eventLog).length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${gw.httpUrl}/?token=good-alice`, {
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'short' },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(readEventLog(eventLog)).toHaveLength(before);
  });

  test('the $connect integration decides the handshake status', async () => {
    expect((await connectRejected(`${gw.wsUrl}/?token=good-alice&reject=429`)).statusCode).toBe(429);
    expect((await connectRejected(`${gw.wsUrl}/?token=good-alice&fail=1`)).statusCode).toBe(500);
    expect((await connectRejected(`${gw.wsUrl}/elsewhere?token=good-alice`)).statusCode).toBe(403);
  });

  test('a subprotocol chosen by $connect is negotiated', async () => {
    const client = await connect(`${gw.wsUrl}/?token=good-alice`, undefined, ['wskit.v1', 'other']);
    clients.push(client);
    expect(client.ws.protocol).toBe('wskit.v1');
  });

  test('the $connect event is shaped like API Gateway sends it', async () => {
    const client = await open('token=good-alice&x=1&x=2', { headers: { 'User-Agent': 'contract-test/1.0' } });
    const { event, remaining } = readEventLog(eventLog).filter((e) => e.fn === 'connect').pop()!;
    expect(remaining).toBeGreaterThan(0);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.headers).toMatchObject({
      Host: `127.0.0.1:${gw.port}`,
      'User-Agent': 'contract-test/1.0',
      'Sec-WebSocket-Version': '13',
      'X-Forwarded-For': '127.0.0.1',
      'X-Forwarded-Proto': 'http',
    });
    expect(event.headers['X-Amzn-Trace-Id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(event.headers.Connection).toBeUndefined();
    expect(event.multiValueHeaders.Host).toEqual([`127.0.0.1:${gw.port}`]);
    expect(event.queryStringParameters).toEqual({ token: 'good-alice', x: '2' });
    expect(event.multiValueQueryStringParameters).toEqual({ token: ['good-alice'], x: ['1', '2'] });
    const rc = event.requestContext;
    expect(rc).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'local',
      apiId: gw.apiId,
      domainName: `127.0.0.1:${gw.port}`,
      identity: { sourceIp: '127.0.0.1', userAgent: 'contract-test/1.0' },
    });
    expect(rc.connectionId).toMatch(AWS_ID);
    expect(rc.requestId).toMatch(AWS_ID);
    expect(rc.extendedRequestId).toBe(rc.requestId);
    expect(rc.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(typeof rc.connectedAt).toBe('number');
    expect(rc.requestTimeEpoch).toBeGreaterThanOrEqual(rc.connectedAt);
    // Authorizer context values arrive as strings, plus principalId and integrationLatency.
    expect(rc.authorizer).toMatchObject({ userId: 'alice', scope: '', exp: '1767225600', admin: 'false', principalId: 'user|alice' });
    expect(typeof rc.authorizer.integrationLatency).toBe('number');
    expect(gw.connections().map((c) => c.connectionId)).toContain(rc.connectionId);
    await client.close();
  });
});

describe('MESSAGE routing and the Lambda runtime', () => {
  test('the MESSAGE event, the context and the function environment', async () => {
    const client = await open();
    const reply = await client.request<any>({ action: 'echo', n: 1 });
    const rc = reply.event.requestContext;
    expect(Object.keys(reply.event).sort()).toEqual(['body', 'isBase64Encoded', 'requestContext']);
    expect(reply.event.body).toBe('{"action":"echo","n":1}');
    expect(rc).toMatchObject({ routeKey: '$default', eventType: 'MESSAGE', messageDirection: 'IN', stage: 'local' });
    expect(rc.messageId).toMatch(AWS_ID);
    expect(rc.authorizer).toMatchObject({ userId: 'alice', exp: '1767225600', principalId: 'user|alice' });
    expect(reply.context).toMatchObject({
      functionName: 'wskit-local-message',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:wskit-local-message',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/wskit-local-message',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(reply.context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(reply.context.remaining).toBeGreaterThan(0);
    expect(reply.context.remaining).toBeLessThanOrEqual(1500);
    expect(reply.env).toMatchObject({
      WSKIT_TABLE_NAME: gw.tableName,
      WSKIT_CALLBACK_URL: gw.callbackUrl,
      WSKIT_PUBLIC_TOPIC_PREFIXES: 'public:',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: gw.dynamodbEndpoint,
      AWS_LAMBDA_FUNCTION_NAME: 'wskit-local-message',
    });
    // Only what the function is given: nothing from the gateway's own environment.
    expect(reply.env.HOME).toBeUndefined();
    expect(reply.env.WSKIT_JWKS_URI).toBeUndefined();
  });

  test('an action with its own route (as Terraform creates them) selects it', async () => {
    const client = await open();
    const reply = await client.request<any>({ action: 'subscribe', topic: 't' });
    expect(reply.event.requestContext.routeKey).toBe('subscribe');
  });

  test('non-JSON frames go to $default', async () => {
    const client = await open();
    const reply = await client.request<any>('plain text' as never);
    expect(reply.event.body).toBe('plain text');
    expect(reply.event.requestContext.routeKey).toBe('$default');
  });

  test('handler errors, timeouts, crashes and running out of memory become Internal server error frames', async () => {
    const client = await open();
    for (const action of ['boom', 'reject', 'slow', 'crash', 'hog']) {
      const frame = await client.request<any>({ action });
      expect(frame).toEqual({ message: 'Internal server error', connectionId: expect.stringMatching(AWS_ID), requestId: expect.stringMatching(AWS_ID) });
    }
    // The connection survives and the function still answers.
    const reply = await client.request<any>({ action: 'echo' });
    expect(reply.event.requestContext.routeKey).toBe('$default');
  });

  test('any text frame gets routed and answered; the connection survives', async () => {
    const client = await open();
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const pieces = ['{', '}', '"action"', ':', '"echo"', '[', ']', 'null', '\\u0000', ',', '"', '1e999', ' ', 'é', '😀', '__proto__'];
    for (let i = 0; i < 150; i++) {
      const frame = Array.from({ length: 1 + Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      const reply = await client.request<any>(frame as never);
      expect(reply.event.body).toBe(frame);
    }
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  test('a reply without a body sends no frame', async () => {
    const client = await open();
    client.send({ action: 'silent' });
    const reply = await client.request<any>({ action: 'echo' });
    expect(reply.event.body).toBe('{"action":"echo"}');
  });

  test('module scope lives across invocations of a warm environment', async () => {
    const client = await open();
    const first = await client.request<any>({ action: 'echo' });
    const second = await client.request<any>({ action: 'echo' });
    expect(second.invocations).toBe(first.invocations + 1);
    expect(second.context.awsRequestId).not.toBe(first.context.awsRequestId);
  });
});

describe('routes without $default', () => {
  let strict: Gateway;
  beforeAll(async () => {
    strict = await startGateway({
      distDir: fixtures,
      dataDir: path.join(workDir, 'gw2'),
      routes: { $connect: 'connect', $disconnect: 'disconnect', echo: 'message' },
      functionEnv: { connect: fixtureEnv(), disconnect: fixtureEnv(), message: fixtureEnv() },
    });
  });
  afterAll(() => strict.stop());

  test('a matching action selects its route; anything else gets the Forbidden frame', async () => {
    const client = await connect(`${strict.wsUrl}?token=good-bob`);
    clients.push(client);
    const reply = await client.request<any>({ action: 'echo' });
    expect(reply.event.requestContext.routeKey).toBe('echo');
    const forbidden = await client.request<any>({ action: 'nope' });
    expect(forbidden).toEqual({ message: 'Forbidden', connectionId: reply.event.requestContext.connectionId, requestId: expect.stringMatching(AWS_ID) });
    expect(await client.request<any>('not json' as never)).toMatchObject({ message: 'Forbidden' });
  });
});

describe('$disconnect', () => {
  const disconnectOf = async (connectionId: string) =>
    (
      await eventually(
        () => readEventLog(eventLog).filter((e) => e.fn === 'disconnect' && e.event.requestContext.connectionId === connectionId),
        (list) => list.length > 0,
      )
    )[0]!.event;

  test('a client close carries its code and reason, and the authorizer context', async () => {
    const client = await open();
    const { event } = await client.request<any>({ action: 'echo' });
    await client.close(4000, 'bye now');
    const d = await disconnectOf(event.requestContext.connectionId);
    expect(d.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      disconnectStatusCode: 4000,
      disconnectReason: 'bye now',
      connectedAt: event.requestContext.connectedAt,
      authorizer: { userId: 'alice', principalId: 'user|alice' },
    });
    expect(d.headers).toEqual({ Host: `127.0.0.1:${gw.port}`, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' });
    expect(gw.connections().map((c) => c.connectionId)).not.toContain(event.requestContext.connectionId);
  });

  test('a close frame without a code is 1005', async () => {
    const client = await open();
    const { event } = await client.request<any>({ action: 'echo' });
    await client.close();
    const d = await disconnectOf(event.requestContext.connectionId);
    expect(d.requestContext.disconnectStatusCode).toBe(1005);
    expect(d.requestContext.disconnectReason).toBe('Client-side close frame status not set');
  });
});

describe('limits', () => {
  test('a frame over 32 KB closes with 1009', async () => {
    const client = await open();
    client.send(JSON.stringify({ action: 'echo', pad: 'x'.repeat(33 * 1024) }));
    expect((await client.closed).code).toBe(1009);
  });

  test('a fragmented message up to 128 KB passes; over it closes with 1009', async () => {
    const client = await open();
    const sendFragmented = (text: string, frameSize: number) => {
      for (let i = 0; i < text.length; i += frameSize) {
        client.ws.send(text.slice(i, i + frameSize), { fin: i + frameSize >= text.length });
      }
    };
    const ok = JSON.stringify({ action: 'echo', pad: 'y'.repeat(100 * 1024) });
    sendFragmented(ok, 30 * 1024);
    const reply = await client.nextJson<any>();
    expect(reply.event.body).toHaveLength(ok.length);
    sendFragmented(JSON.stringify({ action: 'echo', pad: 'z'.repeat(129 * 1024) }), 30 * 1024);
    expect((await client.closed).code).toBe(1009);
  });

  test('a binary frame closes with 1003', async () => {
    const client = await open();
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.closed).code).toBe(1003);
  });

  describe('with short idle and duration limits', () => {
    let short: Gateway;
    beforeAll(async () => {
      short = await startGateway({
        distDir: fixtures,
        dataDir: path.join(workDir, 'gw3'),
        limits: { idleTimeoutMs: 600, maxConnectionMs: 1500 },
        functionEnv: { connect: fixtureEnv(), disconnect: fixtureEnv(), message: fixtureEnv() },
      });
    });
    afterAll(() => short.stop());

    test('an idle connection is closed with 1001 Going away', async () => {
      const client = await connect(`${short.wsUrl}?token=good-idle`);
      const started = Date.now();
      const closed = await client.closed;
      expect(closed).toEqual({ code: 1001, reason: 'Going away' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    });

    test('activity keeps a connection open until the maximum duration', async () => {
      const client = await connect(`${short.wsUrl}?token=good-busy`);
      const started = Date.now();
      const timer = setInterval(() => client.ws.readyState === WebSocket.OPEN && client.send({ action: 'silent' }), 200);
      const closed = await client.closed;
      clearInterval(timer);
      expect(closed).toEqual({ code: 1001, reason: 'Going away' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    });
  });
});

describe('management API (@connections) through the AWS SDK', () => {
  let sdk: ApiGatewayManagementApiClient;
  beforeAll(() => {
    sdk = new ApiGatewayManagementApiClient({
      endpoint: gw.callbackUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  afterAll(() => sdk.destroy());

  test('post, get, delete and Gone', async () => {
    const client = await open('token=good-carol', { headers: { 'User-Agent': 'sdk-test' } });
    const { event } = await client.request<any>({ action: 'echo' });
    const connectionId: string = event.requestContext.connectionId;

    await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"hello":"there"}') }));
    expect(await client.next()).toBe('{"hello":"there"}');

    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.ConnectedAt?.getTime()).toBe(event.requestContext.connectedAt);
    expect(info.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'sdk-test' });
    expect(info.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(info.ConnectedAt!.getTime());

    const tooBig = sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(128 * 1024 + 1, 97) }));
    await expect(tooBig).rejects.toBeInstanceOf(PayloadTooLargeException);

    await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await client.closed).code).toBe(1000);
    const d = await eventually(
      () => readEventLog(eventLog).filter((e) => e.fn === 'disconnect' && e.event.requestContext.connectionId === connectionId),
      (l) => l.length > 0,
    );
    expect(d[0]!.event.requestContext).toMatchObject({ disconnectStatusCode: 1000, disconnectReason: 'Connection Closed Normally' });

    const gone = sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') }));
    await expect(gone).rejects.toBeInstanceOf(GoneException);
    await expect(sdk.send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' }))).rejects.toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });
  });

  test('raw HTTP: error headers, JSON bodies, wrong stage and method', async () => {
    const gone = await signedRequest(`${gw.callbackUrl}/@connections/${encodeURIComponent('AAAAAAAAAAAAAAA=')}`, { method: 'POST', body: 'x' });
    expect(gone.status).toBe(410);
    expect(gone.headers['x-amzn-errortype']).toBe('GoneException');
    expect(typeof JSON.parse(gone.body).message).toBe('string');
    const wrongStage = await signedRequest(`${gw.httpUrl}/prod/@connections/abc`, { method: 'POST', body: 'x' });
    expect(wrongStage.status).toBe(403);
    expect(wrongStage.headers['x-amzn-errortype']).toBe('ForbiddenException');
    const badMethod = await signedRequest(`${gw.callbackUrl}/@connections/abc`, { method: 'PUT', body: 'x' });
    expect(badMethod.status).toBe(403);
    expect(badMethod.headers['x-amzn-errortype']).toBe('ForbiddenException');
  });
});

test('callbackLatencyMs delays every @connections call', async () => {
  const slow = await startGateway({ distDir: fixtures, dataDir: path.join(workDir, 'latency'), callbackLatencyMs: 200 });
  try {
    const started = Date.now();
    const res = await signedRequest(`${slow.callbackUrl}/@connections/${encodeURIComponent('AAAAAAAAAAAAAAA=')}`, { method: 'GET' });
    expect(res.status).toBe(410);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  } finally {
    await slow.stop();
  }
});

describe('a socket that drops without a close frame', () => {
  let lazy: Gateway;
  beforeAll(async () => {
    lazy = await startGateway({
      distDir: fixtures,
      dataDir: path.join(workDir, 'gw4'),
      abnormalCloseDetectionMs: 60_000,
      functionEnv: { connect: fixtureEnv(), disconnect: fixtureEnv(), message: fixtureEnv() },
    });
  });
  afterAll(() => lazy.stop());

  test('still counts as connected until a POST finds it gone, which sends $disconnect', async () => {
    const client = await connect(`${lazy.wsUrl}?token=good-dave`);
    const { event } = await client.request<any>({ action: 'echo' });
    const connectionId: string = event.requestContext.connectionId;
    (client.ws as unknown as { _socket: import('node:net').Socket })._socket.destroy();
    await eventually(() => lazy.connections().find((c) => c.connectionId === connectionId)?.state, (s) => s === 'dropped');
    const disconnects = () => readEventLog(eventLog).filter((e) => e.fn === 'disconnect' && e.event.requestContext.connectionId === connectionId);
    expect(disconnects()).toHaveLength(0);

    const res = await signedRequest(`${lazy.callbackUrl}/@connections/${encodeURIComponent(connectionId)}`, { method: 'POST', body: 'hi' });
    expect(res.status).toBe(410);
    const d = await eventually(disconnects, (l) => l.length > 0);
    expect(d[0]!.event.requestContext.disconnectStatusCode).toBe(1006);
    expect(lazy.connections().map((c) => c.connectionId)).not.toContain(connectionId);
  });
});
