// The gateway under attack, in a process of its own so a crash is seen as the process
// ending: thousands of generated frames through route selection (prototype names as
// actions, non-JSON, deep nesting, huge ids, lone surrogates), frames no `ws` client would
// send (binary, invalid UTF-8, bad opcodes, lying lengths) through raw sockets, and raw
// HTTP requests on every path (malformed percent-encoding, huge headers, bad bodies, forged
// signatures, foreign origins). Afterwards the gateway still serves a normal client, every
// text frame got exactly one reply (each frame with an id its own echo), and it stops
// cleanly with requests still arriving. Seeded: FUZZ_SEED=<n> replays a run; a failure
// prints its seed.
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { seededRandom } from '@wskit/testing/random';
import { connect, LOCAL_CREDENTIALS, type TestClient } from './helpers';
import { startChildGateway, type ChildGateway } from './support/child-gateway';
import { closeCodeOf, encodeFrame, rawHttp, rawUpgrade, type RawFrame } from './support/raw-ws';

jest.setTimeout(240_000);

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 3000);
const fixtures = path.join(__dirname, 'fixtures', 'lambda');

const rand = seededRandom(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

/** Reports the seed with any failure of `body`. */
async function withSeed(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const e = err as Error;
    e.message = `fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npx jest local/tests/fuzz): ${e.message}`;
    throw e;
  }
}

const PROTOTYPE_NAMES = [
  'constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable',
  'toLocaleString', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', 'prototype',
];
const ROUTE_NAMES = ['$connect', '$disconnect', '$default', 'hello', 'ping', 'subscribe', 'unsubscribe', 'publish', 'sendmessage', 'history', 'report', 'echo'];
// The fixture's hooks that misbehave on purpose: the fuzzer never asks for them.
const FIXTURE_HOOKS = new Set(['boom', 'reject', 'slow', 'crash', 'hog', 'silent', 'big', 'log']);
const ODD_STRINGS = ['', ' ', '\u0000', '\n', '\r\n', '\u2028', '\u202e', '\u001b[2J', '😀', '\ud800', '\udfff', 'é', '%', '%zz', '\\', '"', 'null', '$', '$$default'];

function randomText(maxLength: number): string {
  const length = int(maxLength + 1);
  let s = '';
  for (let i = 0; i < length; i++) {
    const r = rand();
    if (r < 0.6) s += String.fromCharCode(0x20 + int(0x5f));
    else if (r < 0.75) s += String.fromCharCode(int(0x20));
    else if (r < 0.9) s += String.fromCodePoint(0x80 + int(0x2ff80));
    else s += pick(ODD_STRINGS);
  }
  return s;
}

function randomAction(): unknown {
  const r = rand();
  let action: unknown;
  if (r < 0.35) action = pick(PROTOTYPE_NAMES);
  else if (r < 0.55) action = pick(ROUTE_NAMES);
  else if (r < 0.7) action = pick(ODD_STRINGS);
  else if (r < 0.85) action = randomText(20);
  else action = pick<unknown>([0, -1, 1e308, true, false, null, [], ['ping'], {}, { toString: 'x' }]);
  return typeof action === 'string' && FIXTURE_HOOKS.has(action) ? 'ping' : action;
}

function randomValue(depth: number): unknown {
  const r = rand();
  if (depth > 3 || r < 0.3) return pick([0, 1.5, -0, true, null, randomText(8), pick(PROTOTYPE_NAMES)]);
  if (r < 0.6) return Array.from({ length: int(4) }, () => randomValue(depth + 1));
  // Own properties named like the prototype's, as JSON.parse would make them.
  const entries = new Map<string, unknown>();
  for (let i = int(4); i > 0; i--) entries.set(rand() < 0.3 ? pick(PROTOTYPE_NAMES) : randomText(6), randomValue(depth + 1));
  return Object.fromEntries(entries);
}

