import { captureLogs, lambdaContext, messageEvent, newConnectionId, type EventOptions } from '@wskit/testing/events';
import { itemsOfConnection } from '@wskit/testing/dynamo';
import { handler } from '../src';

/** The handler as a new execution environment loads it (settings are read once per environment). */
function freshHandler(): typeof handler {
  let loaded: typeof handler | undefined;
  jest.isolateModules(() => {
    loaded = (require('../src') as typeof import('../src')).handler;
  });
  return loaded!;
}
import { useHarness } from './support';

jest.setTimeout(30_000);
const harness = useHarness();

async function connect(userId: string, options: { scope?: string; live?: boolean } = {}): Promise<EventOptions> {
  const { store, api } = harness();
  const connectionId = newConnectionId();
  await store.putConnection({ connectionId, userId, connectedAt: Date.now() });
  if (options.live !== false) api.connect(connectionId);
  return { connectionId, userId, scope: options.scope ?? '' };
}

async function send(frame: unknown, session: EventOptions, extra: { isBase64Encoded?: boolean; timeoutMs?: number } = {}) {
  const body = typeof frame === 'string' ? frame : JSON.stringify(frame);
  const { result, lines } = await captureLogs(() =>
    handler(messageEvent(body, { ...session, isBase64Encoded: extra.isBase64Encoded }), lambdaContext(extra.timeoutMs)),
  );
  expect(result.statusCode).toBe(200);
  return { reply: JSON.parse(result.body!) as Record<string, unknown>, lines };
}

it('hello answers welcome with the connectionId, userId and limits, echoing the id', async () => {
  const me = await connect('alice');
  const { reply } = await send({ action: 'hello', id: 'h1' }, me);
  expect(reply).toEqual({
    type: 'welcome',
    id: 'h1',
    connectionId: me.connectionId,
    userId: 'alice',
    limits: { maxMessageBytes: 131072, maxFrameBytes: 32768, idleTimeoutSeconds: 600, maxConnectionSeconds: 7200 },
  });
});

it('ping answers pong echoing ts, with or without id', async () => {
  const me = await connect('alice');
  expect((await send({ action: 'ping', id: 'p', ts: 1234.5 }, me)).reply).toEqual({ type: 'pong', id: 'p', ts: 1234.5 });
  expect((await send({ action: 'ping' }, me)).reply).toEqual({ type: 'pong' });
  expect((await send({ action: 'ping', ts: 'now' }, me)).reply).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
});

it('subscribe follows the topic policy: own user topic, public prefixes, scope grants; deny otherwise', async () => {
  const me = await connect('alice', { scope: 'openid topics:team. subscribe:feed/' });
  const { state, store } = harness();
  for (const topic of ['user:alice', 'public:news', 'lobby.1', 'team.a', 'team.b/x', 'feed/eu']) {
    expect((await send({ action: 'subscribe', id: topic, topic }, me)).reply).toEqual({ type: 'ack', id: topic, action: 'subscribe', topic, seq: 0 });
  }
  const before = await state();
  for (const topic of ['user:bob', 'private', 'teams', 'feed', 'Public:news', 'team']) {
    expect((await send({ action: 'subscribe', id: 'x', topic }, me)).reply).toEqual({
      type: 'error',
      id: 'x',
      code: 'FORBIDDEN',
      message: `not allowed to subscribe to topic "${topic}"`,
    });
  }
  expect(await state()).toEqual(before);
  expect((await store.getConnection(me.connectionId!))?.topics).toEqual(
    ['feed/eu', 'lobby.1', 'public:news', 'team.a', 'team.b/x', 'user:alice'].sort(),
  );
  // subscribe:<prefix> does not grant publishing.
  expect((await send({ action: 'publish', id: 'pf', topic: 'feed/eu', data: 1 }, me)).reply).toMatchObject({ code: 'FORBIDDEN', id: 'pf' });
});

