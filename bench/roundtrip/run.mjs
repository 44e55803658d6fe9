#!/usr/bin/env node
// @ts-check
// bench/roundtrip: ping -> pong latency at a fixed rate, and server memory per idle
// connection, for the local gateway (real handler bundles) against a bare `ws` server
// measured in the same run. Each server runs in its own process; the idle clients are
// spread over child processes. Prints a table.
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    clients: { type: 'string', default: '20' },
    idle: { type: 'string', default: '5000' },
    'client-procs': { type: 'string', default: '4' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`Usage: node bench/roundtrip/run.mjs [--rate 200] [--seconds 10] [--warmup 2] [--clients 20] [--idle 5000] [--client-procs 4]
Needs the handler bundles (./build.sh, or WSKIT_DIST_DIR).\n`);
  process.exit(0);
}
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const clientCount = Number(values.clients);
const idleCount = Number(values.idle);
const clientProcs = Number(values['client-procs']);

/** @param {string} msg */
const progress = (msg) => process.stderr.write(`roundtrip: ${msg}\n`);

/**
 * @param {import('node:child_process').ChildProcess} child
 * @param {string} type
 * @returns {Promise<any>}
 */
function nextMessage(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (/** @type {any} */ msg) => {
      if (msg?.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(msg);
    };
    const onExit = (/** @type {number} */ code) => reject(new Error(`child exited with ${code} while waiting for ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** @param {number[]} sorted @param {number} p */
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/**
 * @param {string[]} urls
 * @returns {Promise<{ samples: number[], lost: number }>}
 */
async function measureLatency(urls) {
  const sockets = await Promise.all(
    urls.map(
      (url) =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(url);
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
  /** @type {Map<string, number>} */
  const sentAt = new Map();
  /** @type {number[]} */
  const samples = [];
  let measuring = false;
  let sentWhileMeasuring = 0;
  for (const ws of /** @type {WebSocket[]} */ (sockets)) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      const started = sentAt.get(frame.id);
      if (started === undefined) return;
      sentAt.delete(frame.id);
      if (frame.id.startsWith('m')) samples.push(performance.now() - started);
    });
  }
  // Open loop: sends happen on schedule whether or not replies have come back.
  const intervalMs = 1000 / rate;
  const start = performance.now();
  const total = Math.round((warmup + seconds) * rate);
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) {
        measuring = sent >= warmup * rate;
        const id = `${measuring ? 'm' : 'w'}${sent}`;
        if (measuring) sentWhileMeasuring++;
        const ws = /** @type {WebSocket} */ (sockets[sent % sockets.length]);
        sentAt.set(id, performance.now());
        ws.send(JSON.stringify({ action: 'ping', id, ts: Date.now() }));
        sent++;
      }
      if (sent >= total) resolve(undefined);
      else setTimeout(tick, Math.max(0, intervalMs / 2));
    };
    tick();
  });
  await new Promise((r) => setTimeout(r, 2000)); // let the last replies arrive
  for (const ws of /** @type {WebSocket[]} */ (sockets)) ws.close();
  return { samples: samples.sort((a, b) => a - b), lost: sentWhileMeasuring - samples.length };
}

/**
 * @param {'bare' | 'gateway'} mode
 */
async function benchServer(mode) {
  progress(`${mode}: starting the server process`);
  const server = fork(path.join(here, 'server.mjs'), [mode], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { url } = await nextMessage(server, 'ready');
  /** @param {number} from @param {number} to */
  const urlsFor = async (from, to) => {
    if (mode === 'bare') return Array.from({ length: to - from }, () => url);
    server.send({ type: 'tokens', from, to });
    const { tokens } = await nextMessage(server, 'tokens');
    return tokens.map((/** @type {string} */ t) => `${url}?token=${t}`);
  };

  progress(`${mode}: latency, ${rate} pings/s over ${clientCount} clients for ${warmup}+${seconds} s`);
  const latency = await measureLatency(await urlsFor(0, clientCount));
  await new Promise((r) => setTimeout(r, 1000));

  server.send('memory');
  const before = (await nextMessage(server, 'memory')).memory;
  progress(`${mode}: opening ${idleCount} idle connections from ${clientProcs} processes`);
  const urls = await urlsFor(clientCount, clientCount + idleCount);
  const children = Array.from({ length: clientProcs }, () => fork(path.join(here, 'clients.mjs'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  await Promise.all(children.map((c) => nextMessage(c, 'ready')));
  const connectStarted = performance.now();
  const per = Math.ceil(urls.length / clientProcs);
  const opened = await Promise.all(
    children.map((child, i) => {
      child.send({ type: 'open', urls: urls.slice(i * per, (i + 1) * per), parallel: 8 });
      return nextMessage(child, 'opened');
    }),
  );
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  const open = opened.reduce((n, o) => n + o.open, 0);
  const failed = opened.reduce((n, o) => n + o.failed, 0);
  await new Promise((r) => setTimeout(r, 3000));
  server.send('memory');
  const after = (await nextMessage(server, 'memory')).memory;
  for (const child of children) child.send('stop');
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  server.send('stop');
  await new Promise((r) => server.once('exit', r));
  return { mode, latency, open, failed, connectSeconds, before, after };
}

const results = [];
for (const mode of /** @type {const} */ (['bare', 'gateway'])) results.push(await benchServer(mode));

const fmt = (/** @type {number} */ n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const label = { bare: 'bare ws echo server (baseline)', gateway: 'local gateway + message handler' };
const lines = [];
lines.push(`ping -> pong round trip: ${rate} pings/s, ${clientCount} clients, ${seconds} s measured after ${warmup} s warm-up`);
lines.push('| server | samples | lost | p50 ms | p90 ms | p99 ms | max ms |');
lines.push('|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const s = r.latency.samples;
  lines.push(`| ${label[r.mode]} | ${s.length} | ${r.latency.lost} | ${fmt(percentile(s, 50))} | ${fmt(percentile(s, 90))} | ${fmt(percentile(s, 99))} | ${fmt(s[s.length - 1] ?? NaN)} |`);
}
lines.push('');
lines.push(`idle connections: ${idleCount} clients from ${clientProcs} processes; server process memory after GC`);
lines.push('| server | open | failed | connect s | RSS before MB | RSS after MB | RSS per conn KB | JS heap per conn KB |');
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  const rssDelta = r.after.rss - r.before.rss;
  const heapDelta = r.after.heapUsed + r.after.external - (r.before.heapUsed + r.before.external);
  lines.push(
    `| ${label[r.mode]} | ${r.open} | ${r.failed} | ${fmt(r.connectSeconds, 1)} | ${fmt(r.before.rss / 2 ** 20, 1)} | ${fmt(r.after.rss / 2 ** 20, 1)} | ${fmt(rssDelta / Math.max(1, r.open) / 1024, 1)} | ${fmt(heapDelta / Math.max(1, r.open) / 1024, 1)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
