import WebSocket from 'ws';
import { connect, type WskitClient } from '../src';
import { makeToken, TestServer } from './support/test-server';
import { sleep, waitFor } from './support/wait';

const ROUNDS = 5;

describe('duplicates from the server (own protocol server: the gateway never sends a mid twice on purpose)', () => {
  let server: TestServer;
  let client: WskitClient | undefined;
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  test('a message pushed twice with the same mid is delivered once, across reconnects; one subscribe frame per topic per connection', async () => {
    server = await TestServer.start();
    client = connect({
      url: server.url,
      token: makeToken({ sub: 'alice' }),
      WebSocket,
      reconnect: { minDelayMs: 20, maxDelayMs: 300, minUptimeMs: 100 },
    });
    const got = { a: [] as number[], b: [] as number[] };
    const offA = client.subscribe<number>('public:a', (n) => got.a.push(n));
    client.subscribe<number>('public:b', (n) => got.b.push(n));
    client.subscribe<number>('public:b', () => {}); // a second handler: still one server subscription
    await offA.ready;
    let opens = 0;
    client.on('open', ({ reconnected }) => reconnected && opens++);

    for (let round = 0; round < ROUNDS; round++) {
      await server.kill();
      await waitFor(() => client!.state === 'reconnecting', `reconnecting (round ${round})`);
      await sleep(Math.floor(Math.random() * 50));
      await server.restart();
      await waitFor(
        () => client!.state === 'open' && server.subscribers('public:a').length === 1 && server.subscribers('public:b').length === 1,
        `open and resubscribed (round ${round})`,
      );
      server.push('public:a', round);
      server.push('public:b', round);
      // a message sent twice by the server (same mid) is delivered once
      const mid = server.push('public:a', 1000 + round);
      for (const conn of server.subscribers('public:a')) {
        conn.socket.send(JSON.stringify({ type: 'message', topic: 'public:a', data: 1000 + round, mid, ts: Date.now() }));
      }
      await waitFor(() => got.a.length === 2 * (round + 1) && got.b.length === round + 1, `delivery (round ${round})`);
    }
    await sleep(100);
    expect(opens).toBe(ROUNDS);
    expect(client.stats).toMatchObject({ connections: ROUNDS + 1, disconnects: ROUNDS, duplicatesDropped: ROUNDS, messagesDelivered: 3 * ROUNDS });
    expect(got.b).toEqual(Array.from({ length: ROUNDS }, (_, i) => i));
    expect(got.a.filter((n) => n < 1000)).toEqual(Array.from({ length: ROUNDS }, (_, i) => i));
    expect(got.a.filter((n) => n >= 1000)).toEqual(Array.from({ length: ROUNDS }, (_, i) => 1000 + i));
    // one subscribe per topic per connection, never more
    const accepted = server.connections.filter((c) => c.actions[0] === 'hello');
    expect(accepted.length).toBe(ROUNDS + 1);
    for (const conn of accepted) {
      expect(conn.actions.filter((a) => a === 'subscribe')).toHaveLength(2);
    }
  }, 60_000);
});
