import WebSocket from 'ws';
import { connect, type WskitClient } from '../src';
import { makeToken, TestServer } from './support/test-server';
import { waitFor } from './support/wait';

describe('rotation when the new connection is refused (own protocol server: refuses upgrades on demand)', () => {
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
    expect(errors.some((e) => /rotation failed: .*503/.test(e))).toBe(true);
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
    await waitFor(() => server.subscribers('public:r').length === 1, 'the old connection closed');
    expect(server.subscribers('public:r').map((c) => c.id)).toEqual([second]);
  }, 20_000);
});
