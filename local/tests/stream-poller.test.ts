// DynamoDB Streams (DynamoDB Local) -> the gateway's stream poller -> the REAL broadcaster
// bundle -> @connections -> real `ws` clients subscribed through the real message handler.
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CreateTableCommand, PutItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startGateway, type Gateway } from '../src';
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

test('item writes reach the subscribers of the mapped topic; a poisoned record is retried, then skipped, and later ones still arrive', async () => {
  const token = await gw.mintToken({ sub: 'alice' });
  const client = await connect(`${gw.wsUrl}/?token=${encodeURIComponent(token)}`);
  clients.push(client);
  expect(await client.request({ action: 'subscribe', id: 's', topic: 'public:order.42' })).toMatchObject({ type: 'ack' });

  await order('42', 'paid');
  const first = await client.nextJson(20_000);
  expect(first).toMatchObject({ type: 'message', topic: 'public:order.42', data: 'paid', mid: expect.any(String), ts: expect.any(Number) });

  // No entity_id in the template's sense: the topic renders with an invalid character.
  await app.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'bad' }, entity_type: { S: 'order' }, status: { S: 'x' } } }));
  await order('42', 'shipped');
  const second = await client.nextJson(30_000);
  expect(second).toMatchObject({ topic: 'public:order.42', data: 'shipped' });
  // The poisoned record is retried (maxRetries 2), then skipped; the records after it in the
  // same batch are delivered again on each retry with the same mid, as with Lambda.
  await eventually(() => events.some((e) => e.event === 'stream-record-skipped' && e.table === 'orders'), Boolean, 30_000);
  expect(events.filter((e) => e.event === 'stream-batch-retry')).toHaveLength(2);
  await order('43', 'ignored'); // another topic: nothing for alice
  await order('42', 'delivered');
  const later: Array<Record<string, unknown>> = [];
  for (;;) {
    const frame = await client.nextJson(20_000);
    later.push(frame);
    if (frame.data === 'delivered') break;
  }
  expect(later.slice(0, -1).every((f) => f.data === 'shipped' && f.mid === second.mid)).toBe(true);
  // At most: the two retries of the poisoned batch, the pass that resumes after the skipped
  // record, and 'delivered' itself. Every copy carries the same mid, so a client drops them.
  expect(later.length).toBeLessThanOrEqual(4);
});

test('a stream source on the embedded store is refused with what to do', async () => {
  await expect(
    startGateway({ distDir: realBundles(), dataDir: path.join(workDir, 'x'), streamSources: [{ tableName: 'orders' }] }),
  ).rejects.toThrow(/DynamoDB Local/);
});
