/**
 * ConnectionStore: connections, their subscriptions and each user's connection slots, in the
 * one wskit table (data model in the repository README).
 *
 *   connection:   pk = conn#<connectionId>, sk = meta
 *                 userId, connectedAt, sourceIp, userAgent, tokenExp, expiresAt,
 *                 topics (set: the subscriptions that count), dropped (set: topics whose
 *                 row is a tombstone), ver (one per subscribe/unsubscribe)
 *   subscription: pk = topic#<topic>,       sk = sub#<connectionId>
 *                 connectionId, userId, tokenExp, expiresAt, ver, active
 *   user:         pk = user#<userId>,       sk = connections
 *                 slots (set of the user's connection ids), expiresAt
 *
 * Subscribe and unsubscribe are linearizable per connection without transactions (dynalite
 * has none): each one first updates the connection item atomically, which orders it (the
 * item's `ver` after the update is the operation's version) and decides membership and the
 * topic limit; then it writes the subscription row with that version, conditionally, so the
 * row ends at the state of the highest version whatever order the writes land in. An
 * unsubscribe leaves a tombstone row (`active = false`) rather than deleting it, so a slower
 * subscribe with a lower version can never bring the row back; fan-out skips tombstones and
 * a connection's removal deletes them. A subscribe that finds its connection gone after
 * writing its row (a racing $disconnect) removes the row again. So after any interleaving:
 * a topic delivers to a connection if and only if it is in the connection's `topics`, which
 * is what the limit counts.
 *
 * The per-user connection cap is exact: a connection holds a slot in its user's item, taken
 * with a conditional update; a slot whose connection is gone (a lost $disconnect) is
 * reclaimed when the cap is reached.
 */
import { ConnectionNotFoundError, SubscriptionLimitError } from './errors';
import { DEFAULT_MAX_TOPICS_PER_CONNECTION } from './config';
import { connectionExpiresAt } from './limits';
import type { Logger } from './logger';
import { TableAccess, isConditionalCheckFailed, stringSet, type TableAccessOptions, type TableKey } from './table-access';

export const CONNECTION_SK = 'meta';
export const USER_SK = 'connections';

export const connectionKey = (connectionId: string): TableKey => ({ pk: `conn#${connectionId}`, sk: CONNECTION_SK });
export const subscriptionKey = (topic: string, connectionId: string): TableKey => ({ pk: `topic#${topic}`, sk: `sub#${connectionId}` });
export const userKey = (userId: string): TableKey => ({ pk: `user#${userId}`, sk: USER_SK });
/** A topic's subscription-change counter (what subscriber caches compare with). */
export const topicMetaKey = (topic: string): TableKey => ({ pk: `topic#${topic}`, sk: 'meta' });
/** One subscription change of a topic, by its change number. */
export const topicChangeKey = (topic: string, change: number): TableKey => ({ pk: `topic#${topic}`, sk: `chg#${String(change).padStart(16, '0')}` });
/** How long a topic's change entries stay readable: caches older than this load the topic again. */
export const TOPIC_CHANGE_RETENTION_SECONDS = 3600;

/** How long a new connection is left alone by slot reclaiming: its $connect may still be running. */
export const SLOT_SETTLE_MS = 30_000;

export interface NewConnection {
  connectionId: string;
  userId: string;
  /** Epoch milliseconds (requestContext.connectedAt). */
  connectedAt: number;
  sourceIp?: string | undefined;
  userAgent?: string | undefined;
  /** The token's expiry, epoch seconds: fan-out stops delivering after it. */
  tokenExp?: number | undefined;
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
  /** The connection's token expiry (epoch seconds), when known. */
  tokenExp?: number;
}

export interface DeleteConnectionResult {
  /** Whether the connection item existed. */
  existed: boolean;
  subscriptionsRemoved: number;
}

