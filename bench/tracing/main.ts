/**
 * bench/tracing: what X-Ray tracing costs the message handler, in one run.
 *
 *   npm run bench:tracing -- [--frames 600]
 *
 * The handler (from source) on dynalite and the management API stand-in, a UDP socket
 * standing in for the X-Ray daemon. Each mode handles the same frames: subscribe, publish
 * to 5 subscribers, unsubscribe, in turn:
 *
 *   off        WSKIT_TRACING unset (tracing_mode PassThrough)
 *   sampled    tracing on, Lambda sampled the invocation: subsegments under its segment
 *   continued  tracing on, each frame carries a sampled traceparent: a segment of its own too
 *
 * Per frame: wall time (p50), this process's CPU time (user + system) and the datagrams sent.
 * Cold start: the bytes tracing adds to the message bundle (esbuild metafile) and the time to
 * load what it imports at init (node:async_hooks, node:dgram: built-ins).
 */
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { startDynamo } from '@wskit/testing/dynamo';
import { startManagementApi } from '@wskit/testing/management-api';
import { lambdaContext, messageEvent, newConnectionId } from '@wskit/testing/events';
import { ConnectionStore, destroyManagementClients } from '../../shared/src';

const framesAt = process.argv.indexOf('--frames');
const FRAMES = framesAt > 0 && Number(process.argv[framesAt + 1]) > 1 ? Math.floor(Number(process.argv[framesAt + 1])) : 600;
const root = path.resolve(__dirname, '..', '..');

type Handler = (event: unknown, context?: unknown) => Promise<{ statusCode: number; body?: string }>;

