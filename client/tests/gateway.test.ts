/**
 * The client against the REAL local gateway running the built handler bundles: the checks
 * of issue 6 (restarts, token expiry, idle timeout, rotation under load).
 */
import WebSocket from 'ws';
import {
  connect,
  type CloseReason,
  type ConnectOptions,
  type Environment,
  type EnvironmentEvent,
  type RotationReason,
  type TokenRefreshReason,
  type WebSocketLike,
  type WskitClient,
  type WskitError,
} from '../src';
import { localGateway, type GatewayHandle } from './support/gateway';
import { sleep, waitFor } from './support/wait';

jest.setTimeout(180_000);

describe('against the local gateway (real handler bundles)', () => {
  let gw: GatewayHandle | undefined;
  const clients: WskitClient[] = [];
  const open = (options: Omit<ConnectOptions, 'url' | 'WebSocket'>) => {
    const client = connect({ url: gw!.wsUrl, WebSocket, ...options });
    clients.push(client);
    return client;
  };
  const provider = (sub: string, ttlSeconds?: number) => () => gw!.mintToken(sub, ttlSeconds);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await gw?.stop();
    gw = undefined;
  });

  test('killed and restarted 20 times: reconnects each time, subscriptions restored once, nothing delivered twice', async () => {
    gw = await localGateway();
    const reconnect = { minDelayMs: 50, maxDelayMs: 500, minUptimeMs: 200 };
    const subscriber = open({ token: provider('alice'), reconnect });
    const publisher = open({ token: provider('bob'), reconnect });
    const got: Record<string, number[]> = { 'public:a': [], 'public:b': [] };
    const a = subscriber.subscribe<number>('public:a', (n) => got['public:a']!.push(n));
    subscriber.subscribe<number>('public:b', (n) => got['public:b']!.push(n));
    subscriber.subscribe<number>('public:b', () => {}); // a second handler: still one subscription
    await a.ready;
    await publisher.whenOpen();

    for (let round = 0; round < 20; round++) {
      await gw.kill();
      await waitFor(() => subscriber.state !== 'open' && publisher.state !== 'open', `both lost the connection (round ${round})`);
      await gw.restart();
      await Promise.all([subscriber.whenOpen(), publisher.whenOpen()]);
      for (const topic of ['public:a', 'public:b']) {
        // `open` fires after the subscriptions are restored; the ack counts the deliveries
        const ack = await publisher.publish(topic, round);
        expect(ack).toMatchObject({ type: 'ack', delivered: 1 });
      }
      await waitFor(() => got['public:a']!.length === round + 1 && got['public:b']!.length === round + 1, `delivery (round ${round})`);
    }
    await sleep(200);
    const expected = Array.from({ length: 20 }, (_, i) => i);
    expect(got['public:a']).toEqual(expected);
    expect(got['public:b']).toEqual(expected);
    expect(subscriber.stats).toMatchObject({ connections: 21, disconnects: 20, messagesDelivered: 40 });
  });

  test('an expiring token is refreshed ahead of exp and the session continues', async () => {
    gw = await localGateway();
    const refreshes: TokenRefreshReason[] = [];
    const client = open({
      token: async ({ reason }) => {
        refreshes.push(reason);
        return gw!.mintToken('alice', 4);
      },
    });
    const rotations: RotationReason[] = [];
    client.on('rotated', ({ reason }) => rotations.push(reason));
    let drops = 0;
    client.on('reconnecting', () => drops++);
    const got: number[] = [];
    await client.subscribe<number>('public:session', (n) => got.push(n)).ready;
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 10_000) {
      await client.publish('public:session', sent++); // any expired token would answer TOKEN_EXPIRED
      await sleep(200);
    }
    await waitFor(() => got.length === sent, 'every message');
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(refreshes[0]).toBe('initial');
    expect(refreshes.length).toBeGreaterThanOrEqual(3);
    expect(rotations.length).toBeGreaterThanOrEqual(2);
    expect(rotations.every((r) => r === 'token-expiring')).toBe(true);
    expect(drops).toBe(0);
  });

  test('TOKEN_EXPIRED from the message handler: the token is refreshed and the request goes through', async () => {
    gw = await localGateway();
    const refreshes: TokenRefreshReason[] = [];
    const client = open({
      tokenRefresh: { beforeExpiryMs: false },
      token: async ({ reason }) => {
        refreshes.push(reason);
        return gw!.mintToken('alice', refreshes.length === 1 ? 2 : 3600);
      },
    });
    const sent: string[] = [];
    client.on('frame', ({ direction, text, connectionId }) => {
      if (direction === 'out') sent.push(`${connectionId || 'new'}:${String((JSON.parse(text) as { action: string }).action)}`);
    });
    const got: string[] = [];
    await client.subscribe<string>('public:late', (d) => got.push(d)).ready;
    const first = client.connectionId;
    await sleep(2200);
    // delivered to the new connection, and to the old one while it overlaps: received once
    const ack = (await client.publish('public:late', 'after expiry')) as { type: string; delivered: number };
    expect(ack.type).toBe('ack');
    expect(ack.delivered).toBeGreaterThanOrEqual(1);
    expect(refreshes).toEqual(['initial', 'expired']);
    const second = client.connectionId;
    expect(second).not.toBe(first);
    // the publish refused with TOKEN_EXPIRED went out once more, on the new connection only
    expect(sent).toEqual([
      'new:hello', `${first}:subscribe`, `${first}:publish`,
      'new:hello', `${second}:subscribe`, `${second}:publish`,
    ]);
    await waitFor(() => got.length === 1, 'delivery');
    await sleep(300);
    expect(got).toEqual(['after expiry']);
  });

  test('a shortened idle timeout: the heartbeat keeps the connection alive (and without it the gateway closes)', async () => {
    gw = await localGateway({ idleTimeoutMs: 1000 });
    const alive = open({ token: provider('alice'), heartbeat: { intervalMs: 300, timeoutMs: 2000 } });
    const silent = open({ token: provider('bob'), heartbeat: false, reconnect: { minDelayMs: 10_000, maxDelayMs: 10_000 } });
    await Promise.all([alive.whenOpen(), silent.whenOpen()]);
    const id = alive.connectionId;
    const closes: string[] = [];
    alive.on('reconnecting', ({ reason }) => closes.push(`alive:${reason.code}`));
    silent.on('reconnecting', ({ reason }) => closes.push(`silent:${reason.code}:${reason.message}`));
    await sleep(3500);
    // the silent client may have reconnected and idled out again: count, do not list
    expect(closes.filter((c) => c.startsWith('alive'))).toEqual([]);
    expect(closes.filter((c) => c === 'silent:1001:Going away').length).toBeGreaterThanOrEqual(1);
    expect(alive.state).toBe('open');
    expect(alive.connectionId).toBe(id);
    await expect(alive.request('ping')).resolves.toMatchObject({ type: 'pong' });
  });

  test('a shortened maximum duration while a publisher sends 100 messages/s: rotation happens, nothing lost or duplicated', async () => {
    const maxConnectionMs = 8000;
    gw = await localGateway({ maxConnectionMs });
    // Rotate half-way: the overlap needs a new $connect (authorizer + connect handler), a
    // hello and a resubscribe before the old connection reaches the cap, on a busy machine.
    const options = { maxConnectionMs, rotateAt: 0.5 };
    const subscriber = open({ token: provider('alice'), ...options });
    const publisher = open({ token: provider('bob'), ...options });
    const received: number[] = [];
    const rotations = { subscriber: 0, publisher: 0 };
    subscriber.on('rotated', () => rotations.subscriber++);
    publisher.on('rotated', () => rotations.publisher++);
    const drops: string[] = [];
    subscriber.on('reconnecting', ({ reason }) => drops.push(`subscriber:${reason.kind}`));
    publisher.on('reconnecting', ({ reason }) => drops.push(`publisher:${reason.kind}`));
    await subscriber.subscribe<{ seq: number }>('public:stream', ({ seq }) => received.push(seq)).ready;
    await publisher.whenOpen();

    // 100 messages a second, as long as the gateway keeps up: at most 20 unanswered publishes
    // (a loaded machine answers slower than that, and an unbounded backlog would only test it).
    const acks: Promise<unknown>[] = [];
    let inFlight = 0;
    const started = Date.now();
    let seq = 0;
    while (rotations.subscriber < 2 || rotations.publisher < 2 || Date.now() - started < 8000) {
      if (Date.now() - started > 60_000) throw new Error(`only ${JSON.stringify(rotations)} rotations in 60 s`);
      if (inFlight < 20) {
        inFlight++;
        acks.push(publisher.publish('public:stream', { seq: seq++ }).finally(() => inFlight--));
      }
      const due = started + seq * 10;
      await sleep(Math.max(1, due - Date.now()));
    }
    const results = await Promise.allSettled(acks);
    const sent = seq;
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await waitFor(() => received.length >= sent, `${sent} messages`, 15_000);
    await sleep(300);
    expect(received).toHaveLength(sent);
    expect(new Set(received).size).toBe(sent);
    expect([...received].sort((x, y) => x - y)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(rotations.subscriber).toBeGreaterThanOrEqual(2);
    expect(drops).toEqual([]);
    expect(subscriber.stats.duplicatesDropped).toBeGreaterThan(0); // the overlap delivered copies, suppressed by mid
  });

  test('hello, requests, typed errors, and one server subscription however many handlers', async () => {
    gw = await localGateway();
    const client = open({ token: provider('alice') });
    const publisher = open({ token: provider('bob') });
    const opened = await new Promise<{ connectionId: string; userId?: string }>((resolve) => client.once('open', resolve));
    expect(opened.userId).toBe('alice');
    expect(gw.gateway.connections().map((c) => c.connectionId)).toContain(opened.connectionId);
    await expect(client.request('ping', { ts: 7 })).resolves.toMatchObject({ type: 'pong', ts: 7 });
    await expect(client.request('no-such-action')).rejects.toMatchObject({ code: 'UNKNOWN_ACTION', fromServer: true });

    const forbidden = client.subscribe('team.secret', () => {});
    await expect(forbidden.ready).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(client.topics()).toEqual([]);
    const tooBig = (await client.publish('public:big', 'x'.repeat(40_000)).catch((e: unknown) => e)) as WskitError;
    expect(tooBig.code).toBe('PAYLOAD_TOO_LARGE'); // refused locally: the gateway would close with 1009
    expect(client.state).toBe('open');

    const sentSubscribes: string[] = [];
    client.on('frame', ({ direction, text }) => {
      const frame = JSON.parse(text) as { action?: string; topic?: string };
      if (direction === 'out' && frame.topic === 'public:many') sentSubscribes.push(String(frame.action));
    });
    const calls: string[] = [];
    const offs = ['x', 'y', 'z'].map((name) => client.subscribe('public:many', () => calls.push(name)));
    await Promise.all(offs.map((o) => o.ready));
    await publisher.whenOpen();
    await expect(publisher.publish('public:many', 1)).resolves.toMatchObject({ delivered: 1 });
    await waitFor(() => calls.length === 3, 'three handlers called');
    expect(sentSubscribes).toEqual(['subscribe']);
    offs[0]!();
    offs[1]!();
    await expect(publisher.publish('public:many', 2)).resolves.toMatchObject({ delivered: 1 });
    offs[2]!();
    await waitFor(() => client.topics().length === 0, 'no topics');
    await eventually(async () => expect(await publisher.publish('public:many', 3)).toMatchObject({ delivered: 0 }));
    // quick toggling settles on the last wish, one subscription
    client.subscribe('public:many', () => {})();
    await client.subscribe('public:many', () => calls.push('last')).ready;
    await eventually(async () => expect(await publisher.publish('public:many', 4)).toMatchObject({ delivered: 1 }));
  });

  test('sends made while the gateway is down are queued in order; a full queue drops the oldest and says so', async () => {
    gw = await localGateway();
    const reconnect = { minDelayMs: 50, maxDelayMs: 300 };
    const subscriber = open({ token: provider('alice'), reconnect });
    const publisher = open({ token: provider('bob'), reconnect, maxQueueSize: 5 });
    const got: number[] = [];
    await subscriber.subscribe<number>('public:queue', (n) => got.push(n)).ready;
    await publisher.whenOpen();
    await gw.kill();
    await waitFor(() => publisher.state === 'reconnecting', 'publisher reconnecting');
    const dropped: string[] = [];
    publisher.on('dropped', ({ fields, error }) => dropped.push(`${String(fields.data)}:${error.code}`));
    const results = Array.from({ length: 8 }, (_, i) =>
      publisher.publish('public:queue', i).then(
        () => `ok:${i}`,
        (e: WskitError) => `${e.code}:${i}`,
      ),
    );
    expect(publisher.queuedCount).toBe(5);
    expect(dropped).toEqual(['0:QUEUE_FULL', '1:QUEUE_FULL', '2:QUEUE_FULL']);
    await gw.restart();
    expect(await Promise.all(results)).toEqual(['QUEUE_FULL:0', 'QUEUE_FULL:1', 'QUEUE_FULL:2', 'ok:3', 'ok:4', 'ok:5', 'ok:6', 'ok:7']);
    // Whether the subscriber was back before the publisher flushed is not guaranteed: each
    // client restores its own state. Either way it gets the queued messages, live or from
    // history (pipelined, they may be numbered in any order); then, once both are back,
    // publishing again checks delivery order.
    await subscriber.whenOpen();
    await waitFor(() => [3, 4, 5, 6, 7].every((n) => got.includes(n)), 'the queued messages, live or recovered');
    got.length = 0;
    for (let i = 0; i < 5; i++) await publisher.publish('public:queue', 100 + i);
    await waitFor(() => got.length === 5, 'deliveries');
    expect(got).toEqual([100, 101, 102, 103, 104]);
    expect(publisher.stats.queueDrops).toBe(3);
  });

  test('a 401 from the authorizer: a token provider is asked again; a fixed token closes the client', async () => {
    gw = await localGateway();
    const forged = async (sub: string) => forge(await gw!.mintToken(sub));
    const reasons: TokenRefreshReason[] = [];
    const client = open({
      token: async ({ reason }) => {
        reasons.push(reason);
        return reason === 'initial' ? forged('alice') : gw!.mintToken('alice');
      },
      reconnect: { minDelayMs: 10, maxDelayMs: 50 },
    });
    await client.whenOpen();
    expect(reasons).toEqual(['initial', 'unauthorized']);

    const fixed = open({ token: await forged('carol') });
    const reason = await new Promise<CloseReason>((resolve) => fixed.once('closed', (e) => resolve(e.reason)));
    expect(reason).toMatchObject({ kind: 'unauthorized', status: 401 });
  });

  test('browser-like runtimes (a refused upgrade shows no status): repeated failures before open refresh the token', async () => {
    gw = await localGateway();
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
    const reasons: TokenRefreshReason[] = [];
    const client = connect({
      url: gw.wsUrl,
      WebSocket: OpaqueWebSocket,
      reconnect: { minDelayMs: 10, maxDelayMs: 50 },
      tokenRefresh: { afterFailuresBeforeOpen: 2 },
      token: async ({ reason }) => {
        reasons.push(reason);
        const token = await gw!.mintToken('alice');
        return reason === 'initial' ? forge(token) : token;
      },
    });
    clients.push(client);
    await client.whenOpen();
    expect(reasons).toEqual(['initial', 'connect-failures']);
  });

  test('offline pauses reconnection; online reconnects at once; visible checks liveness', async () => {
    gw = await localGateway();
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
    const client = open({ token: provider('alice'), environment, reconnect: { minDelayMs: 20_000, maxDelayMs: 20_000 } });
    let attempts = 0;
    client.on('connecting', () => attempts++);
    const pongs: string[] = [];
    client.on('frame', ({ direction, text }) => direction === 'in' && text.includes('"pong"') && pongs.push(text));
    await client.whenOpen();
    const reasons: string[] = [];
    client.on('reconnecting', ({ reason }) => reasons.push(reason.kind));
    online = false;
    fire('offline');
    await gw.kill();
    await waitFor(() => reasons.includes('offline'), 'paused while offline');
    await gw.restart();
    await sleep(500);
    expect(client.state).toBe('reconnecting');
    expect(attempts).toBe(1); // no attempt while offline
    online = true;
    const started = Date.now();
    fire('online');
    await client.whenOpen();
    expect(Date.now() - started).toBeLessThan(10_000); // not the 20 s backoff
    expect(attempts).toBe(2);
    const before = pongs.length;
    fire('visible'); // a tab coming back checks the connection at once
    await waitFor(() => pongs.length === before + 1, 'liveness ping answered');
    await client.close();
    expect(listeners.size).toBe(0);
  });
});

/** The same token with a broken signature (its first character changed: all six bits count). */
function forge(token: string): string {
  const [header, payload, signature] = token.split('.');
  return `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
}

/** Retries an assertion until it passes (the handlers' writes settle asynchronously). */
async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}
