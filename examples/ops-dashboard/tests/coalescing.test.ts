/**
 * The coalescer: N samples in one stream batch become one push per topic per batch, with every
 * value in it. Against the real parts: the local gateway with the real broadcaster and handler
 * bundles (pushes counted by a real client), DynamoDB Local's stream through the gateway's
 * stream poller, and SQS (moto, the infrastructure checks' emulator) for the AWS path.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import WebSocket from 'ws';
import { connect, type PushedMessage, type WskitClient } from '@wskit/client';
import { startGateway, startStreamPoller, type Gateway, type StreamPoller } from '@wskit/local';
import { ensureTable, localDynamoClient, startDynamoDbLocal, type DynamoDbLocal } from '@wskit/example-dev-stack';
import { coalesce, type StreamRecord } from '../src/coalesce';
import { createHandler, type StreamEvent } from '../src/handler';
import { METRICS, metricsTableDefinition, sortKey, type MetricsUpdate } from '../src/model';
import { DevPublishPublisher, SqsPublisher } from '../src/publishers';

jest.setTimeout(60_000);

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const quiet = () => undefined;

let db: DynamoDbLocal;
let gw: Gateway;
let client: WskitClient;
const received: PushedMessage<MetricsUpdate>[] = [];
const services = ['alpha', 'beta', 'gamma'];

beforeAll(async () => {
  db = await startDynamoDbLocal();
  gw = await startGateway({ port: 0, dynamodbEndpoint: db.endpoint, publicTopicPrefixes: ['metrics:'], logLevel: 'WARN' });
  client = connect({ url: gw.wsUrl, WebSocket, token: () => gw.mintToken({ sub: 'ops' }) });
  await Promise.all(services.map((s) => client.subscribe<MetricsUpdate>(`metrics:${s}`, (_d, m) => received.push(m)).ready));
});

afterAll(async () => {
  await client?.close();
  await gw?.stop();
  await db?.stop();
});

/** A Lambda-shaped stream record of one sample. */
function record(seq: number, service: string, metric: string, value: number, ts: number): StreamRecord {
  return {
    eventName: 'INSERT',
    dynamodb: {
      SequenceNumber: String(1000 + seq),
      NewImage: { service: { S: service }, sk: { S: sortKey(ts, metric) }, metric: { S: metric }, value: { N: String(value) }, ts: { N: String(ts) } },
    },
  };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pushesAfter<T>(run: () => Promise<T>, expected: number): Promise<{ result: T; pushes: PushedMessage<MetricsUpdate>[] }> {
  const start = received.length;
  const result = await run();
  const deadline = Date.now() + 10_000;
  while (received.length - start < expected && Date.now() < deadline) await settle(20);
  await settle(500); // nothing more arrives
  return { result, pushes: received.slice(start) };
}

test('60 samples of 3 services in one batch: 3 pushes, one per topic, every value in stream order', async () => {
  const records = Array.from({ length: 60 }, (_, i) => record(i, services[i % 3]!, METRICS[i % 4]!, Math.round(i * 1.5 * 10) / 10, 1_700_000_000_000 + i * 10));
  const handler = createHandler(new DevPublishPublisher(`${gw.httpUrl}/dev/publish`), quiet);
  const { result, pushes } = await pushesAfter(() => handler({ Records: records }), 3);
  expect(result).toEqual({ batchItemFailures: [] });
  expect(pushes.map((p) => p.topic).sort()).toEqual(['metrics:alpha', 'metrics:beta', 'metrics:gamma']);
  for (const [index, service] of services.entries()) {
    const push = pushes.find((p) => p.topic === `metrics:${service}`)!;
    const mine = Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 === index);
    expect(push.data).toEqual({
      type: 'METRICS_UPDATE',
      service,
      records: 20,
      from: 1_700_000_000_000 + mine[0]! * 10,
      to: 1_700_000_000_000 + mine.at(-1)! * 10,
      points: mine.map((i) => ({ metric: METRICS[i % 4], value: Math.round(i * 1.5 * 10) / 10, ts: 1_700_000_000_000 + i * 10 })),
      latest: Object.fromEntries(
        METRICS.map((metric) => {
          const last = mine.filter((i) => METRICS[i % 4] === metric).at(-1)!;
          return [metric, { value: Math.round(last * 1.5 * 10) / 10, ts: 1_700_000_000_000 + last * 10 }];
        }),
      ),
    });
  }
});