/** One text frame; `id` is set when the frame is a JSON object carrying that id. */
function randomFrame(n: number): { text: string; id?: string } {
  const id = `f${n}-${rand() < 0.2 ? randomText(12) : ''}`;
  const quoted = JSON.stringify(id);
  const kind = int(10);
  switch (kind) {
    case 0: // deep nesting inside a frame that still fits 32 KB
    {
      const depth = 1 + int(8000);
      return { text: `{"action":${JSON.stringify(randomAction())},"id":${quoted},"d":${'['.repeat(depth)}${']'.repeat(depth)}}`, id };
    }
    case 1: // a huge id
    {
      const big = `${id}${'x'.repeat(int(20_000))}`;
      return { text: JSON.stringify({ action: randomAction(), id: big }), id: big };
    }
    case 2: // duplicate keys: the last one wins in JSON.parse
      return { text: `{"action":"ping","id":${quoted},"action":${JSON.stringify(pick(PROTOTYPE_NAMES))}}`, id };
    case 3: // __proto__ and constructor as keys
      return { text: `{"__proto__":{"action":"hello"},"constructor":{"prototype":{"action":"ping"}},"id":${quoted}}`, id };
    case 4: // not JSON at all
      return { text: randomText(60) || 'x' };
    case 5: // JSON that is not an object
      return { text: JSON.stringify(pick([[{ action: 'ping', id }], 'ping', 42, true, []])) };
    default: {
      const fields = new Map<string, unknown>();
      for (let i = int(3); i > 0; i--) fields.set(randomText(5) || 'k', randomValue(0));
      fields.set('action', randomAction());
      fields.set('id', id);
      return { text: JSON.stringify(Object.fromEntries(fields)), id };
    }
  }
}

/** What the gateway receives for a JS string `ws` sends: lone surrogates become U+FFFD. */
const onTheWire = (text: string) => Buffer.from(text, 'utf8').toString('utf8');

let workDir: string;
let gw: ChildGateway;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-fuzz-'));
  const env = { FIXTURE_EVENT_LOG: path.join(workDir, 'events.jsonl') };
  gw = await startChildGateway({
    distDir: fixtures,
    dataDir: path.join(workDir, 'data'),
    functionEnv: { connect: env, disconnect: env, message: env },
    httpRequestTimeoutMs: 1000,
  });
});

