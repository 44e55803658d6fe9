// What the gateway enforces beyond the happy path, each through real clients: throttled
// integrations (a blocking fixture fills a function's queue), dev endpoints closed to other
// origins and hosts, log values that cannot forge a line, SigV4 and the account throttle on
// @connections (raw HTTP and the real SDK client), routes and environments from the wiring
// manifests, and requests that arrive too slowly.
import * as path from 'node:path';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ACTIONS } from '@wskit/protocol';
import { repoRoot, startGateway, type Gateway } from '../src';
import { connect, connectRejected, eventually, httpRequest, LOCAL_CREDENTIALS, signedRequest, type TestClient } from './helpers';
import { rawHttp } from './support/raw-ws';

jest.setTimeout(60_000);

const fixtures = path.join(__dirname, 'fixtures', 'lambda');
const AWS_ID = /^[A-Za-z0-9_-]{15}=$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

let workDir: string;
let wiringDir: string;
let gw: Gateway;
const entries: Record<string, unknown>[] = [];
const functionLines: string[] = [];
const clients: TestClient[] = [];
let env: Record<string, string>;

/** The repository's manifests, with the message function also reading action_aliases. */
function wiringCopy(dir: string, edit?: (manifest: Record<string, any>, name: string) => void): string {
  cpSync(path.join(repoRoot, 'lambda'), dir, { recursive: true, filter: (src) => !src.includes('node_modules') && !/\/(src|tests|dist)(\/|$)/.test(src) });
  for (const name of ['connect', 'disconnect', 'message', 'authorizer', 'broadcaster']) {
    const file = path.join(dir, name, 'wiring.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    edit?.(manifest, name);
    writeFileSync(file, JSON.stringify(manifest));
  }
  return dir;
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-hard-'));
  env = { FIXTURE_EVENT_LOG: path.join(workDir, 'events.jsonl') };
  wiringDir = wiringCopy(path.join(workDir, 'wiring'), (m, name) => {
    if (name === 'message') m.environment.WSKIT_ACTION_ALIASES = 'action_aliases';
  });
  gw = await startGateway({
    distDir: fixtures,
    wiringDir,
    dataDir: path.join(workDir, 'main'),
    actionAliases: { chat_message: 'publish' },
    maxTopicsPerConnection: 50,
    functionEnv: { connect: env, disconnect: env, message: env },
    accessLog: (entry) => entries.push(entry),
    functionLogs: (_name, line) => functionLines.push(line),
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await gw?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

async function open(gateway: Gateway, user = 'alice'): Promise<TestClient> {
  const client = await connect(`${gateway.wsUrl}/?token=good-${user}`);
  clients.push(client);
  return client;
}

describe('throttled integrations (a bounded invocation queue)', () => {
  let blocked: Gateway;
  let release: string;
  beforeAll(async () => {
    release = path.join(workDir, 'release-1');
    blocked = await startGateway({
      distDir: fixtures,
      dataDir: path.join(workDir, 'blocked'),
      routes: { $connect: 'connect', $disconnect: 'disconnect', $default: 'message', block: 'blocker' },
      functionConcurrency: 1,
      functionQueueLimit: 2,
      functionEnv: { connect: env, disconnect: env, message: env, blocker: { BLOCKER_RELEASE: release } },
    });
  });
  afterAll(async () => {
    writeFileSync(release, '');
    await blocked.stop();
  });

  test('past the queue a message route answers Too Many Requests; the queued ones still run', async () => {
    const client = await open(blocked);
    const connectionId = blocked.connections()[0]!.connectionId;
    for (let i = 0; i < 5; i++) client.send({ action: 'block', id: String(i) });
    // One runs, two wait, two are refused at once.
    for (let i = 0; i < 2; i++) {
      expect(await client.nextJson(3000)).toEqual({ message: 'Too Many Requests', connectionId, requestId: expect.stringMatching(AWS_ID) });
    }
    writeFileSync(release, '');
    for (let i = 0; i < 3; i++) expect(await client.nextJson(5000)).toEqual({ released: true, routeKey: 'block' });
    const echo = await client.request<any>({ action: 'echo' });
    expect(echo.event.requestContext.routeKey).toBe('$default');
  });

  test('a throttled $connect refuses the upgrade with 429', async () => {
    const hold = path.join(workDir, 'release-2');
    const started = path.join(workDir, 'started-2');
    const gate = await startGateway({
      distDir: fixtures,
      dataDir: path.join(workDir, 'blocked-connect'),
      routes: { $connect: 'blocker', $disconnect: 'disconnect', $default: 'message' },
      functionConcurrency: 1,
      functionQueueLimit: 0,
      functionEnv: { disconnect: env, message: env, blocker: { BLOCKER_RELEASE: hold, BLOCKER_STARTED: started } },
    });
    try {
      const first = connect(`${gate.wsUrl}/?token=good-first`);
      // Until the first upgrade's $connect holds the one environment, a second would still be let in.
      await eventually(() => existsSync(started), (b) => b, 5000);
      const refused = await connectRejected(`${gate.wsUrl}/?token=good-second`);
      expect(refused.statusCode).toBe(429);
      expect(JSON.parse(refused.body)).toEqual({ message: 'Too Many Requests' });
      writeFileSync(hold, '');
      const client = await first;
      clients.push(client);
      expect(client.ws.readyState).toBe(client.ws.OPEN);
    } finally {
      writeFileSync(hold, '');
      await gate.stop();
    }
  });
});

describe('dev endpoints answer this machine only', () => {
  const request = (p: string, headers: Record<string, string>, method = 'POST', body = '{"sub":"alice"}') =>
    httpRequest(`${gw.httpUrl}${p}`, { method, body: method === 'GET' ? undefined : body, headers: { 'content-type': 'application/json', ...headers } });

  test('a foreign Origin gets 403 on every dev endpoint', async () => {
    for (const [p, method] of [['/dev/token', 'POST'], ['/dev/publish', 'POST'], ['/dev/config', 'GET']] as const) {
      for (const origin of ['http://evil.example', 'null', `http://localhost:${gw.port}`, `https://127.0.0.1:${gw.port}`]) {
        const res = await request(p, { origin }, method);
        expect([p, origin, res.status]).toEqual([p, origin, 403]);
        expect(JSON.parse(res.body).message).toMatch(/cross-origin/);
      }
    }
  });

  test('a Host that is not this machine (DNS rebinding) gets 403', async () => {
    for (const host of ['evil.example', `evil.example:${gw.port}`, `127.0.0.1.evil.example:${gw.port}`, '10.0.0.1']) {
      const res = await request('/dev/token', { host, origin: `http://${host}` });
      expect([host, res.status]).toEqual([host, 403]);
      expect(JSON.parse(res.body).message).toMatch(/Host header/);
      expect((await request('/dev/token', { host })).status).toBe(403);
    }
  });

  test('the gateway’s own origin, or none (curl, scripts), is served', async () => {
    expect((await request('/dev/token', { origin: `http://127.0.0.1:${gw.port}` })).status).toBe(200);
    expect((await request('/dev/token', {})).status).toBe(200);
    expect((await request('/dev/token', { host: `localhost:${gw.port}`, origin: `http://localhost:${gw.port}` })).status).toBe(200);
    expect((await request('/dev/config', {}, 'GET')).status).toBe(200);
  });
});

describe('log values are escaped', () => {
  const forged = 'bye\n12:00:00 $connect connectionId=forged status=101\r\u001b[2K\u2028';

  test('a close reason with a newline cannot forge an access log line', async () => {
    const client = await open(gw);
    const connectionId = gw.connections().at(-1)!.connectionId;
    await client.close(4000, forged);
    const entry = await eventually(
      () => entries.find((e) => e.event === '$disconnect' && e.connectionId === connectionId),
      (e) => e !== undefined,
    );
    expect(entry!.reason).toBe('bye\\n12:00:00 $connect connectionId=forged status=101\\r\\u001b[2K\\u2028');
    for (const e of entries) for (const value of Object.values(e)) if (typeof value === 'string') expect(value).not.toMatch(CONTROL);
  });

  test("a function's output reaches the log sink escaped", async () => {
    const client = await open(gw);
    // A line break (\n, \r) ends a line of the function's own; what is left in a line is escaped.
    expect(await client.request({ action: 'log', text: 'line\u001b[31mFORGED\u0007\u0085\u202e' })).toMatchObject({ logged: true });
    const lines = await eventually(() => functionLines.filter((l) => l.includes('FORGED')), (l) => l.length >= 2);
    for (const line of lines) {
      expect(line).not.toMatch(CONTROL);
      expect(line).toContain('line\\u001b[31mFORGED\\u0007\\u0085\\u202e');
    }
  });
});

describe('@connections checks SigV4', () => {
  const url = () => `${gw.callbackUrl}/@connections/${encodeURIComponent('AAAAAAAAAAAAAAA=')}`;

  test('unsigned: 403 Missing Authentication Token', async () => {
    for (const method of ['POST', 'GET', 'DELETE']) {
      const res = await httpRequest(url(), { method, body: method === 'POST' ? 'x' : undefined });
      expect(res.status).toBe(403);
      expect(res.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
      expect(JSON.parse(res.body)).toEqual({ message: 'Missing Authentication Token' });
    }
  });

  test('a wrong secret, a body changed after signing, an unknown key: 403 with the AWS error', async () => {
    const wrong = await signedRequest(url(), { method: 'POST', body: 'x' }, { accessKeyId: 'local', secretAccessKey: 'not-local' });
    expect(wrong.status).toBe(403);
    expect(wrong.headers['x-amzn-errortype']).toBe('InvalidSignatureException');
    expect(JSON.parse(wrong.body)).toEqual({ message: MISMATCH });

    const unknown = await signedRequest(url(), { method: 'GET' }, { accessKeyId: 'someone', secretAccessKey: 'else' });
    expect(unknown.status).toBe(403);
    expect(unknown.headers['x-amzn-errortype']).toBe('UnrecognizedClientException');
    expect(JSON.parse(unknown.body)).toEqual({ message: 'The security token included in the request is invalid.' });

    // Sign one body, send another.
    const signedFor = await new Promise<Record<string, string>>((resolve) => {
      const server = net.createServer((socket) => {
        socket.once('data', (d: Buffer) => {
          const headers = Object.fromEntries(
            d.toString('latin1').split('\r\n\r\n')[0]!.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
          );
          socket.destroy();
          server.close();
          resolve(headers);
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as net.AddressInfo).port;
        void signedRequest(`http://127.0.0.1:${port}/local/@connections/x`, { method: 'POST', body: 'original' }).catch(() => undefined);
      });
    });
    const tampered = await rawHttp(
      gw.port,
      `POST /local/@connections/x HTTP/1.1\r\nHost: ${signedFor.host}\r\nX-Amz-Date: ${signedFor['x-amz-date']}\r\nAuthorization: ${signedFor.authorization}\r\nContent-Length: 8\r\n\r\nchanged!`,
    );
    expect(tampered).toBe(403);
  });

  test('the SDK client with the wrong secret raises InvalidSignatureException; with the right one it is let through', async () => {
    const bad = new ApiGatewayManagementApiClient({ endpoint: gw.callbackUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'nope' } });
    await expect(bad.send(new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=', Data: Buffer.from('x') }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
    bad.destroy();
    const good = new ApiGatewayManagementApiClient({ endpoint: gw.callbackUrl, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    await expect(good.send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' }))).rejects.toBeInstanceOf(GoneException);
    good.destroy();
  });

  test('the credentials option: the functions get them, @connections accepts only them', async () => {
    const credentials = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local/secret+key' };
    const other = await startGateway({ distDir: fixtures, dataDir: path.join(workDir, 'creds'), credentials, functionEnv: { connect: env, disconnect: env, message: env } });
    try {
      const client = await open(other);
      const reply = await client.request<any>({ action: 'echo' });
      expect(reply.env.AWS_ACCESS_KEY_ID).toBe('AKIDLOCALTEST');
      const sdk = new ApiGatewayManagementApiClient({ endpoint: other.callbackUrl, region: 'us-east-1', credentials });
      await sdk.send(new PostToConnectionCommand({ ConnectionId: reply.event.requestContext.connectionId, Data: Buffer.from('signed') }));
      expect(await client.next()).toBe('signed');
      sdk.destroy();
      const local = await signedRequest(`${other.callbackUrl}/@connections/x`, { method: 'GET' });
      expect(local.headers['x-amzn-errortype']).toBe('UnrecognizedClientException');
    } finally {
      await other.stop();
    }
  });
});

describe('the account-level throttle on @connections', () => {
  test('a burst past the bucket gets 429 LimitExceededException; the SDK client raises it', async () => {
    const tight = await startGateway({ distDir: fixtures, dataDir: path.join(workDir, 'rate'), managementRate: 2, managementBurst: 3, functionEnv: { connect: env } });
    try {
      const url = `${tight.callbackUrl}/@connections/${encodeURIComponent('AAAAAAAAAAAAAAA=')}`;
      const results = await Promise.all(Array.from({ length: 12 }, () => signedRequest(url, { method: 'GET' })));
      const throttled = results.filter((r) => r.status === 429);
      expect(results.filter((r) => r.status === 410).length).toBeGreaterThanOrEqual(3);
      expect(throttled.length).toBeGreaterThanOrEqual(6);
      for (const r of throttled) {
        expect(r.headers['x-amzn-errortype']).toBe('LimitExceededException');
        expect(JSON.parse(r.body)).toEqual({ message: 'Too Many Requests' });
      }
      // The SDK retries throttling errors; with one attempt the exception surfaces.
      const sdk = new ApiGatewayManagementApiClient({ endpoint: tight.callbackUrl, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => sdk.send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' }))));
      expect(outcomes.some((o) => o.status === 'rejected' && o.reason instanceof LimitExceededException)).toBe(true);
      sdk.destroy();
    } finally {
      await tight.stop();
    }
  });

  test('the default (10,000/s, burst 5,000) lets a 4,000-request burst through untouched', async () => {
    const url = `${gw.callbackUrl}/@connections/${encodeURIComponent('AAAAAAAAAAAAAAA=')}`;
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next++ < 4000) {
          const { status } = await signedRequest(url, { method: 'POST', body: 'x' });
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 410: 4000 });
  });
});

describe('routes and environments from the wiring manifests', () => {
  test('every protocol action and $default go to message, $connect and $disconnect to theirs, plus the alias', () => {
    expect(Object.fromEntries(gw.routes)).toEqual({
      $connect: 'connect',
      $disconnect: 'disconnect',
      $default: 'message',
      ...Object.fromEntries(ACTIONS.map((a) => [a, 'message'])),
      chat_message: 'message',
    });
  });

  test('an action alias is a route key, and the function is told (action_aliases)', async () => {
    const client = await open(gw);
    const reply = await client.request<any>({ action: 'chat_message', id: 'a' });
    expect(reply.event.requestContext.routeKey).toBe('chat_message');
    expect(reply.env.WSKIT_ACTION_ALIASES).toBe('chat_message=publish');
    expect(reply.env.WSKIT_MAX_TOPICS_PER_CONNECTION).toBe('50');
    expect(reply.env.WSKIT_LOG_LEVEL).toBe('INFO');
    // A setting nobody gave is left out, so the function's own default applies.
    expect(reply.env.WSKIT_METRICS_NAMESPACE).toBeUndefined();
    expect(gw.settings.get('action_aliases')).toBe('chat_message=publish');
  });

  test('functionEnv still overrides what a manifest gives', async () => {
    const other = await startGateway({ distDir: fixtures, dataDir: path.join(workDir, 'override'), functionEnv: { connect: env, disconnect: env, message: { WSKIT_LOG_LEVEL: 'DEBUG' } } });
    try {
      const client = await open(other);
      expect((await client.request<any>({ action: 'echo' })).env.WSKIT_LOG_LEVEL).toBe('DEBUG');
    } finally {
      await other.stop();
    }
  });

  test('a manifest naming a setting the gateway does not know fails start, naming the manifest and key', async () => {
    const dir = wiringCopy(path.join(workDir, 'wiring-unknown'), (m, name) => {
      if (name === 'broadcaster') m.environment.WSKIT_SHARD_COUNT = 'shard_count';
    });
    await expect(startGateway({ distDir: fixtures, wiringDir: dir, dataDir: path.join(workDir, 'unknown') })).rejects.toThrow(
      /broadcaster\/wiring\.json: WSKIT_SHARD_COUNT reads the setting "shard_count", which the local gateway does not know/,
    );
    // The settings option supplies it.
    const ok = await startGateway({ distDir: fixtures, wiringDir: dir, dataDir: path.join(workDir, 'unknown'), settings: { shard_count: '4' } });
    await ok.stop();
  });

  test('bad action aliases are refused with what to do', async () => {
    await expect(startGateway({ distDir: fixtures, actionAliases: { x: 'nope' } })).rejects.toThrow(/"nope" is not a protocol action/);
    await expect(startGateway({ distDir: fixtures, actionAliases: { publish: 'ping' } })).rejects.toThrow(/already a protocol action/);
  });
});

describe('requests that arrive too slowly, or too big', () => {
  let slow: Gateway;
  beforeAll(async () => {
    slow = await startGateway({ distDir: fixtures, dataDir: path.join(workDir, 'slow'), httpRequestTimeoutMs: 800, functionEnv: { connect: env } });
  });
  afterAll(() => slow.stop());

  test('a body that never completes is cut off with 408 while others are served', async () => {
    const started = Date.now();
    const stalled = rawHttp(slow.port, `POST /local/@connections/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nonly ten..`, { timeoutMs: 5000 });
    const normal = await httpRequest(`${slow.httpUrl}/dev/config`);
    expect(normal.status).toBe(200);
    expect(await stalled).toBe(408);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('headers trickled in one by one are cut off too', async () => {
    const socket = net.connect(slow.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /dev/config HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const timer = setInterval(() => socket.writable && socket.write(`X-Slow: ${Date.now()}\r\n`), 100);
    const started = Date.now();
    await closed;
    clearInterval(timer);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('a header block over 16 KB gets 431', async () => {
    expect(await rawHttp(slow.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`)).toBe(431);
    expect((await httpRequest(`${slow.httpUrl}/dev/config`)).status).toBe(200);
  });
});
