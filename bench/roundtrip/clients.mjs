// @ts-check
// Holds idle WebSocket connections for the memory measurement: opens one per URL it is
// sent (a few at a time), reports when all are open, and closes them on 'stop'.
import { WebSocket } from 'ws';

/** @type {WebSocket[]} */
const sockets = [];

/** @param {string} url */
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      sockets.push(ws);
      resolve(undefined);
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

process.on('message', async (/** @type {any} */ msg) => {
  if (msg?.type === 'open') {
    const urls = /** @type {string[]} */ (msg.urls);
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < urls.length) {
        const url = /** @type {string} */ (urls[next++]);
        await open(url).catch(() => failed++);
      }
    };
    await Promise.all(Array.from({ length: msg.parallel ?? 16 }, worker));
    process.send?.({ type: 'opened', open: sockets.length, failed });
  } else if (msg === 'stop') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
process.send?.({ type: 'ready' });
