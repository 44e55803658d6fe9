/**
 * ConnectionStore: the one table (data model in the repository README).
 *
 *   connection:   pk = conn#<connectionId>, sk = meta
 *   subscription: pk = topic#<topic>,       sk = sub#<connectionId>
 *
 * The connection item's `topics` string set lists the connection's subscriptions, so
 * removing a connection removes exactly its subscription items without a Scan.
 * Writes are ordered so that a failure half-way never leaves a subscription item the
 * `topics` set does not know about: subscribe adds to `topics` first, then writes the
 * subscription; unsubscribe deletes the subscription first, then shrinks `topics`.
 * Every item carries the connection's TTL, so whatever a lost $disconnect leaves behind
 * expires with it.
 */
import { documentClient, dynamoDbDoc, toDocumentClient, type DocumentClient, type DynamoDBClient } from './aws';
import { ConnectionNotFoundError, SubscriptionLimitError } from './errors';
import { connectionExpiresAt } from './limits';
import type { Logger } from './logger';
import { DEFAULT_MAX_TOPICS_PER_CONNECTION } from './config';

export const CONNECTION_SK = 'meta';
export const BY_USER_INDEX = 'byUser';
const BATCH_WRITE_MAX = 25;
const BATCH_GET_MAX = 100;

export const connectionKey = (connectionId: string) => ({ pk: `conn#${connectionId}`, sk: CONNECTION_SK });
export const subscriptionKey = (topic: string, connectionId: string) => ({
  pk: `topic#${topic}`,
  sk: `sub#${connectionId}`,
});

export interface NewConnection {
  connectionId: string;
  userId: string;
  /** Epoch milliseconds (requestContext.connectedAt). */
  connectedAt: number;
  sourceIp?: string | undefined;
  userAgent?: string | undefined;
}

export interface ConnectionRecord extends NewConnection {
  topics: string[];
  /** TTL, epoch seconds. */
  expiresAt: number;
}

export interface Subscriber {
  connectionId: string;
  userId: string;
  expiresAt: number;
}

export interface UserConnection {
  connectionId: string;
  connectedAt: number;
  expiresAt: number;
}

export interface DeleteConnectionResult {
  /** Whether the connection item existed. */
  existed: boolean;
  subscriptionsRemoved: number;
}

export interface ConnectionStoreOptions {
  tableName: string;
  /** A document client to use. Default: the module-scope one (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB). */
  client?: DocumentClient;
  /** Or a low-level DynamoDB client (tests, custom endpoints), wrapped at first use. */
  dynamoDb?: DynamoDBClient;
  logger?: Logger;
  maxTopicsPerConnection?: number;
  /** Clock (epoch ms), for expiry filtering; tests may pin it. */
  now?: () => number;
}