it('unsubscribe removes the subscription and answers ack, idempotently', async () => {
  const me = await connect('bob');
  const { store } = harness();
  await send({ action: 'subscribe', topic: 'public:u' }, me);
  expect((await send({ action: 'unsubscribe', id: 'u1', topic: 'public:u' }, me)).reply).toEqual({
    type: 'ack',
    id: 'u1',
    action: 'unsubscribe',
    topic: 'public:u',
  });
  expect((await send({ action: 'unsubscribe', id: 'u2', topic: 'public:u' }, me)).reply).toMatchObject({ type: 'ack', id: 'u2' });
  expect((await store.getConnection(me.connectionId!))?.topics).toEqual([]);
  const subscribers: string[] = [];
  for await (const page of store.subscribers('public:u', { consistentRead: true })) subscribers.push(...page.map((s) => s.connectionId));
  expect(subscribers).toEqual([]);
});

it('publish delivers a message with a unique mid and the next seq to every subscriber and acks with counts', async () => {
  const { api, db } = harness();
  const publisher = await connect('carol');
  const a = await connect('dave');
  const b = await connect('erin');
  const gone = await connect('frank', { live: false });
  for (const s of [a, b, gone]) await send({ action: 'subscribe', topic: 'public:room' }, s);

  const before = Date.now();
  const { reply } = await send({ action: 'publish', id: 'm1', topic: 'public:room', data: { text: 'hi ✓', n: [1, 2] } }, publisher);
  expect(reply).toEqual({
    type: 'ack',
    id: 'm1',
    action: 'publish',
    topic: 'public:room',
    mid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    seq: 1,
    delivered: 2,
    gone: 1,
    failed: 0,
  });
  for (const s of [a, b]) {
    const [delivered] = api.delivered(s.connectionId!);
    const message = JSON.parse(delivered!);
    expect(message).toEqual({ type: 'message', topic: 'public:room', data: { text: 'hi ✓', n: [1, 2] }, mid: reply.mid, ts: expect.any(Number), seq: 1 });
    expect(message.ts).toBeGreaterThanOrEqual(before);
  }
  expect(api.delivered(publisher.connectionId!)).toEqual([]);
  // The gone subscriber and its subscription are cleaned up.
  expect(itemsOfConnection(await db.dump(), gone.connectionId!)).toEqual([]);

  const second = await send({ action: 'sendmessage', id: 'm2', topic: 'public:room', data: null }, publisher);
  // One CloudWatch EMF line per fan-out, under the Service dimension of this function.
  const emf = second.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => '_aws' in line);
  expect(emf).toEqual([
    expect.objectContaining({
      _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: 'wskit', Dimensions: [['Service']] })] }),
      Service: 'wskit-message',
      topic: 'public:room',
      mid: second.reply.mid,
      seq: 2,
      Recipients: 2,
      Delivered: 2,
      Gone: 0,
      Failed: 0,
    }),
  ]);
  expect(second.reply).toMatchObject({ type: 'ack', id: 'm2', action: 'sendmessage', seq: 2, delivered: 2, gone: 0 });
  expect(second.reply.mid).not.toBe(reply.mid);
  expect(JSON.parse(api.delivered(a.connectionId!)[1]!)).toMatchObject({ data: null, mid: second.reply.mid });
});

it('publish to a topic with no subscribers acks with zero counts; forbidden publish sends nothing', async () => {
  const { api } = harness();
  const me = await connect('gina');
  expect((await send({ action: 'publish', topic: 'public:empty', data: 'x' }, me)).reply).toMatchObject({ type: 'ack', delivered: 0, gone: 0, failed: 0 });
  const requests = api.requests.length;
  expect((await send({ action: 'publish', id: 'no', topic: 'user:someone', data: 'x' }, me)).reply).toMatchObject({ type: 'error', id: 'no', code: 'FORBIDDEN' });
  expect(api.requests.length).toBe(requests);
});

it('refuses a message whose frame would not fit a history page (128 KB - 2 KB) with PAYLOAD_TOO_LARGE', async () => {
  const me = await connect('hank');
  const { state } = harness();
  const before = await state();
  const over = 'x'.repeat(129_024 - 100);
  expect((await send({ action: 'publish', id: 'big', topic: 'public:big', data: over }, me)).reply).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', id: 'big' });
  expect(await state()).toEqual(before);
  const fits = 'x'.repeat(129_024 - 250);
  expect((await send({ action: 'publish', id: 'fits', topic: 'public:big', data: fits }, me)).reply).toMatchObject({ type: 'ack', id: 'fits', seq: 1 });
  const tooBigBody = JSON.stringify({ action: 'publish', id: 'bigger', topic: 'public:big', data: 'y'.repeat(131_072) });
  expect((await send(tooBigBody, me)).reply).toMatchObject({ type: 'error', code: 'PAYLOAD_TOO_LARGE' });
});

