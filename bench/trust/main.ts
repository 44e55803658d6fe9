/**
 * bench/trust: what the trust work costs per operation, beside the path it replaced, in the
 * same run: requests, write and read capacity (ReturnConsumedCapacity TOTAL) and latency of
 *
 *   - subscribe and unsubscribe: linearizable (versioned rows, tombstones, the check after
 *     the write) against the previous two-write path (which could leave rows behind);
 *   - the frame rate limit: a busy connection (frames back to back, leases) and the worst
 *     case (one frame per window: one write each);

 *
 *   node bench/run-ts.mjs bench/trust/main.ts [--ops 400] [--backends dynamodb-local,dynalite]
 *
 * Latency here is a loopback DynamoDB's; on AWS each request adds a few milliseconds, so the
 * request counts are what carries over.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ConnectionStore, RateLimiter, toDocumentClient } from '../../shared/src';
import { UpdateCommand, PutCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamo, delayingClient, type DynamoBackend } from '@wskit/testing/dynamo';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const OPS = Number(arg('ops', '400'));
const BACKENDS = arg('backends', 'dynamodb-local,dynalite').split(',') as DynamoBackend[];

interface Meter {
  requests: number;
  wcu: number;
  rcu: number;
}

/** A client that asks for consumed capacity on every request and adds it up. */
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
        if (capacity.WriteCapacityUnits !== undefined || capacity.ReadCapacityUnits !== undefined) {
          meter.wcu += capacity.WriteCapacityUnits ?? 0;
          meter.rcu += capacity.ReadCapacityUnits ?? 0;
        } else if ('Item' in input || 'UpdateExpression' in input || 'RequestItems' in input || ('Key' in input && !('ConsistentRead' in input) && !('ProjectionExpression' in input))) {
          // Only a total: a write's units are write units.
          meter.wcu += capacity.CapacityUnits ?? 0;
        } else {
          meter.rcu += capacity.CapacityUnits ?? 0;
        }
      }
      return out;
    },
    { step: 'initialize', name: 'wskitBenchMeter' },
  );
  return client;
}

interface Row {
  backend: string;
  operation: string;
  design: string;
  requests: number;
  wcu: number;
  rcu: number;
  p50: number;
  p99: number;
}

const rows: Row[] = [];
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function measure(backend: string, operation: string, design: string, meter: Meter, count: number, op: (i: number) => Promise<void>): Promise<void> {
  const start = { ...meter };
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  rows.push({
    backend,
    operation,
    design,
    requests: (meter.requests - start.requests) / count,
    wcu: (meter.wcu - start.wcu) / count,
    rcu: (meter.rcu - start.rcu) / count,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
  });
}

/** The subscribe and unsubscribe wskit had before: two writes each, no order between operations. */
function previousPath(doc: Awaited<ReturnType<typeof toDocumentClient>>, table: string) {
  return {
    async subscribe(connectionId: string, topic: string) {
      const { Attributes } = await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: `conn#${connectionId}`, sk: 'meta' },
          UpdateExpression: 'ADD topics :topic',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(topics) OR size(topics) < :max OR contains(topics, :name))',
          ExpressionAttributeValues: { ':topic': new Set([topic]), ':max': 100, ':name': topic },
          ReturnValues: 'ALL_OLD',
        }),
      );
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { pk: `topic#${topic}`, sk: `sub#${connectionId}`, connectionId, userId: Attributes?.userId, expiresAt: Attributes?.expiresAt },
        }),
      );
    },
    async unsubscribe(connectionId: string, topic: string) {
      await doc.send(new DeleteCommand({ TableName: table, Key: { pk: `topic#${topic}`, sk: `sub#${connectionId}` }, ReturnValues: 'ALL_OLD' }));
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: `conn#${connectionId}`, sk: 'meta' },
          UpdateExpression: 'DELETE topics :topic',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':topic': new Set([topic]) },
        }),
      );
    },
  };
}

async function run(backend: DynamoBackend): Promise<void> {
  const db = await startDynamo(backend);
  try {
    const meter: Meter = { requests: 0, wcu: 0, rcu: 0 };
    const client = meteredClient(db.endpoint, meter);
    const store = new ConnectionStore({ tableName: db.tableName, dynamoDb: client });
    const previous = previousPath(await toDocumentClient(client), db.tableName);
    const ids = Array.from({ length: OPS }, (_, i) => `b${i}Qw=`);
    for (const connectionId of ids) await store.putConnection({ connectionId, userId: 'bench', connectedAt: Date.now(), tokenExp: Math.floor(Date.now() / 1000) + 3600 });

    await measure(backend, 'subscribe', 'before: ADD topics, put row', meter, OPS, (i) => previous.subscribe(ids[i]!, `prev.${i % 20}`));
    await measure(backend, 'subscribe', 'now: versioned row, checked after', meter, OPS, (i) => store.subscribe(ids[i]!, `now.${i % 20}`).then(() => undefined));
    await measure(backend, 'unsubscribe', 'before: delete row, DELETE topics', meter, OPS, (i) => previous.unsubscribe(ids[i]!, `prev.${i % 20}`));
    await measure(backend, 'unsubscribe', 'now: versioned tombstone', meter, OPS, (i) => store.unsubscribe(ids[i]!, `now.${i % 20}`).then(() => undefined));

    const limiter = new RateLimiter({ tableName: db.tableName, dynamoDb: client });
    const rule = { limit: 1_000_000, windowSeconds: 3600 };
    await measure(backend, 'frame rate limit', 'busy connection (leases of up to 16)', meter, OPS, () => limiter.take('frames#busy', rule).then(() => undefined));
    await measure(backend, 'frame rate limit', 'one frame per window (worst case)', meter, OPS, (i) => limiter.take(`frames#quiet${i}`, rule).then(() => undefined));
    await measure(backend, 'frame rate limit', 'flooding past the limit (remembered until the window ends)', meter, OPS, () =>
      limiter.take('frames#flood', { limit: 10, windowSeconds: 3600 }).then(() => undefined),
    );
  } finally {
    await db.stop();
  }
}

async function main(): Promise<void> {
  for (const backend of BACKENDS) await run(backend);
  const load = loadavg().map((n) => n.toFixed(1)).join(' ');
  console.log(`trust costs per operation, ${OPS} operations each; node ${process.version}, load average ${load}`);
  console.log('| backend | operation | design | requests | WCU | RCU | p50 ms | p99 ms |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.backend} | ${r.operation} | ${r.design} | ${r.requests.toFixed(2)} | ${r.wcu.toFixed(2)} | ${r.rcu.toFixed(2)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
