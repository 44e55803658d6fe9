/**
 * Access to the wskit table for the stores (connections, history, rate limits): the table
 * name, the document client resolved at first use (so constructing a store costs nothing),
 * and the small DynamoDB helpers they share.
 */
import { documentClient, dynamoDbDoc, toDocumentClient, type DocumentClient, type DynamoDBClient } from './aws';

export interface TableAccessOptions {
  tableName: string;
  /** A document client to use. Default: the module-scope one (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB). */
  client?: DocumentClient;
  /** Or a low-level DynamoDB client (tests, custom endpoints), wrapped at first use. */
  dynamoDb?: DynamoDBClient;
}

export type TableKey = { pk: string; sk: string };

const BATCH_WRITE_MAX = 25;
const BATCH_GET_MAX = 100;
const MAX_UNPROCESSED_ROUNDS = 8;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** A DynamoDB string set (or list) as an array of strings; anything else is empty. */
export function stringSet(value: unknown): string[] {
  if (value instanceof Set) return [...value].filter((v): v is string => typeof v === 'string');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export class TableAccess {
  readonly tableName: string;
  private readonly explicitClient: DocumentClient | undefined;
  private readonly lowLevelClient: DynamoDBClient | undefined;
  private wrappedClient: Promise<DocumentClient> | undefined;

  constructor(options: TableAccessOptions) {
    if (!options.tableName) throw new Error('a wskit store needs a tableName');
    this.tableName = options.tableName;
    this.explicitClient = options.client;
    this.lowLevelClient = options.dynamoDb;
  }

  async client(): Promise<DocumentClient> {
    if (this.explicitClient) return this.explicitClient;
    if (this.lowLevelClient) return (this.wrappedClient ??= toDocumentClient(this.lowLevelClient));
    return documentClient();
  }

  commands(): ReturnType<typeof dynamoDbDoc> {
    return dynamoDbDoc();
  }

  /** Reads items by key with BatchGetItem, 100 at a time, retrying unprocessed keys with backoff. */
  async batchGet(keys: TableKey[], projection: string, names?: Record<string, string>): Promise<Array<Record<string, unknown>>> {
    const { BatchGetCommand } = await this.commands();
    const client = await this.client();
    const items: Array<Record<string, unknown>> = [];
    for (let start = 0; start < keys.length; start += BATCH_GET_MAX) {
      let pending: Array<Record<string, unknown>> = keys.slice(start, start + BATCH_GET_MAX);
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) await backoff(round, `BatchGetItem left ${pending.length} keys unprocessed`);
        const out = await client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: { Keys: pending, ProjectionExpression: projection, ExpressionAttributeNames: names, ConsistentRead: true },
            },
          }),
        );
        items.push(...(out.Responses?.[this.tableName] ?? []));
        pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof pending;
      }
    }
    return items;
  }

  /** Deletes items with BatchWriteItem, 25 at a time, retrying unprocessed items with backoff. */
  async batchDelete(keys: TableKey[]): Promise<void> {
    const { BatchWriteCommand } = await this.commands();
    const client = await this.client();
    for (let start = 0; start < keys.length; start += BATCH_WRITE_MAX) {
      let requests = keys.slice(start, start + BATCH_WRITE_MAX).map((Key) => ({ DeleteRequest: { Key } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round > 0) await backoff(round, `BatchWriteItem left ${requests.length} deletes unprocessed`);
        const { UnprocessedItems } = await client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }
}

async function backoff(round: number, what: string): Promise<void> {
  if (round > MAX_UNPROCESSED_ROUNDS) throw new Error(`${what} after ${round} attempts`);
  await sleep(Math.random() * Math.min(1000, 25 * 2 ** round));
}