it('an expired session gets TOKEN_EXPIRED except for ping and hello', async () => {
  const { state } = harness();
  const base = await connect('ivan');
  // Within the clock tolerance (5 s) a token still works; past it, not.
  expect((await send({ action: 'subscribe', id: 'grace', topic: 'user:ivan' }, { ...base, exp: Math.floor(Date.now() / 1000) - 2 })).reply).toMatchObject({ type: 'ack' });
  const expired = { ...base, exp: Math.floor(Date.now() / 1000) - 10 };
  const before = await state();
  for (const frame of [
    { action: 'subscribe', id: 'e1', topic: 'user:ivan' },
    { action: 'unsubscribe', id: 'e2', topic: 'user:ivan' },
    { action: 'history', id: 'e5', topic: 'user:ivan' },
    { action: 'publish', id: 'e3', topic: 'user:ivan', data: 1 },
    { action: 'sendmessage', id: 'e4', topic: 'user:ivan', data: 1 },
  ]) {
    const { reply } = await send(frame, expired);
    expect(reply).toMatchObject({ type: 'error', id: frame.id, code: 'TOKEN_EXPIRED' });
    expect(String(reply.message)).toMatch(/reconnect with a fresh token/);
  }
  expect(await state()).toEqual(before);
  expect((await send({ action: 'ping', id: 'p' }, expired)).reply).toEqual({ type: 'pong', id: 'p' });
  // An expiry far outside the Date range is still just expired.
  expect((await send({ action: 'subscribe', id: 'far', topic: 'user:ivan' }, { ...base, exp: -1e300 })).reply).toMatchObject({ code: 'TOKEN_EXPIRED', id: 'far' });
  expect((await send({ action: 'hello', id: 'h' }, expired)).reply).toMatchObject({ type: 'welcome', id: 'h' });
});

it('answers FORBIDDEN without an authorizer context, and for a connection whose row is gone', async () => {
  const me = await connect('judy');
  expect((await send({ action: 'subscribe', id: 'a', topic: 'public:x' }, { ...me, userId: null })).reply).toMatchObject({ code: 'FORBIDDEN', id: 'a' });
  expect((await send({ action: 'ping', id: 'b' }, { ...me, userId: null })).reply).toEqual({ type: 'pong', id: 'b' });
  const ghost = { connectionId: newConnectionId(), userId: 'judy' };
  const { reply } = await send({ action: 'subscribe', id: 'g', topic: 'public:x' }, ghost);
  expect(reply).toMatchObject({ type: 'error', id: 'g', code: 'FORBIDDEN', message: expect.stringMatching(/reconnect/) });
});

it('refuses binary frames and unknown actions with the protocol codes', async () => {
  const me = await connect('kate');
  expect((await send('AAEC', me, { isBase64Encoded: true })).reply).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  expect((await send({ action: 'dance', id: 'd' }, me)).reply).toMatchObject({ type: 'error', id: 'd', code: 'UNKNOWN_ACTION' });
});

it('turns an unexpected failure into INTERNAL with the request id, logged and counted', async () => {
  const me = await connect('leo');
  const saved = process.env.WSKIT_TABLE_NAME;
  process.env.WSKIT_TABLE_NAME = 'no-such-table';
  try {
    const broken = freshHandler();
    const event = messageEvent(JSON.stringify({ action: 'subscribe', id: 'i1', topic: 'public:x' }), me);
    const { result, lines } = await captureLogs(() => broken(event, lambdaContext()));
    const reply = JSON.parse(result.body!);
    expect(reply).toEqual({ type: 'error', id: 'i1', code: 'INTERNAL', message: `internal error, request id ${event.requestContext.requestId}` });
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.filter((l) => l.level === 'ERROR')).toEqual([
      expect.objectContaining({ requestId: event.requestContext.requestId, connectionId: me.connectionId, frameId: 'i1' }),
    ]);
    // The rate limit could not be checked either: the frame was let through, and that is said.
    expect(logged.filter((l) => l.level === 'WARN').map((l) => l.message)).toEqual([expect.stringMatching(/^rate limit not checked/)]);
    expect(logged.filter((l) => l._aws)).toEqual([expect.objectContaining({ Service: 'wskit-message', Faults: 1 })]);
  } finally {
    process.env.WSKIT_TABLE_NAME = saved;
  }
});

