/**
 * bench/stream-latency: how long from a table write to the browser, on the local stack.
 *
 *   npm run bench:stream-latency [-- --samples 200 --interval-ms 50]
 *
 * DynamoDB Local (its stream), the local gateway running the real bundles (its stream poller
 * feeding the real broadcaster, as a Lambda event source mapping does), and a page in Debian's
 * chromium that stamps every message with Date.now() on arrival; the writer stamps `writtenAt`
 * just before its PutItem (same machine, same clock). One write every --interval-ms, in turn
 * per path, the first 10 of each discarded (warm-up). Paths:
 *
 *   stream, poll 250 ms   PutItem -> stream -> poller (idle poll every 250 ms, the gateway's default) -> broadcaster -> page
 *   stream, poll 50 ms    the same with a 50 ms idle poll
 *   /dev/publish          POST /dev/publish (the broadcaster's SQS path, no table) -> broadcaster -> page
 *   client publish        a Node client's publish (the message handler's fan-out) -> page
 *
 * On AWS the stream hop is Lambda's poller instead: typically a few hundred ms (AWS documents
 * stream records as available within a second), plus the broadcaster's fan-out.
 */
import * as path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { connect } from '@wskit/client';
import { startGateway } from '@wskit/local';
import { chromiumPath, ensureTable, localDynamoClient, startDynamoDbLocal } from '@wskit/example-dev-stack';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

export async function main(args: string[]): Promise<void> {
  const samples = arg(args, 'samples', 200);
  const intervalMs = arg(args, 'interval-ms', 50);
  const warmup = 10;
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  try {
    const db = await startDynamoDbLocal();
    cleanup.push(() => db.stop());
    const ddb = localDynamoClient(db.endpoint);
    cleanup.push(() => ddb.destroy());
    const tables = { slow: 'bench-latency-250', fast: 'bench-latency-50' };
    for (const table of Object.values(tables)) {
      await ensureTable(ddb, {
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      });
    }
    const pageDir = mkdtempSync(path.join(tmpdir(), 'wskit-bench-page-'));
    cleanup.push(() => rmSync(pageDir, { recursive: true, force: true }));
    await build({ entryPoints: [path.join(__dirname, 'page.ts')], outfile: path.join(pageDir, 'app.js'), bundle: true, format: 'esm', platform: 'browser', conditions: ['wskit-source', 'module'], logLevel: 'error' });
    writeFileSync(path.join(pageDir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>bench</title><script type="module" src="/app.js"></script>');

    const gw = await startGateway({
      port: 0,
      dynamodbEndpoint: db.endpoint,
      publicTopicPrefixes: ['bench:'],
      pageDir,
      logLevel: 'WARN',
      rateLimits: { publishesPerUser: 0, framesPerConnection: 0 },
      streamSources: [
        { tableName: tables.slow, startingPosition: 'LATEST', pollIntervalMs: 250 },
        { tableName: tables.fast, startingPosition: 'LATEST', pollIntervalMs: 50 },
      ],
    });
    cleanup.push(() => gw.stop());
    const browser = await chromium.launch({ executablePath: chromiumPath() });
    cleanup.push(() => browser.close());
    const page = await browser.newPage();
    const topics = ['bench:stream-250', 'bench:stream-50', 'bench:dev-publish', 'bench:client'];
    await page.goto(`${gw.httpUrl}/?${topics.map((t) => `topic=${encodeURIComponent(t)}`).join('&')}`);
    await page.evaluate(() => window.ready);
    const publisher = connect({ url: gw.wsUrl, WebSocket, token: () => gw.mintToken({ sub: 'writer' }) });
    cleanup.push(() => publisher.close());
    await publisher.whenOpen();

    const writeAck: Record<string, number[]> = { 'bench:stream-250': [], 'bench:stream-50': [], 'bench:dev-publish': [], 'bench:client': [] };
    const send: Record<string, (n: number) => Promise<void>> = {
      'bench:stream-250': async (n) => {
        const writtenAt = Date.now();
        await ddb.send(new PutItemCommand({ TableName: tables.slow, Item: { id: { S: 'x' }, topic: { S: 'bench:stream-250' }, n: { N: String(n) }, writtenAt: { N: String(writtenAt) } } }));
        writeAck['bench:stream-250']!.push(Date.now() - writtenAt);
      },
      'bench:stream-50': async (n) => {
        const writtenAt = Date.now();
        await ddb.send(new PutItemCommand({ TableName: tables.fast, Item: { id: { S: 'x' }, topic: { S: 'bench:stream-50' }, n: { N: String(n) }, writtenAt: { N: String(writtenAt) } } }));
        writeAck['bench:stream-50']!.push(Date.now() - writtenAt);
      },
      'bench:dev-publish': async (n) => {
        const writtenAt = Date.now();
        const response = await fetch(`${gw.httpUrl}/dev/publish`, { method: 'POST', body: JSON.stringify({ topic: 'bench:dev-publish', data: { n, writtenAt } }) });
        await response.arrayBuffer();
        writeAck['bench:dev-publish']!.push(Date.now() - writtenAt);
      },
      'bench:client': async (n) => {
        const writtenAt = Date.now();
        await publisher.publish('bench:client', { n, writtenAt });
        writeAck['bench:client']!.push(Date.now() - writtenAt);
      },
    };
    // Interleaved: every path sees the same moments of machine load.
    for (let n = 0; n < samples + warmup; n++) {
      for (const topic of topics) {
        await send[topic]!(n);
        await sleep(intervalMs);
      }
    }
    await sleep(2000);
    const got = await page.evaluate(() => window.samples);

    const labels: Record<string, string> = {
      'bench:stream-250': 'table write -> page, stream poll 250 ms',
      'bench:stream-50': 'table write -> page, stream poll 50 ms',
      'bench:dev-publish': 'POST /dev/publish -> page (no table)',
      'bench:client': 'client publish -> page (no table)',
    };
    const rows = topics.map((topic) => {
      const latencies = got
        .filter((s) => s.topic === topic && s.n >= warmup)
        .map((s) => s.receivedAt - s.writtenAt)
        .sort((a, b) => a - b);
      const acks = writeAck[topic]!.slice(warmup).sort((a, b) => a - b);
      return [labels[topic]!, `${latencies.length}/${samples}`, percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99), latencies.at(-1) ?? NaN, percentile(acks, 50)].map(String);
    });
    const header = ['path', 'received', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'write p50 ms'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(`bench/stream-latency: ${samples} writes per path (after ${warmup} warm-up), one every ${intervalMs} ms in turn; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of rows) console.log(line(row));
  } finally {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
  }
}
