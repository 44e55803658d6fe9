import WebSocket from 'ws';
import { connect, type WebSocketLike, type CloseReason, type Environment, type EnvironmentEvent, type WskitClient, type WskitError } from '../src';
import { makeToken, TestServer } from './support/test-server';
import { sleep, waitFor } from './support/wait';

const fastReconnect = { minDelayMs: 20, maxDelayMs: 200, minUptimeMs: 500 };

describe('resilience (own protocol server)', () => {
  let server: TestServer;
  const clients: WskitClient[] = [];
  const open = (extra: Partial<Parameters<typeof connect>[0]> = {}) => {
    const client = connect({ url: server.url, token: makeToken({ sub: 'alice' }), WebSocket, reconnect: fastReconnect, ...extra });
    clients.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.stop();
  });

  test('a server that stops answering pings is declared dead and replaced', async () => {
    server = await TestServer.start();
    const client = open({ heartbeat: { intervalMs: 100, timeoutMs: 150 } });
    await client.whenOpen();
    const first = client.connectionId;
    const reasons: CloseReason[] = [];
    client.on('reconnecting', ({ reason }) => reasons.push(reason));
    server.answerPings = false;
    await waitFor(() => reasons.length > 0, 'heartbeat timeout');
    expect(reasons[0]!.kind).toBe('heartbeat-timeout');
    server.answerPings = true;
    await waitFor(() => client.state === 'open' && client.connectionId !== first, 'a new connection');
    // the dead socket was dropped on our side, so the server sees it close
    await waitFor(() => server.connections[0]!.closedAt !== undefined, 'old socket closed');
  });

  test('offline sends are queued in order, a full queue drops the oldest and reports it', async () => {
    server = await TestServer.start();
    const client = open({ maxQueueSize: 5 });
    await client.whenOpen();
    await server.kill();
    await waitFor(() => client.state === 'reconnecting', 'reconnecting');
    const dropped: string[] = [];
    client.on('dropped', ({ fields, error }) => dropped.push(`${String(fields.data)}:${error.code}`));
    const results = Array.from({ length: 8 }, (_, i) =>
      client.publish('public:q', i).then(
        () => `ok:${i}`,
        (e: WskitError) => `${e.code}:${i}`,
      ),
    );
    expect(client.queuedCount).toBe(5);
    expect(dropped).toEqual(['0:QUEUE_FULL', '1:QUEUE_FULL', '2:QUEUE_FULL']);
    await server.restart();
    expect(await Promise.all(results)).toEqual([
      'QUEUE_FULL:0', 'QUEUE_FULL:1', 'QUEUE_FULL:2', 'ok:3', 'ok:4', 'ok:5', 'ok:6', 'ok:7',
    ]);
    const conn = server.live[0]!;
    expect(conn.actions).toEqual(['hello', 'publish', 'publish', 'publish', 'publish', 'publish']);
  });

  test('drop-newest keeps the queue and rejects the new send', async () => {
    server = await TestServer.start();
    const client = open({ maxQueueSize: 1, queueOverflow: 'drop-newest' });
    await client.whenOpen();
    await server.kill();
    await waitFor(() => client.state === 'reconnecting', 'reconnecting');
    const first = client.request('ping');
    await expect(client.request('ping', { n: 2 })).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    await server.restart();
    await expect(first).resolves.toMatchObject({ type: 'pong' });
  });

  test('in-flight requests reject with CONNECTION_LOST when the connection drops', async () => {
    server = await TestServer.start();
    const client = open();
    await client.whenOpen();
    server.frozen = true;
    const inFlight = client.request('ping').catch((e: WskitError) => e.code);
    await sleep(30);
    await server.kill();
    expect(await inFlight).toBe('CONNECTION_LOST');
  });

  test('backoff grows with full jitter, gives up after maxRetries with state closed', async () => {
    server = await TestServer.start();
    const port = server.port;
    await server.stop();
    const client = connect({
      url: `ws://127.0.0.1:${port}`,
      token: makeToken({ sub: 'alice' }),
      WebSocket,
      reconnect: { minDelayMs: 10, maxDelayMs: 40, factor: 2, maxRetries: 4 },
    });
    clients.push(client);
    const delays: number[] = [];
    client.on('reconnecting', ({ delayMs }) => delays.push(delayMs ?? -1));
    const closed = new Promise<CloseReason>((resolve) => client.once('closed', ({ reason }) => resolve(reason)));
    const reason = await closed;
    expect(reason.kind).toBe('max-retries');
    expect(reason.message).toMatch(/ECONNREFUSED/);
    expect(delays).toHaveLength(4);
    [10, 20, 40, 40].forEach((ceiling, i) => expect(delays[i]).toBeLessThanOrEqual(ceiling));
    expect(client.state).toBe('closed');
    server = await TestServer.start();
  });

  test('a 401 with a fixed token closes with reason unauthorized', async () => {
    server = await TestServer.start();
    const client = open({ token: 'not-a-token' });
    const reason = await new Promise<CloseReason>((resolve) => client.once('closed', ({ reason }) => resolve(reason)));
    expect(reason).toMatchObject({ kind: 'unauthorized', status: 401 });
  });

  test('a 401 makes a token provider run again (Node with ws sees the status)', async () => {
    server = await TestServer.start();
    const reasons: string[] = [];
    const client = open({
      token: ({ reason }) => {
        reasons.push(reason);
        return reasons.length === 1 ? makeToken({ sub: 'alice', exp: 1000 }) : makeToken({ sub: 'alice' });
      },
    });
    await client.whenOpen();
    expect(reasons).toEqual(['initial', 'unauthorized']);
    expect(server.refused).toBe(1);
  });

  test('browser-like runtimes (no status on a refused upgrade): repeated failures before open refresh the token', async () => {
    server = await TestServer.start();
    // A browser's WebSocket reports a refused upgrade as a bare error event + close 1006.
    class OpaqueWebSocket implements WebSocketLike {
      private readonly inner: WebSocket;
      onopen: ((event: unknown) => void) | null = null;
      onmessage: ((event: unknown) => void) | null = null;
      onclose: ((event: unknown) => void) | null = null;
      onerror: ((event: unknown) => void) | null = null;
      constructor(url: string) {
        this.inner = new WebSocket(url);
        this.inner.onopen = (event) => this.onopen?.(event);
        this.inner.onmessage = (event) => this.onmessage?.({ data: event.data });
        this.inner.onclose = (event) => this.onclose?.({ code: event.code, reason: event.reason });
        this.inner.onerror = () => this.onerror?.({ type: 'error' });
      }
      get readyState() {
        return this.inner.readyState;
      }
      send(data: string) {
        this.inner.send(data);
      }
      close(code?: number, reason?: string) {
        this.inner.close(code, reason);
      }
    }
    const reasons: string[] = [];
    const client = open({
      WebSocket: OpaqueWebSocket,
      tokenRefresh: { afterFailuresBeforeOpen: 2 },
      token: ({ reason }) => {
        reasons.push(reason);
        // the first token has a future exp but a signature the server rejects
        return reasons.length === 1 ? makeToken({ sub: 'alice' }).replace(/test$/, 'forged') : makeToken({ sub: 'alice' });
      },
    });
    await client.whenOpen();
    expect(reasons).toEqual(['initial', 'connect-failures']);
    expect(server.refused).toBe(2);
  });

  test('a server close 1001 (idle, 2 h cap) reconnects and restores subscriptions', async () => {
    server = await TestServer.start({ idleTimeoutMs: 300 });
    const client = open({ heartbeat: false, rotateAt: false });
    const got: unknown[] = [];
    await client.subscribe('public:s', (d) => got.push(d)).ready;
    const reasons: CloseReason[] = [];
    client.on('reconnecting', ({ reason }) => reasons.push(reason));
    await waitFor(() => reasons.length === 1, 'idle close');
    expect(reasons[0]).toMatchObject({ kind: 'server-close', code: 1001, message: 'Going away' });
    await waitFor(() => client.state === 'open' && server.subscribers('public:s').length === 1, 'resubscribed');
    server.push('public:s', 'after');
    await waitFor(() => got.length === 1, 'delivery after reconnect');
  });

  test('a short idle timeout: the heartbeat keeps the connection alive', async () => {
    server = await TestServer.start({ idleTimeoutMs: 400 });
    const client = open({ heartbeat: { intervalMs: 150, timeoutMs: 1000 } });
    await client.whenOpen();
    const id = client.connectionId;
    let drops = 0;
    client.on('reconnecting', () => drops++);
    await sleep(1500);
    expect(drops).toBe(0);
    expect(client.connectionId).toBe(id);
    expect(server.connections).toHaveLength(1);
    expect(server.connections[0]!.actions.filter((a) => a === 'ping').length).toBeGreaterThanOrEqual(8);
  });

  test('offline pauses reconnection; online reconnects at once; visible checks liveness', async () => {
    server = await TestServer.start();
    let online = true;
    const listeners = new Set<(e: EnvironmentEvent) => void>();
    const environment: Environment = {
      isOnline: () => online,
      subscribe(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const fire = (e: EnvironmentEvent) => listeners.forEach((l) => l(e));
    const client = open({ environment, reconnect: { minDelayMs: 10_000, maxDelayMs: 10_000 } });
    await client.whenOpen();
    const reasons: string[] = [];
    client.on('reconnecting', ({ reason }) => reasons.push(reason.kind));
    online = false;
    fire('offline');
    await server.kill();
    await waitFor(() => reasons.includes('offline'), 'paused while offline');
    await server.restart();
    await sleep(300);
    expect(client.state).toBe('reconnecting');
    expect(server.connections).toHaveLength(1); // no attempt while offline
    online = true;
    const started = Date.now();
    fire('online');
    await client.whenOpen();
    expect(Date.now() - started).toBeLessThan(2000); // not the 10 s backoff
    // visibility: a silently dead socket is found by an immediate ping
    const pingsBefore = server.live[0]!.actions.filter((a) => a === 'ping').length;
    fire('visible');
    await waitFor(() => server.live[0]!.actions.filter((a) => a === 'ping').length === pingsBefore + 1, 'liveness ping');
    expect(listeners.size).toBe(1);
    await client.close();
    expect(listeners.size).toBe(0);
  });
});