describe('rate limits', () => {
  it('limits the frames of one connection, whatever they are, and says when to retry', async () => {
    const me = await connect('ratty');
    const other = await connect('ratty');
    const replies: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 125; i++) replies.push((await send(i % 2 ? { action: 'ping', id: `p${i}` } : 'not json', me)).reply);
    const limited = replies.filter((r) => r.code === 'RATE_LIMITED');
    expect(limited).toHaveLength(5);
    expect(replies.slice(0, 120).some((r) => r.code === 'RATE_LIMITED')).toBe(false);
    for (const r of limited) {
      expect(r.retryAfterMs).toBeGreaterThan(0);
      expect(r.retryAfterMs).toBeLessThanOrEqual(10_000);
      expect(String(r.message)).toMatch(/at most 120 per 10 s; retry after \d+ ms/);
    }
    expect(replies[121]).toMatchObject({ type: 'error', id: 'p121', code: 'RATE_LIMITED' });
    // Another connection of the same user has its own budget.
    expect((await send({ action: 'ping', id: 'o' }, other)).reply).toEqual({ type: 'pong', id: 'o' });
  });

  it('limits the publishes of one user over all their connections, and counts the refusals', async () => {
    const a = await connect('loud');
    const b = await connect('loud');
    const acks: Array<Record<string, unknown>> = [];
    let metrics: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 104; i++) {
      const { reply, lines } = await send({ action: 'publish', id: `m${i}`, topic: 'public:loud', data: i }, i % 2 ? a : b);
      acks.push(reply);
      metrics = metrics.concat(lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.RateLimited === 1));
    }
    expect(acks.filter((r) => r.type === 'ack')).toHaveLength(100);
    expect(acks.slice(100).map((r) => r.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(String(acks[103]!.message)).toMatch(/too many publishes by this user/);
    expect(metrics).toHaveLength(4);
    // Someone else still publishes.
    expect((await send({ action: 'publish', id: 'q', topic: 'public:loud', data: 'hi' }, await connect('quiet'))).reply).toMatchObject({ type: 'ack' });
  });
});

describe('client reports', () => {
  const report = {
    clientVersion: '0.1.0',
    periodMs: 60_000,
    counters: { reconnects: 2, failedConnects: 1, messagesReceived: 40, recoveredGaps: 1, unrecoveredGaps: 0 },
    rttMs: { p50: 45, p95: 120, count: 12 },
    qualityMs: { good: 50_000, degraded: 8_000, poor: 2_000 },
  };

  it('become CloudWatch metrics per client version and in total, never per user; two a minute per connection', async () => {
    const me = await connect('reporter');
    const first = await send({ action: 'report', id: 'r1', report }, me);
    expect(first.reply).toEqual({ type: 'ack', id: 'r1', action: 'report' });
    const [line] = first.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => '_aws' in l);
    expect(line).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'wskit', Dimensions: [['Service'], ['Service', 'ClientVersion']] }] },
      Service: 'wskit-message',
      ClientVersion: '0.1.0',
      ClientReports: 1,
      ClientReconnects: 2,
      ClientFailedConnects: 1,
      ClientMessagesReceived: 40,
      ClientRecoveredGaps: 1,
      ClientUnrecoveredGaps: 0,
      ClientRttP50: 45,
      ClientRttP95: 120,
      ClientQualityGood: 50_000,
      ClientQualityDegraded: 8_000,
      ClientQualityPoor: 2_000,
    });
    expect(JSON.stringify(line)).not.toContain('reporter');
    expect((await send({ action: 'report', id: 'r2', report }, me)).reply).toMatchObject({ type: 'ack' });
    expect((await send({ action: 'report', id: 'r3', report }, me)).reply).toMatchObject({ type: 'error', id: 'r3', code: 'RATE_LIMITED' });
    expect((await send({ action: 'report', id: 'bad', report: { ...report, clientVersion: 'a b' } }, me)).reply).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
