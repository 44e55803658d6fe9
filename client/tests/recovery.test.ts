/**
 * Lossless resume and the HTTP fallback against the tests' own protocol server, which
 * speaks the recovery contract (seq, subscribe since, history, HTTP API). The scenarios are
 * in support/recovery-scenarios.ts, written so they can be pointed at another server.
 */
import WebSocket from 'ws';
import { connect, type ClientEvents, type WskitClient } from '../src';
import {
  degradedOverHttp,
  dropsWhileStreaming,
  gapOlderThanRetention,
  outOfOrder,
  rotationUnderLoad,
  Scenario,
  type RecoveryTarget,
} from './support/recovery-scenarios';
import { makeToken, TestServer } from './support/test-server';
import { sleep, waitFor } from './support/wait';

jest.setTimeout(60_000);

describe('recovery scenarios (own protocol server)', () => {
  let server: TestServer;
  let scenario: Scenario;
  let topics = 0;
  beforeEach(async () => {
    server = await TestServer.start({ retain: 50 });
    const target: RecoveryTarget = {
      wsUrl: server.url,
      httpUrl: server.httpUrl,
      token: (sub) => makeToken({ sub }),
      topic: (name) => `public:${name}-${++topics}`,
      retain: server.retain,
      scramble: (on) => {
        // each delivery 0-40 ms late: consecutive messages overtake each other
        server.deliveryDelayMs = on ? () => Math.floor(Math.random() * 40) : undefined;
      },
    };
    scenario = new Scenario(target);
  });
  afterEach(async () => {
    await scenario.close();
    await server.stop();
  });

  test('the network drops 5 times while two publishers stream 50 msg/s: every message once, in order', async () => {
    const { recoveredGaps } = await dropsWhileStreaming(scenario);
    expect(recoveredGaps).toBeGreaterThan(0); // messages published while it was away came from history
  });

  test('rotation under load: every message once, in order, no reconnect', async () => {
    await rotationUnderLoad(scenario);
  });

  test('a gap older than the retention: a gap event for exactly the lost messages, then the rest in order', async () => {
    await gapOlderThanRetention(scenario);
  });

  test('upgrades refused: degraded over HTTP, everything received, back to the WebSocket when allowed', async () => {
    await degradedOverHttp(scenario);
    expect(server.httpRequests.some((r) => r.startsWith('GET /topics/'))).toBe(true);
    expect(server.httpRequests.filter((r) => r.startsWith('POST /topics/'))).toHaveLength(5);
  });

  test('out-of-order delivery from two publishers is handed out in seq order', async () => {
    await outOfOrder(scenario);
  });
});