export interface ConnectionStoreOptions extends TableAccessOptions {
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

export interface AdmitOptions {
  /** The most connections one user may hold; 0 = no cap (no slots are kept). */
  cap: number;
  /**
   * Whether API Gateway still has a connection (GetConnection): true when gone. Throwing, or
   * undefined, means "cannot tell": the slot is kept.
   */
  isGone: (connectionId: string) => Promise<boolean | undefined>;
  /** Connections younger than this are never reclaimed. Default SLOT_SETTLE_MS. */
  settleMs?: number;
}

export type AdmitResult = { admitted: true; record: ConnectionRecord } | { admitted: false; open: number };

function optionalNumber(value: unknown): number | undefined {
  const n = Number(value);
  return value !== undefined && value !== null && Number.isFinite(n) ? n : undefined;
}

export class ConnectionStore {
  readonly tableName: string;
  readonly maxTopicsPerConnection: number;
  /** How this store reaches its table (a SubscriberCache of the same table uses it too). */
  readonly tableOptions: TableAccessOptions;
  private readonly table: TableAccess;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;

  constructor(options: ConnectionStoreOptions) {
    this.table = new TableAccess(options);
    this.tableName = this.table.tableName;
    this.tableOptions = { tableName: options.tableName, client: options.client, dynamoDb: options.dynamoDb };
    this.logger = options.logger;
    this.maxTopicsPerConnection = options.maxTopicsPerConnection ?? DEFAULT_MAX_TOPICS_PER_CONNECTION;
    this.now = options.now ?? Date.now;
  }

  /** Stores (or replaces) a connection item; its TTL follows from connectedAt. */
  async putConnection(connection: NewConnection): Promise<ConnectionRecord> {
    const { PutCommand } = await this.table.commands();
    const client = await this.table.client();
    const expiresAt = connectionExpiresAt(connection.connectedAt);
    const item = {
      ...connectionKey(connection.connectionId),
      connectionId: connection.connectionId,
      userId: connection.userId,
      connectedAt: connection.connectedAt,
      sourceIp: connection.sourceIp,
      userAgent: connection.userAgent,
      tokenExp: connection.tokenExp,
      expiresAt,
    };
    await client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return { ...connection, topics: [], expiresAt };
  }

  /**
   * Stores a connection and takes one of its user's slots, exactly: of any number of
   * parallel connects, only as many as the cap allows are admitted. At the cap, slots whose
   * connection is gone (no row, an expired row, or GetConnection says so for a connection
   * older than `settleMs`) are reclaimed first. A refused connection leaves nothing behind.
   */
  async admitConnection(connection: NewConnection, options: AdmitOptions): Promise<AdmitResult> {
    // The row before the slot: a slot whose row is missing can then only be a leftover.
    const record = await this.putConnection(connection);
    if (options.cap <= 0) return { admitted: true, record };
    if (await this.claimSlot(connection.userId, connection.connectionId, options.cap, record.expiresAt)) {
      return { admitted: true, record };
    }
    const { freed, open } = await this.reclaimSlots(connection.userId, connection.connectionId, options);
    if (freed > 0 && (await this.claimSlot(connection.userId, connection.connectionId, options.cap, record.expiresAt))) {
      return { admitted: true, record };
    }
    const { DeleteCommand } = await this.table.commands();
    await (await this.table.client()).send(new DeleteCommand({ TableName: this.tableName, Key: connectionKey(connection.connectionId) }));
    return { admitted: false, open };
  }

  /** The connection ids holding a user's slots. */
  async userSlots(userId: string): Promise<string[]> {
    const { GetCommand } = await this.table.commands();
    const client = await this.table.client();
    const { Item } = await client.send(new GetCommand({ TableName: this.tableName, Key: userKey(userId), ConsistentRead: true }));
    return stringSet(Item?.slots).sort();
  }

