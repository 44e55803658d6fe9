/**
 * Test support: real `ws` clients on a gateway, and their connection and subscription rows
 * written straight into the table with BatchWriteItem (the same item shapes as
 * ConnectionStore writes; seeding 1,000 subscribers one subscribe() at a time is slow).
 */
import { BatchWriteItemCommand, UpdateItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import WebSocket from 'ws';
import { connectionExpiresAt } from '@wskit/shared';

export interface TestClient {
  id: string;
  ws: WebSocket;
  received: string[];
}

export async function openClients(wsUrl: string, ids: string[], batch = 100): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  for (let i = 0; i < ids.length; i += batch) {
    const opened = await Promise.all(
      ids.slice(i, i + batch).map(
        (id) =>
          new Promise<TestClient>((resolve, reject) => {
            const ws = new WebSocket(`${wsUrl}/?id=${encodeURIComponent(id)}`);
            const client: TestClient = { id, ws, received: [] };
            ws.on('message', (data) => client.received.push(String(data)));
            ws.once('open', () => resolve(client));
            ws.once('error', reject);
          }),
      ),
    );
    clients.push(...opened);
  }
  return clients;
}

export async function closeClients(clients: TestClient[]): Promise<void> {
  for (const c of clients) c.ws.terminate();
}

/**
 * Writes a connection row per id (with its topics; `connectionItems: false` leaves it out), a
 * subscription row per topic, and adds the rows to each topic's audience estimate.
 */
export async function seedSubscribers(
  client: DynamoDBClient,
  tableName: string,
  subscriptions: Array<{ connectionId: string; topics: string[] }>,
  options: { connectionItems?: boolean; parallel?: number } = {},
): Promise<void> {
  const connectedAt = Date.now();
  const expiresAt = String(connectionExpiresAt(connectedAt));
  const requests: WriteRequest[] = [];
  for (const { connectionId, topics } of subscriptions) {
    if (options.connectionItems !== false) requests.push({
      PutRequest: {
        Item: {
          pk: { S: `conn#${connectionId}` },
          sk: { S: 'meta' },
          connectionId: { S: connectionId },
          userId: { S: `user-${connectionId}` },
          connectedAt: { N: String(connectedAt) },
          expiresAt: { N: expiresAt },
          ...(topics.length ? { topics: { SS: topics } } : {}),
        },
      },
    });
    for (const topic of topics) {
      requests.push({
        PutRequest: {
          Item: {
            pk: { S: `topic#${topic}` },
            sk: { S: `sub#${connectionId}` },
            connectionId: { S: connectionId },
            userId: { S: `user-${connectionId}` },
            expiresAt: { N: expiresAt },
          },
        },
      });
    }
  }
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  // A few batches at a time; unprocessed items are written again.
  const parallel = options.parallel ?? 8;
  for (let i = 0; i < chunks.length; i += parallel) {
    await Promise.all(
      chunks.slice(i, i + parallel).map(async (chunk) => {
        let pending = chunk;
        for (let attempt = 0; pending.length > 0 && attempt < 10; attempt++) {
          const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
          pending = out.UnprocessedItems?.[tableName] ?? [];
        }
        if (pending.length > 0) throw new Error(`seeding left ${pending.length} items unprocessed`);
      }),
    );
  }
  // Each topic's audience estimate, as the subscribes would have counted it (store.ts).
  const perTopic = new Map<string, number>();
  for (const { topics } of subscriptions) for (const topic of topics) perTopic.set(topic, (perTopic.get(topic) ?? 0) + 1);
  for (const [topic, count] of perTopic) {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: { S: `topic#${topic}` }, sk: { S: 'meta' } },
        UpdateExpression: 'ADD subscribers :n',
        ExpressionAttributeValues: { ':n': { N: String(count) } },
      }),
    );
  }
}

export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
