import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
  BatchWriteItemCommand,
  UpdateTimeToLiveCommand,
  ResourceNotFoundException,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, type TableDefinition } from '@wskit/shared/table';

export function dynamoClient(
  endpoint: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: 'local', secretAccessKey: 'local' },
): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials });
}

/** Creates the table when it is missing and waits until it is ACTIVE; sets TTL where supported. */
export async function ensureTable(client: DynamoDBClient, tableName: string, def: TableDefinition): Promise<'created' | 'existing'> {
  let state: 'created' | 'existing' = 'existing';
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException) && (err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    await client.send(new CreateTableCommand(createTableInput(tableName, def)));
    state = 'created';
  }
  for (let i = 0; i < 600; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((g) => !g.IndexStatus || g.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (state === 'created' && def.ttlAttribute) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true } }),
      );
    } catch {
      // dynalite has no UpdateTimeToLive; the embedded store sweeps expired items itself.
    }
  }
  return state;
}

/**
 * Deletes items whose TTL attribute is in the past, as DynamoDB's TTL would (DynamoDB
 * takes up to a few days; the sweep runs every `intervalMs`). Only for the embedded store.
 */
export function startTtlSweeper(client: DynamoDBClient, tableName: string, def: TableDefinition, intervalMs: number): () => Promise<void> {
  const ttl = def.ttlAttribute;
  if (!ttl || intervalMs <= 0) return async () => undefined;
  let running: Promise<void> | undefined;
  const sweep = async () => {
    const now = Math.floor(Date.now() / 1000);
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName,
          FilterExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': ttl, '#h': def.hashKey, ...(def.rangeKey ? { '#r': def.rangeKey } : {}) },
          ExpressionAttributeValues: { ':now': { N: String(now) } },
          ProjectionExpression: def.rangeKey ? '#h, #r' : '#h',
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = page.Items ?? [];
      for (let i = 0; i < keys.length; i += 25) {
        await client.send(
          new BatchWriteItemCommand({
            RequestItems: { [tableName]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) },
          }),
        );
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  };
  const timer = setInterval(() => {
    if (running) return;
    running = sweep()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export interface EmbeddedDynamo {
  endpoint: string;
  stop(): Promise<void>;
}

/** dynalite in this process: in memory, or LevelDB files under `dataDir/dynamodb`. */
export async function startDynalite(dataDir: string | undefined): Promise<EmbeddedDynamo> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  let dbPath: string | undefined;
  if (dataDir) {
    dbPath = path.join(dataDir, 'dynamodb');
    mkdirSync(dbPath, { recursive: true });
  }
  const server = dynalite({ path: dbPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err?: Error) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