  private async claimSlot(userId: string, connectionId: string, cap: number, expiresAt: number): Promise<boolean> {
    const { UpdateCommand } = await this.table.commands();
    const client = await this.table.client();
    try {
      await client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(userId),
          UpdateExpression: 'ADD slots :id SET expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(slots) OR size(slots) < :cap OR contains(slots, :name)',
          ExpressionAttributeValues: { ':id': new Set([connectionId]), ':exp': expiresAt, ':cap': cap, ':name': connectionId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async releaseSlots(userId: string, connectionIds: string[]): Promise<void> {
    if (connectionIds.length === 0) return;
    const { UpdateCommand } = await this.table.commands();
    const client = await this.table.client();
    await client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: userKey(userId),
        UpdateExpression: 'DELETE slots :ids',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':ids': new Set(connectionIds) },
      }),
    ).catch((error: unknown) => {
      if (!isConditionalCheckFailed(error)) throw error;
    });
  }

  /** Frees the slots of a user's connections that are gone. Returns how many, and how many stay. */
  private async reclaimSlots(userId: string, self: string, options: AdmitOptions): Promise<{ freed: number; open: number }> {
    const slots = (await this.userSlots(userId)).filter((id) => id !== self);
    if (slots.length === 0) return { freed: 0, open: 0 };
    const rows = new Map(
      (await this.table.batchGet(slots.map(connectionKey), 'connectionId, connectedAt, expiresAt')).map((item) => [String(item.connectionId), item]),
    );
    const nowMs = this.now();
    const settleMs = options.settleMs ?? SLOT_SETTLE_MS;
    const leftovers: string[] = [];
    const gone: string[] = [];
    await Promise.all(
      slots.map(async (id) => {
        const row = rows.get(id);
        if (!row || Number(row.expiresAt) * 1000 <= nowMs) {
          leftovers.push(id);
          return;
        }
        if (nowMs - Number(row.connectedAt) < settleMs) return;
        try {
          if ((await options.isGone(id)) === true) gone.push(id);
        } catch (error) {
          this.logger?.debug('could not check a connection; its slot is kept', { staleCandidate: id, error });
        }
      }),
    );
    await this.releaseSlots(userId, leftovers);
    if (gone.length > 0) await this.removeConnections(gone);
    const freed = leftovers.length + gone.length;
    if (freed > 0) this.logger?.info('reclaimed the slots of gone connections', { freed });
    return { freed, open: slots.length - freed };
  }

  async getConnection(connectionId: string): Promise<ConnectionRecord | undefined> {
    const { GetCommand } = await this.table.commands();
    const client = await this.table.client();
    const { Item } = await client.send(new GetCommand({ TableName: this.tableName, Key: connectionKey(connectionId), ConsistentRead: true }));
    if (!Item) return undefined;
    const record: ConnectionRecord = {
      connectionId: String(Item.connectionId),
      userId: String(Item.userId),
      connectedAt: Number(Item.connectedAt),
      sourceIp: typeof Item.sourceIp === 'string' ? Item.sourceIp : undefined,
      userAgent: typeof Item.userAgent === 'string' ? Item.userAgent : undefined,
      topics: stringSet(Item.topics).sort(),
      expiresAt: Number(Item.expiresAt),
    };
    const tokenExp = optionalNumber(Item.tokenExp);
    if (tokenExp !== undefined) record.tokenExp = tokenExp;
    return record;
  }

  /**
   * Removes the connection item, every subscription row it lists (tombstones included) and
   * its user slot. `alsoTopics` names subscriptions to remove even when the connection item
   * is already gone (a sender that found a stale subscriber knows the topic). Idempotent.
   */
  async deleteConnection(connectionId: string, options: { alsoTopics?: readonly string[] } = {}): Promise<DeleteConnectionResult> {
    const { DeleteCommand } = await this.table.commands();
    const client = await this.table.client();
    const { Attributes } = await client.send(
      new DeleteCommand({ TableName: this.tableName, Key: connectionKey(connectionId), ReturnValues: 'ALL_OLD' }),
    );
    const subscribed = new Set([...stringSet(Attributes?.topics), ...(options.alsoTopics ?? [])]);
    const rows = new Set([...subscribed, ...stringSet(Attributes?.dropped)]);
    await this.table.batchDelete([...rows].map((topic) => subscriptionKey(topic, connectionId)));
    if (typeof Attributes?.userId === 'string') await this.releaseSlots(Attributes.userId, [connectionId]);
    const subscriptionsRemoved = subscribed.size;
    this.logger?.debug('connection removed', { connectionId, existed: Attributes !== undefined, subscriptionsRemoved });
    return { existed: Attributes !== undefined, subscriptionsRemoved };
  }

