/**
 * bench/fanout-scale: one publish to a topic of 100,000 subscribers, through the local
 * gateway and the real handler bundles, against the account's @connections quota.
 *
 *   npm run bench:fanout-scale -- [--subscribers 100000] [--sockets 200] [--raised 30000]
 *        [--callback-latency 0] [--paths inline,sharded,raised]
 *
 * The audience: --subscribers simulated connections (ids the gateway's management API
 * counts deliveries to, per connection and per seq, without sockets; their subscription rows
 * are written straight to the table) plus --sockets real WebSocket clients, signed in and
 * subscribed through the handlers, that time delivery end to end. The publish is a real
 * client's `publish` frame. Paths, each on a fresh gateway over the same table:
 *
 *   inline   today's path: the message handler fans out to everyone itself (inline limit
 *            above the audience; its timeout raised to API Gateway's 29 s integration cap)
 *   sharded  the handoff: `queued` ack, shard jobs on the fan-out queue, the broadcaster
 *            running them in parallel at their part of the quota (default 10,000/s + 5,000)
 *   raised   the same with the quota raised to --raised per second (burst half of it), the
 *            shard count following it, as many broadcaster workers as shards
 *
 * Each sharded path publishes twice: the first reads the whole subscriber list into each
 * execution environment's cache (cold), the second is what a hot topic pays per publish.
 * DynamoDB reads are metered by a proxy (ReturnConsumedCapacity TOTAL) in front of the table.
 * Lambda cost: invocations and GB-s of the invocations that delivered (message handler at
 * 256 MB, broadcaster at 1,024 MB, the Terraform defaults), from their measured durations.
 */
import { loadavg, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startGateway, type Gateway } from '../../local/src';
import { startDynamo } from '@wskit/testing/dynamo';
import { seedSubscribers } from '@wskit/testing/audience';
import { startMeteringProxy } from '@wskit/testing/metering-proxy';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const SUBSCRIBERS = Number(arg('subscribers', '100000'));
const SOCKETS = Number(arg('sockets', '200'));
const RAISED = Number(arg('raised', '30000'));
const CALLBACK_LATENCY = Number(arg('callback-latency', '0'));
const PATHS = arg('paths', 'inline,sharded,raised').split(',');
const TOPIC = 'public:fanout-scale';
const MESSAGE_MEMORY_GB = 0.25;
const BROADCASTER_MEMORY_GB = 1;
/** API Gateway ends an integration at 29 s: the message handler's longest invocation. */
const MESSAGE_TIMEOUT_MS = 29_000;

interface PathSpec {
  name: string;
  label: string;
  quota: number;
  burst: number;
  inlineLimit: number;
  workers: number;
  publishes: number;
}

interface Row {
  label: string;
  quota: number;
  run: string;
  ackMs: number;
  ack: string;
  seconds: number;
  delivered: number;
  lost: number;
  duplicated: number;
  ratePerSecond: number;
  quotaUsed: number;
  shards: number;
  invocations: number;
  gbSeconds: number;
  rcu: number;
  socketP50Ms: number;
  socketMaxMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A real client: signs in, subscribes, and notes when each seq arrives. */
class Socket {
  readonly arrivals = new Map<number, number[]>();
  private waiting = new Map<string, (frame: Record<string, unknown>) => void>();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const at = performance.now();
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      if (frame.type === 'message') {
        const seq = Number(frame.seq);
        this.arrivals.set(seq, [...(this.arrivals.get(seq) ?? []), at]);
        return;
      }
      const id = String(frame.id ?? '');
      this.waiting.get(id)?.(frame);
      this.waiting.delete(id);
    });
  }
  static async open(url: string): Promise<Socket> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Socket(ws);
  }
  request(frame: Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${String(frame.action)} in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(String(frame.id), (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.ws.send(JSON.stringify(frame));
    });
  }
}