describe('recovery details (own protocol server)', () => {
  let server: TestServer;
  const clients: WskitClient[] = [];
  const open = (extra: Partial<Parameters<typeof connect>[0]> = {}) => {
    const client = connect({ url: server.url, token: makeToken({ sub: 'alice' }), WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 100 }, ...extra });
    clients.push(client);
    return client;
  };
  beforeEach(async () => {
    server = await TestServer.start({ retain: 1000 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.stop();
  });

  test('a first subscribe starts at the latest message; { since } replays what is retained, paging', async () => {
    for (let n = 1; n <= 7; n++) server.push('public:replay', n);
    const client = open({ recovery: { pageSize: 3 } });
    const latest: number[] = [];
    await client.subscribe<number>('public:latest', (n) => latest.push(n)).ready;
    const replayed: number[] = [];
    await client.subscribe<number>('public:replay', (n) => replayed.push(n), { since: 2 }).ready;
    await waitFor(() => replayed.length === 5, 'the replay');
    expect(replayed).toEqual([3, 4, 5, 6, 7]);
    const sent = server.live[0]!.frames.filter((f) => f.action === 'history').map((f) => [f.since, f.limit]);
    expect(sent).toEqual([[2, 3], [5, 3]]); // two pages, each from the last seq received
    server.push('public:replay', 8);
    await waitFor(() => replayed.length === 6, 'live after the replay');
    await sleep(100);
    expect(replayed).toEqual([3, 4, 5, 6, 7, 8]);
    expect(latest).toEqual([]);
  });

  test('a resubscribe sends since = the last seq handed out; nothing missed means no history request', async () => {
    const client = open();
    const got: number[] = [];
    await client.subscribe<number>('public:resume', (n) => got.push(n)).ready;
    server.push('public:resume', 1);
    server.push('public:resume', 2);
    await waitFor(() => got.length === 2, 'two messages');
    const first = server.live[0]!;
    server.dropAll();
    await waitFor(() => server.connections.length === 2 && server.connections[1]!.topics.has('public:resume'), 'resubscribed');
    expect(first.closedAt).toBeDefined();
    const frames = server.connections[1]!.frames;
    expect(frames.find((f) => f.action === 'subscribe')).toMatchObject({ topic: 'public:resume', since: 2 });
    await sleep(100);
    expect(frames.some((f) => f.action === 'history')).toBe(false);
  });

  test('a hole that never fills is fetched after reorderWaitMs; a message gone for good is reported, not skipped silently', async () => {
    const client = open({ recovery: { reorderWaitMs: 100 } });
    const gaps: Array<ClientEvents['gap']> = [];
    client.on('gap', (gap) => gaps.push(gap));
    const got: number[] = [];
    await client.subscribe<number>('public:hole', (n) => got.push(n)).ready;
    // seq 1 and 2 are published, but only 2 is delivered live: 1 comes from history
    const conn = server.live[0]!;
    conn.topics.delete('public:hole');
    server.push('public:hole', 1);
    conn.topics.add('public:hole');
    server.push('public:hole', 2);
    await waitFor(() => got.length === 2, 'the hole filled');
    expect(got).toEqual([1, 2]);
    expect(client.stats.recoveredGaps).toBe(1);
    // a message the server never stores (seq 4 pushed by hand, seq 3 missing everywhere)
    conn.socket.send(JSON.stringify({ type: 'message', topic: 'public:hole', data: 4, mid: 'm4', ts: Date.now(), seq: 4 }));
    await waitFor(() => gaps.length === 1, 'the gap reported', 5000);
    expect(gaps).toEqual([{ topic: 'public:hole', from: 3, to: 3, reason: 'unavailable' }]);
    expect(got).toEqual([1, 2, 4]);
  });

  test('a message the server numbered and is still writing is waited for, not given up, however long the fetches take', async () => {
    const client = open({ recovery: { reorderWaitMs: 50 } });
    const gaps: Array<ClientEvents['gap']> = [];
    client.on('gap', (gap) => gaps.push(gap));
    const got: number[] = [];
    await client.subscribe<number>('public:writing', (n) => got.push(n)).ready;
    server.push('public:writing', 1);
    const slow = server.numberOnly('public:writing', 2); // a publisher between its two writes
    server.push('public:writing', 3);
    // Far longer than the fetches a closed hole gets (50 + 100 + 200 + 400 ms): the server
    // keeps answering `complete: false`, so the client keeps asking.
    await sleep(2500);
    expect(got).toEqual([1]);
    slow.store();
    await waitFor(() => got.length === 3, 'the message once written');
    expect(got).toEqual([1, 2, 3]);
    expect(gaps).toEqual([]);
  });

  test('HTTP 429 in degraded mode: the poll waits Retry-After and goes on', async () => {
    server.refuseUpgradesWith = 503;
    const client = open({ httpUrl: server.httpUrl, degraded: { afterFailures: 1, pollIntervalMs: 50 } });
    const got: number[] = [];
    await client.subscribe<number>('public:limited', (n) => got.push(n)).ready;
    expect(client.state).toBe('degraded');
    server.httpRateLimited = 1;
    server.push('public:limited', 1);
    const started = Date.now();
    await waitFor(() => got.length === 1, 'the message after the 429', 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // Retry-After: 1
  });
});
