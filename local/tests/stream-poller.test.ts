// DynamoDB Streams (DynamoDB Local) -> the gateway's stream poller -> the REAL broadcaster
// bundle -> @connections -> real `ws` clients subscribed through the real message handler.
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CreateTableCommand, PutItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startGateway, startStreamPoller, type Gateway } from '../src';
import { connect, eventually, type TestClient } from './helpers';
import { realBundles } from './bundles';
import { startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';

jest.setTimeout(120_000);

let workDir: string;
let db: DynamoHandle;
let gw: Gateway;
let app: DynamoDBClient;
const events: Array<Record<string, unknown>> = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  const distDir = realBundles();
  db = await startDynamo('dynamodb-local');
  app = new DynamoDBClient({ endpoint: db.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await app.send(
    new CreateTableCommand({
      TableName: 'orders',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-streams-'));
  gw = await startGateway({
    distDir,
    dataDir: workDir,
    dynamodbEndpoint: db.endpoint,
    functionEnv: { broadcaster: { WSKIT_STREAM_TOPIC_TEMPLATE: 'public:${entity_type}.${entity_id}', WSKIT_STREAM_DATA_ATTRIBUTE: 'status' } },
    streamSources: [{ tableName: 'orders', startingPosition: 'TRIM_HORIZON', maxRetries: 2, pollIntervalMs: 100 }],
    accessLog: (entry) => events.push(entry),
  });
  expect(gw.warnings).toEqual([]);
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await gw?.stop();
  app?.destroy();
  await db?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const order = (id: string, status: string, extra: Record<string, { S: string }> = {}) =>
  app.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: id }, entity_type: { S: 'order' }, entity_id: { S: id }, status: { S: status }, ...extra } }));

test('item writes reach the subscribers of the mapped topic; a record that can never be published is dropped, the rest arrive once', async () => {
  const token = await gw.mintToken({ sub: 'alice' });
  const client = await connect(`${gw.wsUrl}/?token=${encodeURIComponent(token)}`);
  clients.push(client);
  expect(await client.request({ action: 'subscribe', id: 's', topic: 'public:order.42' })).toMatchObject({ type: 'ack' });

  await order('42', 'paid');
  const first = await client.nextJson(20_000);
  expect(first).toMatchObject({ type: 'message', topic: 'public:order.42', data: 'paid', mid: expect.any(String), ts: expect.any(Number), seq: 1 });

  // No entity_id: the topic template cannot render. The broadcaster drops the record (it
  // could never be published) instead of holding the shard back with retries.
  await app.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'bad' }, entity_type: { S: 'order' }, status: { S: 'x' } } }));
  await order('42', 'shipped');
  await order('43', 'ignored'); // another topic: nothing for alice
  await order('42', 'delivered');
  const later = [await client.nextJson(30_000), await client.nextJson(30_000)];
  expect(later.map((f) => [f.data, f.seq])).toEqual([
    ['shipped', 2],
    ['delivered', 3],
  ]);
  await expect(client.next(500)).rejects.toThrow(/no frame/);
  expect(events.filter((e) => e.event === 'stream-batch-retry' || e.event === 'stream-record-skipped')).toEqual([]);
});

test('the poller retries a batch from its lowest failed record, then skips it, like an event source mapping', async () => {
  await app.send(
    new CreateTableCommand({
      TableName: 'jobs',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
  const seen: string[] = [];
  const log: Array<Record<string, unknown>> = [];
  // The function under the mapping: it reports the record with id "poison" failed every time.
  const invoke = async (event: unknown) => {
    const records = (event as { Records: Array<{ dynamodb: { SequenceNumber: string; NewImage: { id: { S: string } } } }> }).Records;
    for (const record of records) seen.push(record.dynamodb.NewImage.id.S);
    const poisoned = records.filter((r) => r.dynamodb.NewImage.id.S === 'poison');
    return { ok: true as const, result: { batchItemFailures: poisoned.map((r) => ({ itemIdentifier: r.dynamodb.SequenceNumber })) }, awsRequestId: 'test', durationMs: 0 };
  };
  const poller = await startStreamPoller({
    tableName: 'jobs',
    endpoint: db.endpoint,
    region: 'us-east-1',
    startingPosition: 'TRIM_HORIZON',
    maxRetries: 2,
    pollIntervalMs: 50,
    invoke,
    log: (entry) => log.push(entry),
  });
  try {
    for (const id of ['a', 'poison', 'b']) await app.send(new PutItemCommand({ TableName: 'jobs', Item: { id: { S: id } } }));
    await eventually(() => log.some((e) => e.event === 'stream-record-skipped'), Boolean, 30_000);
    await app.send(new PutItemCommand({ TableName: 'jobs', Item: { id: { S: 'c' } } }));
    await eventually(() => seen.includes('c'), Boolean, 30_000);
  } finally {
    await poller.stop();
  }
  expect(log.filter((e) => e.event === 'stream-batch-retry')).toHaveLength(2);
  // 'a' once; the failed record and those after it in its batch on the first pass and each
  // retry; then what follows the skipped record, once more; then 'c'.
  expect(seen.filter((id) => id === 'a')).toHaveLength(1);
  expect(seen.filter((id) => id === 'poison')).toHaveLength(3);
  expect(seen.filter((id) => id === 'c')).toHaveLength(1);
  expect(seen.indexOf('c')).toBeGreaterThan(seen.lastIndexOf('poison'));
});

test('a stream source on the embedded store is refused with what to do', async () => {
  await expect(
    startGateway({ distDir: realBundles(), dataDir: path.join(workDir, 'x'), streamSources: [{ tableName: 'orders' }] }),
  ).rejects.toThrow(/DynamoDB Local/);
});
