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

  test("a topic's last handler removed and another added while its subscribe is in flight: the new one gets the messages", async () => {
    const client = open();
    await client.whenOpen();
    const got: string[] = [];
    const first = client.subscribe<string>('public:toggle', () => got.push('first'));
    first(); // before the ack: the subscribe is still in flight
    const second = client.subscribe<string>('public:toggle', (data) => got.push(data));
    await second.ready;
    await waitFor(() => server.subscribers('public:toggle').length === 1, 'the server subscription');
    server.publishMessage('public:toggle', 'one');
    server.publishMessage('public:toggle', 'two');
    await waitFor(() => got.length >= 2, 'two messages', 3000);
    expect(got).toEqual(['one', 'two']);
    const sent = server.connections[0]!.actions.filter((action) => action === 'subscribe' || action === 'unsubscribe');
    expect(sent).toEqual(['subscribe']);
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