async function bundleShare(): Promise<{ total: number; tracing: number }> {
  // esbuild runs its binary from its package: loaded from there, never bundled into this bench.
  const { build } = createRequire(path.join(root, 'package.json'))('esbuild') as typeof import('esbuild');
  const result = await build({
    entryPoints: [path.join(root, 'lambda/message/src/index.ts')],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    conditions: ['wskit-source', 'module'],
    external: ['@aws-sdk/*', '@smithy/*'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0]!;
  const tracing = Object.entries(output.inputs).filter(([file]) => file.endsWith('shared/src/tracing.ts')).reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
  return { total: output.bytes, tracing };
}

async function main(): Promise<void> {
  // DynamoDB Local runs in its own (Java) process: this process's CPU time is the handler's.
  const [db, api] = await Promise.all([startDynamo('dynamodb-local'), startManagementApi({ stage: 'local' })]);
  const sink = dgram.createSocket('udp4');
  let datagrams = 0;
  sink.on('message', () => datagrams++);
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
  Object.assign(process.env, {
    WSKIT_TABLE_NAME: db.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    WSKIT_CALLBACK_URL: api.url,
    WSKIT_PUBLIC_TOPIC_PREFIXES: 'public:',
    WSKIT_FRAME_RATE_LIMIT: '0',
    WSKIT_PUBLISH_RATE_LIMIT: '0',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    WSKIT_LOG_LEVEL: 'ERROR',
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${sink.address().port}`,
  });
  const { handler } = (await import('../../lambda/message/src')) as { handler: Handler };
  const store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  const followers: string[] = [];
  for (let i = 0; i < 5; i++) {
    const id = newConnectionId();
    await store.putConnection({ connectionId: id, userId: `f${i}`, connectedAt: Date.now() });
    await store.subscribe(id, 'public:bench');
    api.connect(id);
    followers.push(id);
  }
  // One connection per mode: each mode's subscribe and unsubscribe then do the same work
  // (a real subscribe, a real removal) whichever mode goes first on a frame.
  const connectionOf = new Map<string, string>();

  const frame = (i: number) => [
    { action: 'subscribe', topic: `public:t${i % 50}`, id: `s${i}` },
    { action: 'publish', topic: 'public:bench', data: { i }, id: `p${i}` },
    { action: 'unsubscribe', topic: `public:t${i % 50}`, id: `u${i}` },
  ][i % 3]!;
  const modes = [
    { name: 'off', tracing: undefined, sampled: false, traceparent: false },
    { name: 'sampled', tracing: 'on', sampled: true, traceparent: false },
    { name: 'continued (traceparent)', tracing: 'on', sampled: true, traceparent: true },
  ];
  const rows: string[] = [];
  // The handler's metrics lines (EMF, on stdout) would bury the table: dropped while it runs.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  // The modes take turns frame by frame (the same frame in each mode, then the next), so the
  // table growing through the run and the machine's load weigh on each mode alike.
  type Tally = { times: number[]; cpu: number; datagrams: number };
  for (const mode of modes) {
    const id = newConnectionId();
    await store.putConnection({ connectionId: id, userId: 'me', connectedAt: Date.now() });
    connectionOf.set(mode.name, id);
  }
  const runFrame = async (mode: (typeof modes)[number], i: number, tally: Tally) => {
    if (mode.tracing) process.env.WSKIT_TRACING = mode.tracing;
    else delete process.env.WSKIT_TRACING;
    process.env._X_AMZN_TRACE_ID = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${i.toString(16).padStart(24, '0')};Parent=${(i + 1).toString(16).padStart(16, '0')};Sampled=${mode.sampled ? 1 : 0}`;
    const body = { ...frame(i), ...(mode.traceparent ? { traceparent: `00-${(i + 1).toString(16).padStart(32, 'a')}-${(i + 1).toString(16).padStart(16, 'b')}-01` } : {}) };
    const before = datagrams;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { statusCode } = await handler(messageEvent(JSON.stringify(body), { connectionId: connectionOf.get(mode.name)!, userId: 'me' }), lambdaContext());
    tally.times.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    tally.cpu += used.user + used.system;
    // Datagrams are sent during the invocation and arrive on loopback within a moment.
    await new Promise((resolve) => setTimeout(resolve, 3));
    tally.datagrams += datagrams - before;
    if (statusCode !== 200) throw new Error(`frame ${i} answered ${statusCode} (${mode.name})`);
  };
  for (let round = 0; round < 2; round++) {
    const tallies = modes.map((): Tally => ({ times: [], cpu: 0, datagrams: 0 }));
    for (let i = 0; i < FRAMES; i++) {
      for (let m = 0; m < modes.length; m++) await runFrame(modes[(m + i) % modes.length]!, i, tallies[(m + i) % modes.length]!);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The first round warms the code and the table up; the second is reported.
    if (round === 0) continue;
    const offCpu = tallies[0]!.cpu / FRAMES;
    modes.forEach((mode, m) => {
      const { times, cpu, datagrams: sent } = tallies[m]!;
      times.sort((x, y) => x - y);
      const cpuPerFrame = cpu / FRAMES;
      rows.push(`| ${mode.name} | ${FRAMES} | ${times[Math.floor(FRAMES / 2)]!.toFixed(2)} | ${cpuPerFrame.toFixed(0)} | ${mode.name === 'off' ? '-' : `${cpuPerFrame >= offCpu ? '+' : ''}${(cpuPerFrame - offCpu).toFixed(0)}`} | ${(sent / FRAMES).toFixed(2)} |`);
    });
  }
  process.stdout.write = write;

  // The emitter alone: a subsegment around a call that does nothing, sampled or not.
  const { runInvocationTrace, traced } = await import('../../shared/src');
  const perSubsegment = async (sampled: boolean) => {
    process.env.WSKIT_TRACING = 'on';
    process.env._X_AMZN_TRACE_ID = `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=${sampled ? 1 : 0}`;
    const n = 20_000;
    const cpu = process.cpuUsage();
    await runInvocationTrace(async () => {
      for (let i = 0; i < n; i++) await traced({ name: 'DynamoDB', aws: { operation: 'GetItem', table_name: 'wskit' } }, async () => i);
    });
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / n;
  };
  await perSubsegment(true);
  const sampledCost = await perSubsegment(true);
  const unsampledCost = await perSubsegment(false);
  const share = await bundleShare();
  // In a fresh process, as at a cold start: the built-ins tracing imports.
  const probe = spawnSync(process.execPath, ['-e', "const t=process.hrtime.bigint();require('node:async_hooks');require('node:dgram');console.log(Number(process.hrtime.bigint()-t)/1e6)"], { encoding: 'utf8' });
  const loadMs = Number(probe.stdout.trim());

  console.log(`\nnode ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| tracing | frames | p50 ms | CPU µs/frame | vs off | datagrams/frame |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
  console.log(`\nper subsegment (the emitter alone, 20,000 in a row): ${sampledCost.toFixed(1)} µs CPU sampled, ${unsampledCost.toFixed(1)} µs not sampled`);
  console.log(`cold start: tracing is ${share.tracing} of the message bundle's ${share.total} bytes (minified, SDK external); its imports (node:async_hooks, node:dgram) load in ${loadMs.toFixed(2)} ms`);
  destroyManagementClients();
  sink.close();
  await Promise.all([db.stop(), api.stop()]);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