export interface SubscribeResult {
  /** False when the connection was already subscribed (the call is idempotent). */
  added: boolean;
  expiresAt: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function toStringArray(value: unknown): string[] {
  if (value instanceof Set) return [...value].filter((v): v is string => typeof v === 'string');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export class ConnectionStore {
  readonly tableName: string;
  readonly maxTopicsPerConnection: number;
  private readonly explicitClient: DocumentClient | undefined;
  private readonly lowLevelClient: DynamoDBClient | undefined;
  private wrappedClient: Promise<DocumentClient> | undefined;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;

  constructor(options: ConnectionStoreOptions) {
    if (!options.tableName) throw new Error('ConnectionStore needs a tableName');
    this.tableName = options.tableName;
    this.explicitClient = options.client;
    this.lowLevelClient = options.dynamoDb;
    this.logger = options.logger;
    this.maxTopicsPerConnection = options.maxTopicsPerConnection ?? DEFAULT_MAX_TOPICS_PER_CONNECTION;
    this.now = options.now ?? Date.now;
  }

  /** The client is resolved at first use, so constructing a store costs nothing. */
  private async client(): Promise<DocumentClient> {
    if (this.explicitClient) return this.explicitClient;
    if (this.lowLevelClient) return (this.wrappedClient ??= toDocumentClient(this.lowLevelClient));
    return documentClient();
  }

  /** Stores (or replaces) a connection item; its TTL follows from connectedAt. */
  async putConnection(connection: NewConnection): Promise<ConnectionRecord> {
    const { PutCommand } = await dynamoDbDoc();
    const client = await this.client();
    const expiresAt = connectionExpiresAt(connection.connectedAt);
    const item = {
      ...connectionKey(connection.connectionId),
      connectionId: connection.connectionId,
      userId: connection.userId,
      connectedAt: connection.connectedAt,
      sourceIp: connection.sourceIp,
      userAgent: connection.userAgent,
      expiresAt,
    };
    await client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return { ...connection, topics: [], expiresAt };
  }

  async getConnection(connectionId: string): Promise<ConnectionRecord | undefined> {
    const { GetCommand } = await dynamoDbDoc();
    const client = await this.client();
    const { Item } = await client.send(
      new GetCommand({ TableName: this.tableName, Key: connectionKey(connectionId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      connectionId: String(Item.connectionId),
      userId: String(Item.userId),
      connectedAt: Number(Item.connectedAt),
      sourceIp: typeof Item.sourceIp === 'string' ? Item.sourceIp : undefined,
      userAgent: typeof Item.userAgent === 'string' ? Item.userAgent : undefined,
      topics: toStringArray(Item.topics).sort(),
      expiresAt: Number(Item.expiresAt),
    };
  }

  /**
   * Removes the connection item and every subscription its `topics` set lists (batched).
   * `alsoTopics` names subscriptions to remove even when the connection item is already
   * gone (a sender that found a stale subscriber knows the topic). Idempotent.
   */
  async deleteConnection(
    connectionId: string,
    options: { alsoTopics?: readonly string[] } = {},
  ): Promise<DeleteConnectionResult> {
    const { DeleteCommand } = await dynamoDbDoc();
    const client = await this.client();
    const { Attributes } = await client.send(
      new DeleteCommand({ TableName: this.tableName, Key: connectionKey(connectionId), ReturnValues: 'ALL_OLD' }),
    );
    const topics = new Set([...toStringArray(Attributes?.topics), ...(options.alsoTopics ?? [])]);
    const keys = [...topics].map((topic) => subscriptionKey(topic, connectionId));
    await this.batchDelete(keys);
    this.logger?.debug('connection removed', { connectionId, existed: Attributes !== undefined, subscriptionsRemoved: keys.length });
    return { existed: Attributes !== undefined, subscriptionsRemoved: keys.length };
  }

  /**
   * Removes many connections at once (a fan-out's gone recipients): one BatchGetItem per
   * 100 connections reads their `topics`, then BatchWriteItem deletes, 25 at a time, every
   * subscription (plus `alsoTopics`) and then the connection items; unprocessed keys and
   * items are retried with backoff. Idempotent.
   */
  async removeConnections(
    connectionIds: readonly string[],
    options: { alsoTopics?: readonly string[] } = {},
  ): Promise<{ connections: number; subscriptionsRemoved: number }> {
    const ids = [...new Set(connectionIds)];
    if (ids.length === 0) return { connections: 0, subscriptionsRemoved: 0 };
    const { BatchGetCommand } = await dynamoDbDoc();
    const client = await this.client();
    const topicsOf = new Map<string, Set<string>>(ids.map((id) => [id, new Set(options.alsoTopics ?? [])]));
    for (let start = 0; start < ids.length; start += BATCH_GET_MAX) {
      let keys: Array<Record<string, unknown>> = ids.slice(start, start + BATCH_GET_MAX).map(connectionKey);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) {
          if (attempt > 8) throw new Error(`BatchGetItem left ${keys.length} keys unprocessed after ${attempt} attempts`);
          await sleep(Math.random() * Math.min(1000, 25 * 2 ** attempt));
        }
        const out = await client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: keys,
                ProjectionExpression: 'connectionId, topics',
                ConsistentRead: true,
              },
            },
          }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const set = topicsOf.get(String(item.connectionId));
          for (const topic of toStringArray(item.topics)) set?.add(topic);
        }
        keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
      }
    }
    const subscriptionKeys = [...topicsOf].flatMap(([id, topics]) => [...topics].map((t) => subscriptionKey(t, id)));
    // Subscriptions first: if this stops half-way, the connection item still lists them.
    await this.batchDelete(subscriptionKeys);
    await this.batchDelete(ids.map(connectionKey));
    return { connections: ids.length, subscriptionsRemoved: subscriptionKeys.length };
  }

  /** BatchWriteItem deletes in chunks of 25, retrying unprocessed items with backoff. */
  private async batchDelete(keys: Array<{ pk: string; sk: string }>): Promise<void> {
    const { BatchWriteCommand } = await dynamoDbDoc();
    const client = await this.client();
    for (let start = 0; start < keys.length; start += BATCH_WRITE_MAX) {
      let requests = keys.slice(start, start + BATCH_WRITE_MAX).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) {
          if (attempt > 8) {
            throw new Error(`BatchWriteItem left ${requests.length} deletes unprocessed after ${attempt} attempts`);
          }
          await sleep(Math.random() * Math.min(1000, 25 * 2 ** attempt));
        }
        const { UnprocessedItems } = await client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }

  /**
   * Subscribes a connection to a topic. Adds the topic to the connection's `topics` set
   * (only if the connection exists and is under its topic limit), then writes the
   * subscription item with the connection's userId and TTL. Idempotent.
   * @throws ConnectionNotFoundError, SubscriptionLimitError
   */
  async subscribe(connectionId: string, topic: string): Promise<SubscribeResult> {
    const { UpdateCommand, PutCommand } = await dynamoDbDoc();
    const client = await this.client();
    let attributes: Record<string, unknown> | undefined;
    let added = true;
    try {
      ({ Attributes: attributes } = await client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(connectionId),
          UpdateExpression: 'ADD topics :topic',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(topics) OR size(topics) < :max OR contains(topics, :name))',
          ExpressionAttributeValues: { ':topic': new Set([topic]), ':max': this.maxTopicsPerConnection, ':name': topic },
          ReturnValues: 'ALL_OLD',
        }),
      ));
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.getConnection(connectionId);
      if (!existing) throw new ConnectionNotFoundError(connectionId);
      throw new SubscriptionLimitError(connectionId, this.maxTopicsPerConnection);
    }
    if (!attributes) throw new ConnectionNotFoundError(connectionId);
    added = !toStringArray(attributes.topics).includes(topic);
    const expiresAt = Number(attributes.expiresAt);
    await client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...subscriptionKey(topic, connectionId),
          connectionId,
          userId: attributes.userId,
          expiresAt,
        },
      }),
    );
    return { added, expiresAt };
  }

  /** Removes one subscription: the subscription item first, then the `topics` entry. Idempotent. */
  async unsubscribe(connectionId: string, topic: string): Promise<{ removed: boolean }> {
    const { DeleteCommand, UpdateCommand } = await dynamoDbDoc();
    const client = await this.client();
    const { Attributes } = await client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: subscriptionKey(topic, connectionId),
        ReturnValues: 'ALL_OLD',
      }),
    );
    try {
      await client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(connectionId),
          UpdateExpression: 'DELETE topics :topic',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':topic': new Set([topic]) },
        }),
      );
    } catch (error) {
      // The connection is gone already: nothing left to shrink.
      if (!isConditionalCheckFailed(error)) throw error;
    }
    return { removed: Attributes !== undefined };
  }

  /**
   * The subscribers of a topic, a page at a time, by Query on `topic#<topic>` (never a Scan).
   * Rows past their TTL that DynamoDB has not yet removed are skipped; empty pages are not
   * yielded.
   */
  async *subscribers(
    topic: string,
    options: { pageSize?: number; consistentRead?: boolean } = {},
  ): AsyncGenerator<Subscriber[], void, undefined> {
    const { QueryCommand } = await dynamoDbDoc();
    const client = await this.client();
    const pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a whole number >= 1');
    let startKey: Record<string, unknown> | undefined;
    do {
      const nowSeconds = Math.floor(this.now() / 1000);
      const page = await client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeValues: { ':pk': `topic#${topic}`, ':sub': 'sub#', ':now': nowSeconds },
          ProjectionExpression: 'connectionId, userId, expiresAt',
          Limit: pageSize,
          ConsistentRead: options.consistentRead ?? false,
          ExclusiveStartKey: startKey,
        }),
      );
      startKey = page.LastEvaluatedKey;
      const subscribers = (page.Items ?? []).map((item) => ({
        connectionId: String(item.connectionId),
        userId: String(item.userId),
        expiresAt: Number(item.expiresAt),
      }));
      if (subscribers.length > 0) yield subscribers;
    } while (startKey);
  }

  /** A user's live connections, oldest first, through the sparse `byUser` index. */
  async connectionsOfUser(userId: string): Promise<UserConnection[]> {
    const connections: UserConnection[] = [];
    for await (const page of this.byUserPages(userId)) {
      for (const item of page.Items ?? []) {
        connections.push({
          connectionId: String(item.connectionId),
          connectedAt: Number(item.connectedAt),
          expiresAt: Number(item.expiresAt),
        });
      }
    }
    return connections;
  }

  /** How many live connections a user holds (a COUNT query on `byUser`). */
  async countConnectionsOfUser(userId: string): Promise<number> {
    let count = 0;
    for await (const page of this.byUserPages(userId, 'COUNT')) count += page.Count ?? 0;
    return count;
  }

  /** Every page of the Query on `byUser` for a user's unexpired rows. */
  private async *byUserPages(userId: string, select?: 'COUNT'): AsyncGenerator<{ Items?: Array<Record<string, unknown>>; Count?: number }> {
    const { QueryCommand } = await dynamoDbDoc();
    const client = await this.client();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: BY_USER_INDEX,
          KeyConditionExpression: 'userId = :user',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeValues: { ':user': userId, ':now': Math.floor(this.now() / 1000) },
          Select: select,
          ExclusiveStartKey: startKey,
        }),
      );
      yield page;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