  /**
   * Removes many connections at once (a fan-out's gone recipients): one BatchGetItem per 100
   * connections reads their topics, then BatchWriteItem deletes, 25 at a time, every
   * subscription row (plus `alsoTopics`) and the connection items, and their user slots are
   * released. Idempotent.
   */
  async removeConnections(
    connectionIds: readonly string[],
    options: { alsoTopics?: readonly string[] } = {},
  ): Promise<{ connections: number; subscriptionsRemoved: number }> {
    const ids = [...new Set(connectionIds)];
    if (ids.length === 0) return { connections: 0, subscriptionsRemoved: 0 };
    const items = await this.table.batchGet(ids.map(connectionKey), 'connectionId, userId, topics, dropped');
    const topicsOf = new Map<string, Set<string>>(ids.map((id) => [id, new Set(options.alsoTopics ?? [])]));
    const slotsOf = new Map<string, string[]>();
    for (const item of items) {
      const id = String(item.connectionId);
      const set = topicsOf.get(id);
      for (const topic of [...stringSet(item.topics), ...stringSet(item.dropped)]) set?.add(topic);
      if (typeof item.userId === 'string') slotsOf.set(item.userId, [...(slotsOf.get(item.userId) ?? []), id]);
    }
    const subscriptionKeys = [...topicsOf].flatMap(([id, topics]) => [...topics].map((topic) => subscriptionKey(topic, id)));
    // Subscriptions first: if this stops half-way, the connection items still list them.
    await this.table.batchDelete(subscriptionKeys);
    await this.table.batchDelete(ids.map(connectionKey));
    await Promise.all([...slotsOf].map(([userId, slotIds]) => this.releaseSlots(userId, slotIds)));
    return { connections: ids.length, subscriptionsRemoved: subscriptionKeys.length };
  }

