import WebSocket from 'ws';
import { connect, type RotationReason, type TokenRefreshReason, type WskitClient } from '../src';
import { makeToken, TestServer } from './support/test-server';
import { sleep, waitFor } from './support/wait';

describe('token refresh and rotation (own protocol server)', () => {
  let server: TestServer;
  const clients: WskitClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.stop();
  });
  const open = (extra: Partial<Parameters<typeof connect>[0]>) => {
    const client = connect({ url: server.url, token: makeToken({ sub: 'alice' }), WebSocket, ...extra });
    clients.push(client);
    return client;
  };

  test('a token is refreshed ahead of its exp and the session continues on a rotated connection', async () => {
    server = await TestServer.start();
    const refreshes: TokenRefreshReason[] = [];
    const client = open({ token: ({ reason }) => (refreshes.push(reason), makeToken({ sub: 'alice', ttlSeconds: 2 })) });
    const rotations: RotationReason[] = [];
    client.on('rotated', ({ reason }) => rotations.push(reason));
    let drops = 0;
    client.on('reconnecting', () => drops++);
    const got: number[] = [];
    await client.subscribe<number>('public:tick', (n) => got.push(n)).ready;
    for (let i = 0; i < 45; i++) {
      server.push('public:tick', i);
      await client.request('ping');
      await sleep(100);
    }
    await waitFor(() => got.length === 45, 'all ticks');
    expect(got).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(refreshes[0]).toBe('initial');
    expect(refreshes.slice(1).every((r) => r === 'expiring')).toBe(true);
    expect(refreshes.length).toBeGreaterThanOrEqual(3);
    expect(rotations.length).toBe(refreshes.length - 1);
    expect(rotations.every((r) => r === 'token-expiring')).toBe(true);
    expect(drops).toBe(0);
    // every connection got exactly one subscribe for the topic
    for (const conn of server.connections) expect(conn.actions.filter((a) => a === 'subscribe')).toHaveLength(1);
  }, 20_000);

  test('TOKEN_EXPIRED from the server: refresh, rotate, send the request again', async () => {
    server = await TestServer.start();
    const refreshes: TokenRefreshReason[] = [];
    const client = open({
      heartbeat: false,
      tokenRefresh: { beforeExpiryMs: false },
      token: ({ reason }) => (refreshes.push(reason), makeToken({ sub: 'alice', ttlSeconds: 1 })),
    });
    const rotations: RotationReason[] = [];
    client.on('rotated', ({ reason }) => rotations.push(reason));
    const got: string[] = [];
    await client.subscribe<string>('public:x', (d) => got.push(d)).ready;
    await sleep(1100);
    // the server answers TOKEN_EXPIRED; the caller only sees the reply on the new connection
    await expect(client.publish('public:x', 'after-expiry')).resolves.toMatchObject({ type: 'ack' });
    expect(refreshes).toEqual(['initial', 'expired']);
    expect(rotations).toEqual(['token-expired']);
    const [first, second] = server.connections;
    expect(first!.actions).toEqual(['hello', 'subscribe', 'publish']);
    expect(second!.actions).toEqual(['hello', 'subscribe', 'publish']);
    await waitFor(() => got.length === 1, 'delivery');
    await waitFor(() => first!.closedAt !== undefined, 'old connection closed');
    expect(got).toEqual(['after-expiry']);
  });

  test('rotation before the connection cap under 100 messages/s: nothing lost, nothing doubled', async () => {
    server = await TestServer.start({ maxConnectionMs: 1000 });
    const options = { maxConnectionMs: 1000, rotateAt: 0.8 };
    const subscriber = open(options);
    const publisher = open({ ...options, token: makeToken({ sub: 'bob' }) });
    const received: number[] = [];
    const rotations: string[] = [];
    subscriber.on('rotated', ({ connectionId, previousConnectionId }) => rotations.push(`${previousConnectionId}->${connectionId}`));
    let drops = 0;
    subscriber.on('reconnecting', () => drops++);
    publisher.on('reconnecting', () => drops++);
    await subscriber.subscribe<{ seq: number }>('public:load', ({ seq }) => received.push(seq)).ready;
    await publisher.whenOpen();

    const total = 400;
    const acks: Promise<unknown>[] = [];
    for (let seq = 0; seq < total; seq++) {
      acks.push(publisher.publish('public:load', { seq }));
      await sleep(10);
    }
    await Promise.all(acks);
    await waitFor(() => received.length >= total, `${total} messages`, 5000);
    await sleep(100);
    expect(received).toHaveLength(total);
    expect(new Set(received).size).toBe(total);
    expect([...received].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(rotations.length).toBeGreaterThanOrEqual(3);
    expect(drops).toBe(0);
    // the overlap really delivered copies that were suppressed
    const subscriberConnections = server.connections.filter((c) => c.userId === 'alice');
    expect(subscriberConnections.length).toBe(rotations.length + 1);
  }, 20_000);

  test('a rotation whose new connection fails keeps the old one and tries again', async () => {
    server = await TestServer.start();
    const client = open({});
    const got: number[] = [];
    await client.subscribe<number>('public:r', (n) => got.push(n)).ready;
    const first = client.connectionId;
    const errors: string[] = [];
    client.on('error', ({ error }) => errors.push(error.message));
    const rotated = new Promise<string>((resolve) => client.once('rotated', ({ connectionId }) => resolve(connectionId)));
    server.refuseUpgradesWith = 503;
    await client.rotate();
    expect(errors[0]).toMatch(/rotation failed: .*503/);
    expect(client.state).toBe('open');
    expect(client.connectionId).toBe(first);
    server.push('public:r', 1); // the old connection still delivers
    await waitFor(() => got.length === 1, 'delivery on the old connection');
    server.refuseUpgradesWith = undefined;
    const second = await rotated; // retried after the rotation backoff (about a second)
    expect(second).not.toBe(first);
    server.push('public:r', 2);
    await waitFor(() => got.length === 2, 'delivery on the new connection');
    expect(got).toEqual([1, 2]);
    expect(server.subscribers('public:r').map((c) => c.id)).toEqual([second]);
  });
});