afterAll(async () => {
  if (gw?.alive()) await gw.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function expectAlive() {
  if (!gw.alive()) throw new Error(`the gateway process ended; its last output:\n${gw.stderr().slice(-6000)}`);
}

test('generated frames through route selection: every frame answered once, the gateway lives', () =>
  withSeed(async () => {
    const connections = 6;
    const window = 8;
    const perConnection = Math.ceil(FRAMES / connections);
    let next = 0;
    await Promise.all(
      Array.from({ length: connections }, async (_, c) => {
        const client = await connect(`ws://127.0.0.1:${gw.port}/?token=good-fuzz${c}`);
        const expected = new Map<string, number>(); // frame as received -> replies still due
        const idReplies = new Map<string, number>();
        const ids = new Set<string>();
        let sent = 0;
        let received = 0;
        let errors = 0;
        let inFlight = 0;
        let wake: (() => void) | undefined;
        client.ws.on('message', () => undefined);
        const replies = (async () => {
          while (received < perConnection) {
            const frame = JSON.parse(await client.next(30_000)) as { event?: { body?: string }; message?: string };
            received++;
            inFlight--;
            wake?.();
            if (typeof frame.event?.body === 'string') {
              const body = frame.event.body;
              const due = expected.get(body) ?? 0;
              if (due <= 0) throw new Error(`a reply to a frame that was not sent (or answered twice): ${body.slice(0, 200)}`);
              expected.set(body, due - 1);
              try {
                const parsed = JSON.parse(body) as { id?: unknown };
                if (parsed && typeof parsed === 'object' && typeof parsed.id === 'string' && ids.has(parsed.id)) {
                  idReplies.set(parsed.id, (idReplies.get(parsed.id) ?? 0) + 1);
                }
              } catch {
                // not JSON: no id
              }
            } else if (frame.message === 'Internal server error') {
              errors++; // the fixture throws on a frame of JSON null
            } else {
              throw new Error(`unexpected reply ${JSON.stringify(frame).slice(0, 300)}`);
            }
          }
        })();
        while (sent < perConnection) {
          while (inFlight >= window) await new Promise<void>((resolve) => (wake = resolve));
          const { text, id } = randomFrame(next++);
          const wire = onTheWire(text);
          expected.set(wire, (expected.get(wire) ?? 0) + 1);
          // The id as the function sees it (JSON.parse of what arrived).
          if (id !== undefined) ids.add((JSON.parse(wire) as { id: string }).id);
          inFlight++;
          sent++;
          client.ws.send(text);
        }
        await replies;
        expect(client.ws.readyState).toBe(client.ws.OPEN);
        expect([...expected.values()].reduce((a, b) => a + b, 0)).toBe(errors);
        for (const id of ids) {
          if (idReplies.get(id) !== 1) throw new Error(`the frame with id ${JSON.stringify(id.slice(0, 80))} got ${idReplies.get(id) ?? 0} replies`);
        }
        await client.close();
      }),
    );
    expectAlive();
  }));

const DESTRUCTIVE: Array<{ name: string; frames: () => RawFrame[]; codes: number[] }> = [
  { name: 'binary', frames: () => [{ opcode: 2, payload: Buffer.from([1, 2, 3]) }], codes: [1003] },
  { name: 'invalid UTF-8', frames: () => [{ opcode: 1, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }], codes: [1007] },
  { name: 'truncated UTF-8', frames: () => [{ opcode: 1, payload: Buffer.from([0x22, 0xe2, 0x82]) }], codes: [1007] },
  { name: 'UTF-8 split over fragments, invalid', frames: () => [{ opcode: 1, fin: false, payload: Buffer.from([0xf0, 0x9f]) }, { opcode: 0, payload: Buffer.from([0x41]) }], codes: [1007] },
  { name: 'reserved opcode', frames: () => [{ opcode: 3, payload: Buffer.from('x') }], codes: [1002] },
  { name: 'RSV1 without an extension', frames: () => [{ opcode: 1, rsv: 4, payload: Buffer.from('{}') }], codes: [1002] },
  { name: 'unmasked client frame', frames: () => [{ opcode: 1, mask: false, payload: Buffer.from('{}') }], codes: [1002] },
  { name: 'control frame over 125 bytes', frames: () => [{ opcode: 9, payload: Buffer.alloc(200) }], codes: [1002] },
  { name: 'fragmented ping', frames: () => [{ opcode: 9, fin: false, payload: Buffer.from('x') }], codes: [1002] },
  { name: 'continuation without a start', frames: () => [{ opcode: 0, payload: Buffer.from('x') }], codes: [1002] },
  { name: 'frame over 32 KB', frames: () => [{ opcode: 1, payload: Buffer.alloc(33 * 1024, 0x61) }], codes: [1009] },
  { name: 'a length of 2^63-1', frames: () => [{ opcode: 1, length: 2n ** 63n - 1n }], codes: [1009] },
  { name: 'close with code 999', frames: () => [{ opcode: 8, payload: Buffer.from([0x03, 0xe7]) }], codes: [1002] },
  { name: 'close with a 1-byte payload', frames: () => [{ opcode: 8, payload: Buffer.from([0x03]) }], codes: [1002] },
];

test('frames no ws client sends, through raw sockets: the connection closes with the right code', () =>
  withSeed(async () => {
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        DESTRUCTIVE.map(async ({ name, frames, codes }) => {
          const socket = await rawUpgrade(gw.port, `/?token=good-raw${int(1000)}`);
          const closed = closeCodeOf(socket);
          // Sometimes valid frames first, sometimes split writes: the parser must not care.
          if (rand() < 0.5) socket.write(encodeFrame({ opcode: 1, payload: Buffer.from('{"action":"constructor","id":"pre"}') }));
          const bytes = Buffer.concat(frames().map(encodeFrame));
          if (rand() < 0.5) socket.write(bytes);
          else {
            for (let at = 0, n = 1 + int(7); at < bytes.length; at += n, n = 1 + int(7)) socket.write(bytes.subarray(at, at + n));
          }
          // A close frame, or the socket's end: this client never answers a close frame, so
          // after one the gateway waits for it a while before cutting the socket.
          const { code, ended } = await closed;
          if (!ended && code === undefined) throw new Error(`${name}: the gateway kept the connection open`);
          if (!codes.includes(code ?? 0)) throw new Error(`${name}: closed with ${code}, expected ${codes.join(' or ')}`);
        }),
      );
      expectAlive();
    }
    // Garbage instead of frames, and a socket cut mid-frame.
    for (let i = 0; i < 20; i++) {
      const socket = await rawUpgrade(gw.port, `/?token=good-garbage${i}`);
      const closed = closeCodeOf(socket, 3000);
      socket.write(Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256))));
      if (rand() < 0.5) socket.destroy();
      await closed;
    }
    expectAlive();
  }));

const PATHS = [
  '/', '/local', '/local/', '/local/@connections/abc', '/local/%40connections/AAAAAAAAAAAAAAA%3D', '/prod/@connections/x',
  '/local/@connections/%E0%A4%A', '/local/@connections/%', '/local/%4@connections/x', '/local/@connections/a/b', '/local/@connections/',
  '/dev/token', '/dev/publish', '/dev/config', '/dev/%zz', '/dev/', '/.well-known/jwks.json', '/index.html', '/app.js', '/wskit-client.js',
  '/%', '/%zz', '//', '//evil.example/x', '/..%2f..%2fetc%2fpasswd', '/../../etc/passwd', '/constructor', '/__proto__', '/toString',
  '*', '', `/${'a'.repeat(6000)}`, '/?token=%', '/local?token=good-http&x=%E0', '/%00', '/\u00e9',
];
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'PATCH', 'get', 'FOO', 'G T', 'TRACE', ''];