async function runPath(spec: PathSpec, dynamodbEndpoint: string, meter: Awaited<ReturnType<typeof startMeteringProxy>>, workDir: string): Promise<Row[]> {
  const gw: Gateway = await startGateway({
    dynamodbEndpoint,
    dataDir: workDir,
    maxConnectionsPerUser: 0,
    ttlSweepIntervalMs: 0,
    callbackLatencyMs: CALLBACK_LATENCY,
    rateLimits: { framesPerConnection: 0, publishesPerUser: 0 },
    managementRate: spec.quota,
    managementBurst: spec.burst,
    fanOut: { inlineLimit: spec.inlineLimit, workers: spec.workers },
    functionMemoryMb: 1024,
    // API Gateway cuts an integration at 29 s; Terraform gives the broadcaster 300 s.
    functionTimeoutMs: { message: MESSAGE_TIMEOUT_MS, broadcaster: 300_000 },
  });
  gw.simulated.add(SUBSCRIBERS, 'scale');
  const token = await gw.mintToken({ sub: 'bench', ttlSeconds: 7200 });
  const url = `${gw.wsUrl}/?token=${encodeURIComponent(token)}`;
  const sockets: Socket[] = [];
  for (let i = 0; i < SOCKETS; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, SOCKETS - i) }, () => Socket.open(url)));
    await Promise.all(batch.map((s, j) => s.request({ action: 'subscribe', topic: TOPIC, id: `s${i + j}` })));
    sockets.push(...batch);
  }
  const publisher = await Socket.open(url);
  const rows: Row[] = [];
  try {
    for (let run = 1; run <= spec.publishes; run++) {
      const queueBefore = gw.fanOutQueue() ?? { invocations: 0, invocationMs: 0, sent: 0 };
      const metered = meter.requests.length;
      const sentAt = performance.now();
      const sentAtEpoch = Date.now();
      const ack = await publisher.request({ action: 'publish', topic: TOPIC, data: { run, path: spec.name }, id: `p-${spec.name}-${run}` }, 60_000).catch((error: Error) => ({ type: 'error', message: error.message }));
      const ackMs = performance.now() - sentAt;
      // A publish that failed (the integration timed out) may still have delivered to many:
      // its number is the topic's latest, which `history` tells.
      const seq = Number.isFinite(Number(ack.seq))
        ? Number(ack.seq)
        : Number((await publisher.request({ action: 'history', topic: TOPIC, limit: 1, id: `h-${spec.name}-${run}` }).catch(() => ({}))).seq);
      const audience = SUBSCRIBERS + SOCKETS;
      // Until everyone has it, or nothing more arrives for 5 s.
      let last = -1;
      let quietSince = performance.now();
      for (;;) {
        const now = gw.simulated.received(seq) + sockets.filter((s) => s.arrivals.has(seq)).length;
        if (now >= audience && (gw.fanOutQueue()?.inFlight ?? 0) === 0) break;
        if (now !== last) {
          last = now;
          quietSince = performance.now();
        } else if (performance.now() - quietSince > 5000 && (gw.fanOutQueue()?.inFlight ?? 0) === 0 && (gw.fanOutQueue()?.pending ?? 0) === 0) break;
        await sleep(20);
      }
      // Late duplicates (a shard run twice) would show within a moment.
      await sleep(500);
      const counts = Number.isFinite(seq) ? gw.simulated.count(seq) : { once: 0, duplicated: 0, lost: SUBSCRIBERS, lastAt: 0 };
      const socketTimes = sockets.map((s) => s.arrivals.get(seq) ?? []);
      const socketLost = socketTimes.filter((t) => t.length === 0).length;
      const socketDup = socketTimes.reduce((sum, t) => sum + Math.max(0, t.length - 1), 0);
      const firstArrivals = socketTimes.filter((t) => t.length > 0).map((t) => t[0]! - sentAt).sort((a, b) => a - b);
      const lastSocket = firstArrivals.length ? firstArrivals[firstArrivals.length - 1]! : 0;
      const lastSimulated = counts.lastAt ? counts.lastAt - sentAtEpoch : 0;
      const seconds = Math.max(lastSocket, lastSimulated) / 1000;
      const delivered = counts.once + (sockets.length - socketLost);
      const queueAfter = gw.fanOutQueue() ?? queueBefore;
      const shardInvocations = queueAfter.invocations - queueBefore.invocations;
      const shardMs = queueAfter.invocationMs - queueBefore.invocationMs;
      const inline = ack.queued !== true;
      // The message handler's invocation lasted until its ack; the shards' as measured.
      const gbSeconds = (Math.min(ackMs, MESSAGE_TIMEOUT_MS) / 1000) * MESSAGE_MEMORY_GB + (shardMs / 1000) * BROADCASTER_MEMORY_GB;
      rows.push({
        label: spec.label,
        quota: spec.quota,
        run: spec.publishes > 1 ? (run === 1 ? 'cold' : 'hot') : '-',
        ackMs,
        ack: ack.type === 'ack' ? (inline ? `ack (${String(ack.delivered)} delivered)` : 'ack queued') : `error ${String(ack.code ?? ack.message ?? '')}`.trim(),
        seconds,
        delivered,
        lost: counts.lost + socketLost,
        duplicated: counts.duplicated + socketDup,
        ratePerSecond: seconds > 0 ? delivered / seconds : 0,
        quotaUsed: seconds > 0 ? delivered / seconds / spec.quota : 0,
        shards: inline ? 1 : queueAfter.sent - queueBefore.sent,
        invocations: 1 + shardInvocations,
        gbSeconds,
        rcu: meter.readUnits((pk) => pk === `topic#${TOPIC}`, metered),
        socketP50Ms: firstArrivals.length ? firstArrivals[Math.floor(firstArrivals.length / 2)]! : NaN,
        socketMaxMs: lastSocket,
      });
      process.stderr.write(`  ${spec.label} run ${run}: ${delivered} delivered in ${seconds.toFixed(2)} s\n`);
    }
  } finally {
    for (const s of [...sockets, publisher]) s.ws.terminate();
    await gw.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'wskit-fanout-scale-'));
  const db = await startDynamo('dynalite');
  const meter = await startMeteringProxy(db.endpoint);
  try {
    // The gateway creates its table on first start; the simulated audience is written once.
    const probe = await startGateway({ dynamodbEndpoint: meter.url, dataDir: workDir, ttlSweepIntervalMs: 0 });
    const tableName = probe.tableName;
    await probe.stop();
    const seedStarted = performance.now();
    const ddb = new DynamoDBClient({ endpoint: db.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const ids = Array.from({ length: SUBSCRIBERS }, (_, i) => `sim-scale-${i}`);
    await seedSubscribers(ddb, tableName, ids.map((connectionId) => ({ connectionId, topics: [TOPIC] })), { connectionItems: false, parallel: 16 });
    ddb.destroy();
    process.stderr.write(`seeded ${SUBSCRIBERS} subscription rows in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n`);

    const raisedShards = Math.ceil((RAISED * 0.9) / 2000);
    const specs: PathSpec[] = [
      { name: 'inline', label: 'inline, one invocation (today)', quota: 10_000, burst: 5000, inlineLimit: 1_000_000, workers: 5, publishes: 1 },
      { name: 'sharded', label: 'handed off, sharded', quota: 10_000, burst: 5000, inlineLimit: 2000, workers: 5, publishes: 2 },
      { name: 'raised', label: 'handed off, quota raised', quota: RAISED, burst: RAISED / 2, inlineLimit: 2000, workers: raisedShards, publishes: 2 },
    ].filter((s) => PATHS.includes(s.name));
    const rows: Row[] = [];
    for (const spec of specs) rows.push(...(await runPath(spec, meter.url, meter, workDir)));

    const f = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');
    console.log(`\nnode ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${f(SUBSCRIBERS)} simulated + ${SOCKETS} real subscribers; callback latency ${CALLBACK_LATENCY} ms\n`);
    console.log('| path | quota/s | publish | ack | ack ms | delivered | lost | dup | seconds | deliveries/s | of quota | shards | invocations | GB-s | subscriber RCU | socket p50 ms | socket last ms |');
    console.log('|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.label} | ${f(r.quota)} | ${r.run} | ${r.ack} | ${f(r.ackMs)} | ${f(r.delivered)} | ${r.lost} | ${r.duplicated} | ${f(r.seconds, 2)} | ${f(r.ratePerSecond)} | ${f(r.quotaUsed * 100, 1)}% | ${r.shards} | ${r.invocations} | ${f(r.gbSeconds, 2)} | ${f(r.rcu, 1)} | ${f(r.socketP50Ms)} | ${f(r.socketMaxMs)} |`);
    }
    const baseline = rows.find((r) => r.label.startsWith('inline'));
    const hot = rows.filter((r) => r.run === 'hot' && r.quota === 10_000).pop();
    if (baseline && hot) console.log(`\nsubscriber reads per publish on a hot topic: ${f(hot.rcu, 1)} RCU against ${f(baseline.rcu, 1)} for the full Query (${f(baseline.rcu / Math.max(hot.rcu, 0.5), 0)}x less)`);
    const headline = rows.filter((r) => r.quota === 10_000 && r.label.startsWith('handed')).pop() ?? rows[rows.length - 1]!;
    console.log(`\n${headline.delivered >= SUBSCRIBERS ? SUBSCRIBERS : headline.delivered} delivered in ${headline.seconds.toFixed(2)} s at quota ${headline.quota}/s (${(headline.quotaUsed * 100).toFixed(1)}% of quota), lost ${headline.lost}, duplicated ${headline.duplicated}, subscriber RCU per publish ${headline.rcu.toFixed(1)}`);
  } finally {
    await meter.stop();
    await db.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
