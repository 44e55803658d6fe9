// @ts-check
// One server under test, in its own process so its memory is its own:
//   bare     a plain `ws` server that answers {"action":"ping"} with a pong (the baseline)
//   gateway  the local gateway running the real handler bundles
// Talks to the orchestrator over IPC: {ready, url, tokensFor?}, 'memory', 'stop'.
import { WebSocketServer } from 'ws';
import * as path from 'node:path';
import { loadGateway } from '../../local/bin/load.mjs';

// The AWS SDK's notice about this machine's Node version is noise in a benchmark table.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (!/NodeVersionSupportWarning/.test(`${w.name} ${w.message}`)) process.stderr.write(`${w.name}: ${w.message}\n`);
});

const mode = process.argv[2];
const send = (/** @type {unknown} */ msg) => process.send?.(msg);

function memory() {
  // Two collections: the first can leave garbage for the second.
  if (global.gc) {
    global.gc();
    global.gc();
  }
  return process.memoryUsage();
}

if (mode === 'bare') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 128 * 1024 });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      let frame;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (frame.action === 'ping') ws.send(JSON.stringify({ type: 'pong', id: frame.id, ts: frame.ts }));
    });
  });
  wss.on('listening', () => {
    const { port } = /** @type {import('node:net').AddressInfo} */ (wss.address());
    send({ type: 'ready', url: `ws://127.0.0.1:${port}/` });
  });
  process.on('message', (msg) => {
    if (msg === 'memory') send({ type: 'memory', memory: memory() });
    if (msg === 'stop') wss.close(() => process.exit(0));
  });
} else if (mode === 'gateway') {
  const { startGateway } = await loadGateway();
  const gw = await startGateway({
    distDir: process.env.WSKIT_DIST_DIR ? path.resolve(process.env.WSKIT_DIST_DIR) : undefined,
    maxConnectionsPerUser: 0,
    logLevel: 'WARN',
    ttlSweepIntervalMs: 0,
  });
  send({ type: 'ready', url: `${gw.wsUrl}/` });
  process.on('message', async (/** @type {any} */ msg) => {
    if (msg === 'memory') send({ type: 'memory', memory: memory(), connections: gw.connections().length });
    else if (msg === 'stop') {
      await gw.stop();
      process.exit(0);
    } else if (msg?.type === 'tokens') {
      const tokens = [];
      for (let i = msg.from; i < msg.to; i++) tokens.push(await gw.mintToken({ sub: `bench-${i}`, ttlSeconds: 3 * 3600 }));
      send({ type: 'tokens', tokens });
    }
  });
} else {
  process.stderr.write('usage: server.mjs bare|gateway\n');
  process.exit(2);
}