test('a failed publish reports exactly the records of the updates it carried; malformed records are skipped, not retried', async () => {
  // Nothing listens on a port just freed: every publish fails.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
  const records = [record(1, 'alpha', 'requests', 1, 1), { eventName: 'INSERT', dynamodb: { SequenceNumber: '2000', NewImage: { service: { S: 'alpha' } } } }, record(3, 'beta', 'errors', 2, 3)];
  const lines: string[] = [];
  const result = await createHandler(new DevPublishPublisher(`http://127.0.0.1:${port}/dev/publish`), (l) => lines.push(l))({ Records: records });
  expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['1001', '1003']);
  expect(lines.some((l) => l.includes('"record skipped"') && l.includes('"2000"') && l.includes('metric is missing'))).toBe(true);
  // And the pure step: a service with more samples than an update holds gets several.
  const many = Array.from({ length: 7 }, (_, i) => record(i, 'alpha', 'requests', i, i));
  expect(coalesce(many, 3).updates.map((u) => u.data.records)).toEqual([3, 3, 1]);
  // Metric names from the table are names, whatever they spell.
  const odd = ['toString', '__proto__', 'constructor'].map((metric, i) => record(10 + i, 'alpha', metric, i + 1, 100 + i));
  const { latest } = coalesce(odd).updates[0]!.data;
  expect(Object.keys(latest).sort()).toEqual(['__proto__', 'constructor', 'toString']);
  expect(Object.hasOwn(latest, '__proto__') && latest.__proto__).toEqual({ value: 2, ts: 101 });
  expect(latest.toString).toEqual({ value: 1, ts: 100 });
});

test('through the table stream: samples written across three writes inside the batching window arrive as one push per service', async () => {
  const ddb: DynamoDBClient = localDynamoClient(db.endpoint);
  await ensureTable(ddb, metricsTableDefinition('coalesce-metrics'));
  const batches: number[] = [];
  const handler = createHandler(new DevPublishPublisher(`${gw.httpUrl}/dev/publish`), quiet);
  let poller: StreamPoller | undefined;
  try {
    poller = await startStreamPoller({
      tableName: 'coalesce-metrics',
      endpoint: db.endpoint,
      region: gw.region,
      startingPosition: 'LATEST',
      batchSize: 1000,
      pollIntervalMs: 50,
      batchWindowMs: 1500,
      invoke: async (event) => {
        batches.push((event as StreamEvent).Records?.length ?? 0);
        return { ok: true, result: await handler(event as StreamEvent), awsRequestId: 'test', durationMs: 0 };
      },
    });
    const write = (tick: number) =>
      ddb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            'coalesce-metrics': services.flatMap((service) =>
              METRICS.map((metric, m) => ({
                PutRequest: {
                  Item: {
                    service: { S: service },
                    sk: { S: sortKey(5000 + tick, metric) },
                    metric: { S: metric },
                    value: { N: String(tick * 10 + m) },
                    ts: { N: String(5000 + tick) },
                  },
                },
              })),
            ),
          },
        }),
      );
    const { pushes } = await pushesAfter(async () => {
      for (let tick = 0; tick < 3; tick++) {
        await write(tick);
        await settle(100);
      }
    }, 3);
    expect(batches).toEqual([36]);
    expect(pushes).toHaveLength(3);
    for (const service of services) {
      const push = pushes.find((p) => p.topic === `metrics:${service}`)!;
      expect(push.data.records).toBe(12);
      expect(push.data.latest).toEqual(Object.fromEntries(METRICS.map((metric, m) => [metric, { value: 20 + m, ts: 5002 }])));
      expect(push.data.points.filter((p) => p.metric === 'requests').map((p) => p.value)).toEqual([0, 10, 20]);
    }
  } finally {
    await poller?.stop();
    ddb.destroy();
  }
});

describe('the AWS path: SQS', () => {
  let moto: ChildProcess | undefined;
  let sqs: SQSClient;
  let endpoint: string;

  beforeAll(async () => {
    const motoDir = execFileSync('bash', ['-c', '. scripts/infra/lib.sh && printf %s "$WSKIT_MOTO_DIR"'], { cwd: repoRoot, encoding: 'utf8' });
    const server = path.join(motoDir, 'venv', 'bin', 'moto_server');
    if (!existsSync(server)) throw new Error(`moto is not installed (${server}): run bash scripts/infra/install.sh (npm run install:tools)`);
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(server, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        await fetch(`${endpoint}/moto-api/data.json`);
        break;
      } catch {
        if (i > 150) throw new Error('moto did not start');
        await settle(100);
      }
    }
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' } });
  });

  afterAll(async () => {
    sqs?.destroy();
    if (moto && moto.exitCode === null) {
      const exited = new Promise((resolve) => moto!.once('exit', resolve));
      moto.kill('SIGTERM');
      await exited;
    }
  });

  test('one SQS message per topic per batch, in the broadcaster\'s {"topic", "data"} format', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'broadcast-source' }));
    const records = Array.from({ length: 24 }, (_, i) => record(i, services[i % 3]!, METRICS[i % 4]!, i, 9000 + i));
    const handler = createHandler(new SqsPublisher(QueueUrl!, async () => sqs), quiet);
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const bodies = Messages.map((m) => JSON.parse(m.Body!) as { topic: string; data: MetricsUpdate });
    expect(bodies.map((b) => b.topic).sort()).toEqual(['metrics:alpha', 'metrics:beta', 'metrics:gamma']);
    expect(bodies.every((b) => b.data.type === 'METRICS_UPDATE' && b.data.records === 8)).toBe(true);
    // A queue that does not exist: every record is reported, so Lambda retries the batch.
    const broken = createHandler(new SqsPublisher(`${endpoint}/123456789012/missing`, async () => sqs), quiet);
    expect((await broken({ Records: records })).batchItemFailures).toHaveLength(24);
  });
});