function randomRequest(port: number): { bytes: Buffer; endAfterWrite: boolean } {
  const method = pick(METHODS);
  const target = pick(PATHS);
  const headers: string[] = [];
  const r = rand();
  if (r < 0.7) headers.push(`Host: ${pick([`127.0.0.1:${port}`, 'evil.example', 'localhost', '[::1]:1', '', '127.0.0.1:1@evil', 'a b'])}`);
  if (rand() < 0.2) headers.push('Host: second.example');
  if (rand() < 0.3) headers.push(`Origin: ${pick([`http://127.0.0.1:${port}`, 'http://evil.example', 'null', '', '%'])}`);
  if (rand() < 0.2) headers.push('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${pick(['dGhlIHNhbXBsZSBub25jZQ==', 'short', ''])}`);
  if (rand() < 0.2) headers.push(`Authorization: ${pick(['AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=' + '0'.repeat(64), 'Bearer x', 'AWS4-HMAC-SHA256', '%'])}`);
  if (rand() < 0.15) headers.push(`X-Amz-Date: ${pick(['20260101T000000Z', 'yesterday', ''])}`);
  if (rand() < 0.05) headers.push(`X-Big: ${'b'.repeat(20_000)}`);
  if (rand() < 0.1) for (let i = 0; i < 50; i++) headers.push(`X-H${i}: ${randomText(10).replace(/[\r\n]/g, '')}`);
  if (rand() < 0.1) headers.push(`${pick(['__proto__', 'constructor', 'toString'])}: x`);
  let body = Buffer.alloc(0);
  if (rand() < 0.5) body = Buffer.from(pick(['{"sub":"alice"}', '{"topic":"public:x","data":1}', '[]', '{', randomText(200), JSON.stringify({ sub: 'a', ttlSeconds: 1e308 })]));
  const b = rand();
  if (b < 0.5) headers.push(`Content-Length: ${body.length}`);
  else if (b < 0.6) headers.push(`Content-Length: ${body.length + 100}`); // a body that never completes
  else if (b < 0.7) headers.push('Transfer-Encoding: chunked'), (body = Buffer.from(pick(['5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', '5\r\nhel', 'ffffffffffffffff\r\n'])));
  else if (b < 0.75) headers.push('Content-Length: -1');
  const bytes = Buffer.concat([Buffer.from(`${method} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
  return { bytes, endAfterWrite: rand() < 0.2 };
}

test('raw HTTP requests on every path: always an answer or a close, never a crash', () =>
  withSeed(async () => {
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 15; batch++) {
      const results = await Promise.all(
        Array.from({ length: 40 }, () => {
          const { bytes, endAfterWrite } = randomRequest(gw.port);
          return rawHttp(gw.port, bytes, { endAfterWrite, timeoutMs: 4000 });
        }),
      );
      for (const status of results) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expectAlive();
    }
    // Handled errors are fine; an exception inside a handler (a 500) is a bug.
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(gw.stderr().split('\n').filter((line) => /"event":"(http-error|upgrade-error|message-error)"/.test(line))).toEqual([]);
  }));

test('afterwards a normal client, @connections and the dev endpoints still work; stop is clean under load', () =>
  withSeed(async () => {
    const logBefore = gw.stderr().length;
    const client: TestClient = await connect(`ws://127.0.0.1:${gw.port}/?token=good-after`);
    const reply = await client.request<{ event: { requestContext: { connectionId: string; routeKey: string } } }>({ action: 'constructor', id: 'after' });
    expect(reply.event.requestContext.routeKey).toBe('$default');
    const sdk = new ApiGatewayManagementApiClient({ endpoint: `http://127.0.0.1:${gw.port}/local`, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    await sdk.send(new PostToConnectionCommand({ ConnectionId: reply.event.requestContext.connectionId, Data: Buffer.from('still here') }));
    expect(await client.next()).toBe('still here');
    sdk.destroy();
    const config = await fetch(`http://127.0.0.1:${gw.port}/dev/config`);
    expect(config.status).toBe(200);

    // Requests keep arriving while it stops: it still exits 0 and says so.
    const load = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? rawHttp(gw.port, `GET /dev/config HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\n\r\n`, { timeoutMs: 8000 })
        : connect(`ws://127.0.0.1:${gw.port}/?token=good-late${i}`).then(
            (c) => c.request({ action: 'ping', id: String(i) }).catch(() => undefined),
            () => undefined,
          ),
    );
    const stopped = gw.stop();
    await Promise.allSettled(load);
    expect(await stopped).toEqual({ code: 0, stopped: true });
    const log = gw.stderr().slice(logBefore).split('\n');
    expect(log.filter((line) => /"event":"(http-error|upgrade-error|stop-error)"/.test(line))).toEqual([]);
  }));
