/**
 * bench/subscriber-cost: read capacity to find the 100 subscribers of a topic among 10,000
 * connections, wskit's Query on `topic#<topic>` beside the Scan-with-filter the public
 * samples use, on dynalite and on DynamoDB Local.
 *
 *   node bench/run-ts.mjs bench/subscriber-cost/main.ts [--connections 10000] [--subscribers 100]
 *        [--backends dynalite,dynamodb-local]
 *
 * Every connection follows 1-3 topics out of 500 (connection item with its `topics` set,
 * one subscription item per topic), and 100 of them follow `bench.target`. The samples'
 * design is measured on its own table (one item per connection, nothing else), and, for
 * completeness, as a Scan of the wskit table. Both designs
 * page until done with ReturnConsumedCapacity TOTAL; capacity is summed over pages.
 */
import { BatchWriteItemCommand, CreateTableCommand, QueryCommand, ScanCommand, type AttributeValue, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { connectionExpiresAt } from '../../shared/src';
import { startDynamo, type DynamoBackend, type DynamoHandle } from '@wskit/testing/dynamo';
import { seededRandom } from '@wskit/testing/random';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const TARGET = 'bench.target';

/** The samples' table: one item per connection (its topics in a set), nothing else. */
const SAMPLES_TABLE = 'samples-connections';

async function writeAll(db: DynamoHandle, table: string, requests: WriteRequest[]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25 * 8) {
    await Promise.all(
      Array.from({ length: 8 }, async (_, k) => {
        let pending = requests.slice(i + k * 25, i + (k + 1) * 25);
        while (pending.length > 0) {
          const out = await db.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
          pending = out.UnprocessedItems?.[table] ?? [];
        }
      }),
    );
  }
}

async function seed(db: DynamoHandle, connections: number, subscribers: number): Promise<number> {
  const random = seededRandom(2026);
  const expiresAt = String(connectionExpiresAt(Date.now()));
  const requests: WriteRequest[] = [];
  const samples: WriteRequest[] = [];
  const chosen = new Set<number>();
  while (chosen.size < subscribers) chosen.add(Math.floor(random() * connections));
  for (let i = 0; i < connections; i++) {
    const id = `c${i}Aw=`;
    const topics = new Set<string>();
    const n = 1 + Math.floor(random() * 3);
    while (topics.size < n) topics.add(`room.${Math.floor(random() * 500)}`);
    if (chosen.has(i)) topics.add(TARGET);
    requests.push({
      PutRequest: {
        Item: {
          pk: { S: `conn#${id}` }, sk: { S: 'meta' }, connectionId: { S: id }, userId: { S: `u${i % 3000}` },
          connectedAt: { N: String(Date.now()) }, sourceIp: { S: '198.51.100.7' }, userAgent: { S: 'Mozilla/5.0 (bench)' },
          topics: { SS: [...topics] }, expiresAt: { N: expiresAt },
        },
      },
    });
    samples.push({ PutRequest: { Item: { connectionId: { S: id }, userId: { S: `u${i % 3000}` }, topics: { SS: [...topics] } } } });
    for (const topic of topics) {
      requests.push({
        PutRequest: { Item: { pk: { S: `topic#${topic}` }, sk: { S: `sub#${id}` }, connectionId: { S: id }, userId: { S: `u${i % 3000}` }, expiresAt: { N: expiresAt } } },
      });
    }
  }
  await writeAll(db, db.tableName, requests);
  await db.client.send(
    new CreateTableCommand({
      TableName: SAMPLES_TABLE,
      AttributeDefinitions: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await writeAll(db, SAMPLES_TABLE, samples);
  return requests.length;
}

interface Measure {
  design: string;
  found: number;
  itemsRead: number;
  requests: number;
  capacity: number;
  ms: number;
}

async function queryDesign(db: DynamoHandle): Promise<Measure> {
  const t0 = performance.now();
  let startKey: Record<string, AttributeValue> | undefined;
  const m: Measure = { design: 'Query topic#<topic> (wskit)', found: 0, itemsRead: 0, requests: 0, capacity: 0, ms: 0 };
  const now = String(Math.floor(Date.now() / 1000));
  do {
    const out = await db.client.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':pk': { S: `topic#${TARGET}` }, ':sub': { S: 'sub#' }, ':now': { N: now } },
        ProjectionExpression: 'connectionId, userId, expiresAt',
        Limit: 500,
        ExclusiveStartKey: startKey,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    m.requests++;
    m.found += out.Count ?? 0;
    m.itemsRead += out.ScannedCount ?? 0;
    m.capacity += out.ConsumedCapacity?.CapacityUnits ?? NaN;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  m.ms = performance.now() - t0;
  return m;
}

async function scanDesign(db: DynamoHandle, samplesTable: boolean): Promise<Measure> {
  const t0 = performance.now();
  let startKey: Record<string, AttributeValue> | undefined;
  const m: Measure = {
    design: samplesTable ? 'Scan + filter, connections-only table (samples)' : 'Scan + filter on the wskit table',
    found: 0, itemsRead: 0, requests: 0, capacity: 0, ms: 0,
  };
  do {
    const out = await db.client.send(
      new ScanCommand({
        TableName: samplesTable ? SAMPLES_TABLE : db.tableName,
        FilterExpression: samplesTable ? 'contains(topics, :topic)' : 'sk = :meta AND contains(topics, :topic)',
        ExpressionAttributeValues: samplesTable ? { ':topic': { S: TARGET } } : { ':meta': { S: 'meta' }, ':topic': { S: TARGET } },
        ProjectionExpression: 'connectionId',
        ExclusiveStartKey: startKey,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    m.requests++;
    m.found += out.Count ?? 0;
    m.itemsRead += out.ScannedCount ?? 0;
    m.capacity += out.ConsumedCapacity?.CapacityUnits ?? NaN;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  m.ms = performance.now() - t0;
  return m;
}

async function main(): Promise<void> {
  const connections = Number(arg('connections', '10000'));
  const subscribers = Number(arg('subscribers', '100'));
  const backends = arg('backends', 'dynalite,dynamodb-local').split(',') as DynamoBackend[];
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  process.env.AWS_REGION ??= 'us-east-1';
  const rows: Array<Measure & { backend: string; items: number }> = [];
  for (const backend of backends) {
    const db = await startDynamo(backend);
    try {
      const t0 = performance.now();
      const items = await seed(db, connections, subscribers);
      console.error(`bench/subscriber-cost: ${backend}: ${items} items written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (const m of [await queryDesign(db), await scanDesign(db, true), await scanDesign(db, false)]) {
        rows.push({ ...m, backend, items: m.design.includes('samples') ? connections : items });
      }
    } finally {
      await db.stop();
    }
  }
  console.log(`\nbench/subscriber-cost: find ${subscribers} subscribers among ${connections} connections; node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| backend | table items | design | found | items read | requests | read capacity (RCU) | time (ms) |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.backend} | ${r.items} | ${r.design} | ${r.found} | ${r.itemsRead} | ${r.requests} | ${r.capacity.toFixed(1)} | ${r.ms.toFixed(0)} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
