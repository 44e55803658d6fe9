/**
 * bench/recovery: what lossless resume costs and how fast it catches up, in one run.
 *
 *   1. A publish's requests, write capacity and latency, through the TopicPublisher on
 *      DynamoDB Local with ReturnConsumedCapacity: with history (the head's seq and the
 *      message row), with the sequence only (retention 0), and without either (the path
 *      before: the fan-out alone), to the same 10 subscribers on the ws harness.
 *   2. Catch-up after a reconnect: a subscriber on the local gateway (real handler bundles)
 *      is cut off while 500 messages are published, then let back in; the time from its new
 *      connection to the last of the 500 handed to the application, in order, once each.
 *
 *   node bench/run-ts.mjs bench/recovery/main.ts [--publishes 300] [--missed 500]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import {
  ConnectionStore,
  MessageSender,
  TopicHistory,
  TopicPublisher,
  destroyManagementClients,
} from '../../shared/src';
import { delayingClient, startDynamo } from '@wskit/testing/dynamo';
import { startWsGateway } from '@wskit/testing/ws-harness';
import { TcpProxy } from '@wskit/testing/tcp-proxy';
import { openClients, seedSubscribers, closeClients } from '@wskit/testing/audience';
import { startGateway } from '../../local/src';
import { connect } from '../../client/src';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { messageFrame } from '@wskit/protocol';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const PUBLISHES = Number(arg('publishes', '300'));
const MISSED = Number(arg('missed', '500'));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Meter {
  requests: number;
  wcu: number;
  rcu: number;
}

function meteredClient(endpoint: string, meter: Meter): DynamoDBClient {
  const client = delayingClient(endpoint, () => 0);
  client.middlewareStack.add(
    (next) => async (args) => {
      meter.requests++;
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const capacity = c as { WriteCapacityUnits?: number; ReadCapacityUnits?: number; CapacityUnits?: number };
        const write = 'Item' in input || 'UpdateExpression' in input || 'RequestItems' in input;
        meter.wcu += capacity.WriteCapacityUnits ?? (write ? (capacity.CapacityUnits ?? 0) : 0);
        meter.rcu += capacity.ReadCapacityUnits ?? (write ? 0 : (capacity.CapacityUnits ?? 0));
      }
      return out;
    },
    { step: 'initialize', name: 'wskitBenchMeter' },
  );
  return client;
}

async function publishCosts(): Promise<string[]> {
  const db = await startDynamo('dynamodb-local');
  const gw = await startWsGateway({ stage: 'bench' });
  const ids = Array.from({ length: 10 }, (_, i) => `r${i}Qw=`);
  const clients = await openClients(gw.wsUrl, ids);
  const lines: string[] = [];
  try {
    await seedSubscribers(db.client, db.tableName, ids.map((connectionId) => ({ connectionId, topics: ['bench.topic'] })));
    const meter: Meter = { requests: 0, wcu: 0, rcu: 0 };
    const client = meteredClient(db.endpoint, meter);
    const store = new ConnectionStore({ tableName: db.tableName, dynamoDb: client });
    const sender = new MessageSender({ endpoint: gw.callbackUrl, region: 'us-east-1', store, transport: 'signed-http' });
    const data = { text: 'x'.repeat(200), n: 0 };
    const variants: Array<[string, (n: number) => Promise<void>]> = [
      [
        'history: seq + stored message (retention 600 s)',
        (n) => new TopicPublisher({ store, sender, clockToleranceSeconds: 5, history: new TopicHistory({ tableName: db.tableName, dynamoDb: client, settings: { retentionSeconds: 600, maxMessages: 1000 } }) }).publish({ topic: 'bench.topic', data: { ...data, n } }).then(() => undefined),
      ],
      [
        'sequence only (retention 0)',
        (n) => new TopicPublisher({ store, sender, clockToleranceSeconds: 5, history: new TopicHistory({ tableName: db.tableName, dynamoDb: client, settings: { retentionSeconds: 0, maxMessages: 1000 } }) }).publish({ topic: 'bench.topic', data: { ...data, n } }).then(() => undefined),
      ],
      [
        'before: fan-out alone (no seq, no history)',
        async (n) => {
          async function* ids(): AsyncGenerator<string> {
            for await (const page of store.subscribers('bench.topic', { consistentRead: true })) for (const s of page) yield s.connectionId;
          }
          await sender.fanOut(ids(), JSON.stringify(messageFrame({ topic: 'bench.topic', data: { ...data, n }, mid: crypto.randomUUID(), ts: Date.now() })), { topic: 'bench.topic' });
        },
      ],
    ];
    lines.push(`publish to 10 subscribers, ${PUBLISHES} publishes each (DynamoDB Local on loopback, ws harness)`);
    lines.push('| path | requests | WCU | RCU | p50 ms | p99 ms |');
    lines.push('|---|---:|---:|---:|---:|---:|');
    for (const [name, publish] of variants) {
      const start = { ...meter };
      const times: number[] = [];
      for (let n = 0; n < PUBLISHES; n++) {
        const t = performance.now();
        await publish(n);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      lines.push(
        `| ${name} | ${((meter.requests - start.requests) / PUBLISHES).toFixed(2)} | ${((meter.wcu - start.wcu) / PUBLISHES).toFixed(2)} | ${((meter.rcu - start.rcu) / PUBLISHES).toFixed(2)} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 99).toFixed(2)} |`,
      );
    }
  } finally {
    await closeClients(clients);
    destroyManagementClients();
    await gw.stop();
    await db.stop();
  }
  return lines;
}

async function catchUp(): Promise<string[]> {
  const gw = await startGateway({ publicTopicPrefixes: ['public:'], rateLimits: { framesPerConnection: 0, publishesPerUser: 0 }, history: { maxMessages: 2 * MISSED } });
  const proxy = await TcpProxy.start(gw.wsUrl);
  const topic = 'public:catch-up';
  const subscriber = connect({ url: proxy.url(gw.wsUrl), token: () => gw.mintToken({ sub: 'reader' }), WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 100 } });
  const publisher = connect({ url: gw.wsUrl, token: () => gw.mintToken({ sub: 'writer' }), WebSocket });
  const lines: string[] = [];
  try {
    const received: number[] = [];
    let opened = 0;
    subscriber.on('open', () => (opened = performance.now()));
    // What the application is handed, by seq: in order and once each is the point.
    await subscriber.subscribe<number>(topic, (_n, message) => received.push(message.seq!)).ready;
    await publisher.whenOpen();
    proxy.refuse = true;
    proxy.dropAll();
    while (subscriber.state === 'open') await new Promise((r) => setTimeout(r, 5));
    const publishing = performance.now();
    for (let i = 0; i < MISSED; i += 50) await Promise.all(Array.from({ length: Math.min(50, MISSED - i) }, (_, k) => publisher.publish(topic, i + k)));
    const publishedMs = performance.now() - publishing;
    proxy.refuse = false;
    while (received.length < MISSED) await new Promise((r) => setTimeout(r, 2));
    const caughtUpMs = performance.now() - opened;
    const inOrder = received.every((seq, i) => i === 0 || seq === received[i - 1]! + 1);
    lines.push(`catch-up after a reconnect (local gateway, real handlers; ${MISSED} messages published while away in ${publishedMs.toFixed(0)} ms)`);
    lines.push('| missed | handed out | consecutive seqs, once each | reconnect open -> last message (ms) |');
    lines.push('|---:|---:|---|---:|');
    lines.push(`| ${MISSED} | ${received.length} | ${inOrder ? 'yes' : 'NO'} | ${caughtUpMs.toFixed(0)} |`);
  } finally {
    await Promise.all([subscriber.close(), publisher.close()]);
    await proxy.stop();
    await gw.stop();
  }
  return lines;
}

async function main(): Promise<void> {
  const costs = await publishCosts();
  const catching = await catchUp();
  console.log(`bench/recovery; node ${process.version}, load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}`);
  for (const line of [...costs, '', ...catching]) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
