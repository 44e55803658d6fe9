import WebSocket from 'ws';
import { connect, type CloseReason, type WskitClient, type WskitError } from '../src';
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


  test('queue overflow with drop-newest rejects the new send and keeps the queued one (no server needed)', async () => {
    server = await TestServer.start();
    const port = server.port;
    await server.stop();
    const client = connect({ url: `ws://127.0.0.1:${port}`, token: makeToken({ sub: 'alice' }), WebSocket, maxQueueSize: 1, queueOverflow: 'drop-newest', reconnect: fastReconnect });
    clients.push(client);
    const dropped: unknown[] = [];
    client.on('dropped', ({ fields }) => dropped.push(fields.n));
    const first = client.request('ping', { n: 1 }).catch((e: WskitError) => e.code);
    await expect(client.request('ping', { n: 2 })).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(dropped).toEqual([2]);
    expect(client.queuedCount).toBe(1);
    await client.close();
    expect(await first).toBe('CLOSED');
    server = await TestServer.start();
  });
});
