import WebSocket from 'ws';
import { connect, WskitError, type WskitClient } from '../src';
import { makeToken, TestServer } from './support/test-server';
import { sleep, waitFor } from './support/wait';

describe('client basics (own protocol server)', () => {
  let server: TestServer;
  const clients: WskitClient[] = [];
  const open = (extra: Partial<Parameters<typeof connect>[0]> = {}) => {
    const client = connect({ url: server.url, token: makeToken({ sub: 'alice' }), WebSocket, ...extra });
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    server = await TestServer.start();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.stop();
  });

  test('connects, says hello and reports the connectionId', async () => {
    const client = open();
    const states: string[] = [];
    client.on('state', ({ state }) => states.push(state));
    const opened = new Promise<{ connectionId: string; userId?: string }>((resolve) => client.once('open', resolve));
    expect(client.state).toBe('connecting');
    const event = await opened;
    expect(event.connectionId).toBe(server.connections[0]!.id);
    expect(event.userId).toBe('alice');
    expect(client.connectionId).toBe(event.connectionId);
    expect(states).toEqual(['open']);
    expect(server.connections[0]!.actions).toEqual(['hello']);
  });

  test('request resolves with the reply; an error reply rejects with the server code', async () => {
    const client = open();
    const frames: string[] = [];
    client.on('frame', ({ direction, text }) => frames.push(`${direction} ${JSON.parse(text).type ?? JSON.parse(text).action}`));
    const pong = await client.request('ping', { ts: 42 });
    expect(frames).toEqual(['out hello', 'in welcome', 'out ping', 'in pong']);
    expect(pong).toMatchObject({ type: 'pong', ts: 42 });
    const failure = await client.request('nope').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WskitError);
    expect((failure as WskitError).code).toBe('UNKNOWN_ACTION');
    expect((failure as WskitError).fromServer).toBe(true);
  });

  test('a request without a reply rejects with TIMEOUT after its timeout, others still work', async () => {
    server.answerPings = false;
    const client = open({ heartbeat: false });
    await client.whenOpen();
    const started = Date.now();
    const failure = (await client.request('ping', {}, { timeoutMs: 200 }).catch((e: unknown) => e)) as WskitError;
    expect(failure.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(client.request('subscribe', { topic: 'public:a' })).resolves.toMatchObject({ type: 'ack' });
    expect(client.state).toBe('open');
  });

  test('publish reaches subscribers; unsubscribe stops delivery', async () => {
    const a = open();
    const b = open({ token: makeToken({ sub: 'bob' }) });
    const got: unknown[] = [];
    const off = a.subscribe('public:chat', (data) => got.push(data));
    await off.ready;
    await b.publish('public:chat', { text: 'hi' });
    await waitFor(() => got.length === 1, 'delivery');
    expect(got).toEqual([{ text: 'hi' }]);
    off();
    await waitFor(() => server.subscribers('public:chat').length === 0, 'server-side unsubscribe');
    await b.publish('public:chat', { text: 'again' });
    await sleep(100);
    expect(got).toHaveLength(1);
  });

  test('several handlers on one topic make one server subscription', async () => {
    const client = open();
    const seen: string[] = [];
    const offs = ['x', 'y', 'z'].map((name) => client.subscribe('public:t', () => seen.push(name)));
    await Promise.all(offs.map((o) => o.ready));
    const conn = server.connections[0]!;
    expect(conn.actions.filter((a) => a === 'subscribe')).toHaveLength(1);
    server.push('public:t', 1);
    await waitFor(() => seen.length === 3, 'three handlers');
    offs[0]!();
    offs[1]!();
    await sleep(50);
    expect(conn.actions.filter((a) => a === 'unsubscribe')).toHaveLength(0);
    offs[2]!();
    offs[2]!(); // idempotent
    await waitFor(() => conn.actions.filter((a) => a === 'unsubscribe').length === 1, 'one unsubscribe');
    // quick toggling settles to the last wish, one operation at a time
    const again = client.subscribe('public:t', () => {});
    again();
    const last = client.subscribe('public:t', () => {});
    await last.ready;
    await sleep(50);
    expect(server.subscribers('public:t')).toHaveLength(1);
  });

  test('a refused subscription rejects ready and reports subscriptionError', async () => {
    const client = open();
    const errors: string[] = [];
    client.on('subscriptionError', ({ topic, error }) => errors.push(`${topic}:${error.code}`));
    const off = client.subscribe('private:x', () => {});
    await expect(off.ready).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(errors).toEqual(['private:x:FORBIDDEN']);
    expect(client.topics()).toEqual([]);
  });

  test('bad arguments fail fast with a message that says what to do', () => {
    expect(() => connect({ url: 'http://x', token: 't', WebSocket })).toThrow(/ws:\/\/ or wss:\/\//);
    expect(() => connect({ url: 'ws://x', token: '', WebSocket })).toThrow(/empty/);
    const client = open();
    expect(() => client.subscribe('bad topic!', () => {})).toThrow(/invalid topic/);
    return expect(client.request('')).rejects.toThrow(/non-empty/);
  });

  test('close() rejects queued and in-flight sends with CLOSED and ends in state closed', async () => {
    server.frozen = true;
    const client = open({ connectTimeoutMs: 5000 });
    const queued = client.request('ping').catch((e: unknown) => e);
    await sleep(50);
    const reasons: string[] = [];
    client.on('closed', ({ reason }) => reasons.push(reason.kind));
    await client.close();
    expect(await queued).toMatchObject({ code: 'CLOSED' });
    expect(client.state).toBe('closed');
    expect(reasons).toEqual(['client']);
    await expect(client.request('ping')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  test('a frame over the server limit is refused locally instead of closing the connection', async () => {
    const client = open();
    await client.whenOpen();
    const failure = (await client.publish('public:big', 'x'.repeat(40_000)).catch((e: unknown) => e)) as WskitError;
    expect(failure.code).toBe('PAYLOAD_TOO_LARGE');
    expect(failure.message).toMatch(/at most 32768/);
    expect(server.connections[0]!.actions).toEqual(['hello']);
    await expect(client.publish('public:big', 'x'.repeat(1000))).resolves.toMatchObject({ type: 'ack' });
    expect(client.state).toBe('open');
  });

  test('no welcome within connectTimeoutMs: the attempt fails and is retried', async () => {
    server.frozen = true;
    const client = open({ connectTimeoutMs: 200, reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
    const reason = await new Promise((resolve) => client.once('reconnecting', (e) => resolve(e.reason)));
    expect(reason).toMatchObject({ kind: 'connect-timeout' });
    server.frozen = false;
    await client.whenOpen();
    expect(server.connections.length).toBeGreaterThanOrEqual(2);
  });
});