  /**
   * Subscribes a connection to a topic (idempotent). The connection item decides, atomically,
   * whether the topic counts against the limit and gives the operation its version; then the
   * subscription row is written with that version unless a newer operation already wrote it;
   * then the connection is checked to still exist (a $disconnect may have removed it and its
   * rows in between), and if not, the row is removed again.
   * @throws ConnectionNotFoundError, SubscriptionLimitError
   */
  async subscribe(connectionId: string, topic: string): Promise<SubscribeResult> {
    const { UpdateCommand, PutCommand, GetCommand, DeleteCommand } = await this.table.commands();
    const client = await this.table.client();
    let old: Record<string, unknown> | undefined;
    try {
      ({ Attributes: old } = await client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(connectionId),
          UpdateExpression: 'ADD topics :topic, ver :one DELETE dropped :topic',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(topics) OR size(topics) < :max OR contains(topics, :name))',
          ExpressionAttributeValues: { ':topic': new Set([topic]), ':one': 1, ':max': this.maxTopicsPerConnection, ':name': topic },
          ReturnValues: 'ALL_OLD',
        }),
      ));
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      if (!(await this.getConnection(connectionId))) throw new ConnectionNotFoundError(connectionId);
      throw new SubscriptionLimitError(connectionId, this.maxTopicsPerConnection);
    }
    if (!old) throw new ConnectionNotFoundError(connectionId);
    const version = (optionalNumber(old.ver) ?? 0) + 1;
    const expiresAt = Number(old.expiresAt);
    const tokenExp = optionalNumber(old.tokenExp);
    await this.writeRow(PutCommand, client, { ...subscriptionKey(topic, connectionId), connectionId, userId: old.userId, expiresAt, tokenExp, ver: version, active: true });

    const { Item } = await client.send(
      new GetCommand({ TableName: this.tableName, Key: connectionKey(connectionId), ConsistentRead: true, ProjectionExpression: 'pk' }),
    );
    if (!Item) {
      await client
        .send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: subscriptionKey(topic, connectionId),
            ConditionExpression: 'ver = :v',
            ExpressionAttributeValues: { ':v': version },
          }),
        )
        .catch((error: unknown) => {
          if (!isConditionalCheckFailed(error)) throw error;
        });
      throw new ConnectionNotFoundError(connectionId);
    }
    await this.recordChange(topic, { connectionId, ver: version, active: true, userId: old.userId, connExpiresAt: expiresAt, tokenExp }, stringSet(old.topics).includes(topic) ? 0 : 1);
    return { added: !stringSet(old.topics).includes(topic), expiresAt };
  }

  /**
   * Unsubscribes a connection from a topic (idempotent). The connection item drops the topic
   * and gives the operation its version; the row becomes a tombstone of that version, so a
   * subscribe that is still on its way with a lower version cannot bring it back. The
   * connection item lists tombstoned topics (up to the topic limit) so its removal deletes
   * them; tombstones beyond that are left to the TTL (fan-out skips them either way).
   */
  async unsubscribe(connectionId: string, topic: string): Promise<{ removed: boolean }> {
    const { UpdateCommand, PutCommand, DeleteCommand } = await this.table.commands();
    const client = await this.table.client();
    const update = (tracked: boolean) =>
      client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(connectionId),
          UpdateExpression: tracked ? 'DELETE topics :topic ADD ver :one, dropped :topic' : 'DELETE topics :topic ADD ver :one',
          ConditionExpression: tracked
            ? 'attribute_exists(pk) AND contains(topics, :name) AND (attribute_not_exists(dropped) OR size(dropped) < :max)'
            : 'attribute_exists(pk)',
          ExpressionAttributeValues: tracked
            ? { ':topic': new Set([topic]), ':one': 1, ':name': topic, ':max': this.maxTopicsPerConnection }
            : { ':topic': new Set([topic]), ':one': 1 },
          ReturnValues: 'ALL_OLD',
        }),
      );
    let old: Record<string, unknown> | undefined;
    try {
      ({ Attributes: old } = await update(true));
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      try {
        ({ Attributes: old } = await update(false));
      } catch (retryError) {
        if (!isConditionalCheckFailed(retryError)) throw retryError;
        // The connection is gone, and with it every operation that could race this one.
        await client.send(new DeleteCommand({ TableName: this.tableName, Key: subscriptionKey(topic, connectionId) }));
        return { removed: false };
      }
    }
    if (!old) return { removed: false };
    const version = (optionalNumber(old.ver) ?? 0) + 1;
    const removed = stringSet(old.topics).includes(topic);
    if (removed) {
      await this.writeRow(PutCommand, client, {
        ...subscriptionKey(topic, connectionId),
        connectionId,
        userId: old.userId,
        expiresAt: Number(old.expiresAt),
        ver: version,
        active: false,
      });
    }
    // Recorded also when nothing changed but a row is there: a retry of an unsubscribe whose
    // first attempt stopped after the tombstone must still reach the subscriber caches. With
    // no row at all no cache can list the connection (a row is only ever deleted with its
    // connection), so an unsubscribe from a topic never subscribed writes nothing more.
    if (removed || (await this.rowExists(topic, connectionId))) {
      await this.recordChange(topic, { connectionId, ver: version, active: false, userId: old.userId, connExpiresAt: Number(old.expiresAt) }, removed ? -1 : 0);
    }
    return { removed };
  }

  private async rowExists(topic: string, connectionId: string): Promise<boolean> {
    const { GetCommand } = await this.table.commands();
    const client = await this.table.client();
    const { Item } = await client.send(new GetCommand({ TableName: this.tableName, Key: subscriptionKey(topic, connectionId), ConsistentRead: true, ProjectionExpression: 'pk' }));
    return Item !== undefined;
  }

  /**
   * Tells the subscriber caches (SubscriberCache) that a topic's subscriptions changed: the
   * topic's change counter goes up by one and the change is stored under that number.
   * Written after the subscription row, and before the operation is acknowledged, so a
   * publish that starts after the acknowledgement sees the change, and a cache that reloads
   * the topic from its rows meanwhile sees it there.
   */
  private async recordChange(
    topic: string,
    change: { connectionId: string; ver: number; active: boolean; userId: unknown; connExpiresAt: number; tokenExp?: number | undefined },
    subscribersDelta: number,
  ): Promise<void> {
    const { UpdateCommand, PutCommand } = await this.table.commands();
    const client = await this.table.client();
    const { Attributes } = await client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: topicMetaKey(topic),
        // `subscribers` is an estimate (a connection that goes away without unsubscribing
        // is not taken off; a cache that reads the rows sets it right): it lets a publish
        // to a big topic hand off without reading the list.
        UpdateExpression: 'ADD changes :one, subscribers :delta',
        ExpressionAttributeValues: { ':one': 1, ':delta': subscribersDelta },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const number = Number(Attributes?.changes);
    const nowMs = this.now();
    await client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...topicChangeKey(topic, number), ...change, at: nowMs, expiresAt: Math.floor(nowMs / 1000) + TOPIC_CHANGE_RETENTION_SECONDS },
      }),
    );
  }

  /** Writes a subscription row unless a newer operation already wrote it. */
  private async writeRow(
    PutCommand: Awaited<ReturnType<TableAccess['commands']>>['PutCommand'],
    client: Awaited<ReturnType<TableAccess['client']>>,
    row: Record<string, unknown> & { ver: number },
  ): Promise<void> {
    try {
      await client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: row,
          ConditionExpression: 'attribute_not_exists(pk) OR ver < :v',
          ExpressionAttributeValues: { ':v': row.ver },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * The subscribers of a topic, a page at a time, by Query on `topic#<topic>` (never a Scan).
   * Tombstones and rows past their TTL that DynamoDB has not yet removed are skipped; empty
   * pages are not yielded.
   */
  async *subscribers(topic: string, options: { pageSize?: number; consistentRead?: boolean } = {}): AsyncGenerator<Subscriber[], void, undefined> {
    const { QueryCommand } = await this.table.commands();
    const client = await this.table.client();
    const pageSize = options.pageSize ?? 500;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a whole number >= 1');
    let startKey: Record<string, unknown> | undefined;
    do {
      const nowSeconds = Math.floor(this.now() / 1000);
      const page = await client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
          // Rows written before tombstones existed have no `active`: they are subscriptions.
          FilterExpression: 'expiresAt > :now AND (attribute_not_exists(active) OR active = :true)',
          ExpressionAttributeValues: { ':pk': `topic#${topic}`, ':sub': 'sub#', ':now': nowSeconds, ':true': true },
          ProjectionExpression: 'connectionId, userId, expiresAt, tokenExp',
          Limit: pageSize,
          ConsistentRead: options.consistentRead ?? false,
          ExclusiveStartKey: startKey,
        }),
      );
      startKey = page.LastEvaluatedKey;
      const subscribers = (page.Items ?? []).map((item) => {
        const subscriber: Subscriber = { connectionId: String(item.connectionId), userId: String(item.userId), expiresAt: Number(item.expiresAt) };
        const tokenExp = optionalNumber(item.tokenExp);
        if (tokenExp !== undefined) subscriber.tokenExp = tokenExp;
        return subscriber;
      });
      if (subscribers.length > 0) yield subscribers;
    } while (startKey);
  }
}
