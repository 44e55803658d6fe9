/**
 * SubscriberCache: a topic's subscribers, kept in the execution environment between
 * publishes so a hot topic is not read in full on every publish.
 *
 * Every subscribe and unsubscribe adds one to the topic's change counter (`topic#<t> / meta`)
 * and stores the change under that number (`topic#<t> / chg#<n>`: connection, its operation
 * version, active or not), after writing the subscription row and before answering. A
 * publish reads the counter (one small strongly consistent read); when the cache has seen
 * every change up to it, the cached list is the list; when not, it reads just the changes it
 * missed; when it has nothing (or is older than the change entries are kept), it reads the
 * counter and then every subscription row. So:
 *
 *   - a subscribe or unsubscribe that has been acknowledged is in the list of every publish
 *     that starts after the acknowledgement: an unsubscribed connection is never sent a
 *     message published after its ack;
 *   - a connection that is gone is dropped from the cache at its first 410 (it can never be
 *     delivered to); one whose token expired is skipped by the publisher;
 *   - a change whose entry is still being written (counted, not yet stored: its operation is
 *     not acknowledged) is read again by the next publish, and the changes after it are
 *     applied at once; one still missing after GAP_RELOAD_MS (its writer stopped between the
 *     two writes) makes the cache load the topic from its rows again.
 *
 * The same item keeps an estimate of the topic's audience (`subscribers`: +1 per subscribe, -1
 * per unsubscribe, set to the truth whenever a cache reads the rows), so a publish to a big
 * topic that this environment has not cached yet can hand its fan-out off on the estimate
 * alone (`read` with `listUpTo`) instead of reading every row first.
 *
 * A cache never has to trust its own age: the counter decides. It is bounded (topics and
 * members); what it forgets costs a reload, never a wrong list.
 */
import { TableAccess, type TableAccessOptions } from './table-access';
import { TOPIC_CHANGE_RETENTION_SECONDS, topicChangeKey, topicMetaKey, type Subscriber } from './store';

/** A gap in the change numbers that lasts this long is reloaded from the rows. */
export const GAP_RELOAD_MS = 30_000;
/** A topic cached longer than this is loaded again (its change entries may have expired). */
export const FULL_RELOAD_MS = (TOPIC_CHANGE_RETENTION_SECONDS - 600) * 1000;

interface Member {
  connectionId: string;
  userId: string;
  expiresAt: number;
  tokenExp?: number;
  /** The connection's operation version this state came from (a lower one never overrides it). */
  ver: number;
  active: boolean;
}

interface Entry {
  /** Every change up to this number is applied, except the `missing` ones. */
  changes: number;
  /** Change numbers counted but not yet stored when last read (see catchUp). */
  missing: Set<number>;
  members: Map<string, Member>;
  loadedAt: number;
  /** When a change was first found missing. */
  gapSince?: number;
}

export interface SubscriberCacheOptions extends TableAccessOptions {
  /** Topics kept; the least recently used is forgotten beyond this. Default 1,000. */
  maxTopics?: number;
  /** Members kept over all topics. Default 1,000,000. */
  maxMembers?: number;
  now?: () => number;
}

export interface CacheReadStats {
  /** How the list was obtained (`estimate`: it was not, only the audience's estimated size). */
  source: 'cache' | 'changes' | 'full' | 'estimate';
  /** DynamoDB requests it took. */
  requests: number;
}

const PAGE = 1000;
/** Behind by more changes than this (and than its members), a cache reads the rows instead. */
const MIN_CHANGES_BEFORE_RELOAD = 1000;

export class SubscriberCache {
  private readonly table: TableAccess;
  private readonly entries = new Map<string, Entry>();
  private readonly maxTopics: number;
  private readonly maxMembers: number;
  private readonly now: () => number;
  private members = 0;
  /** How the last read was served (for metrics and tests). */
  last: CacheReadStats = { source: 'full', requests: 0 };

  constructor(options: SubscriberCacheOptions) {
    this.table = new TableAccess(options);
    this.maxTopics = options.maxTopics ?? 1000;
    this.maxMembers = options.maxMembers ?? 1_000_000;
    this.now = options.now ?? Date.now;
  }

  /** The active, unexpired subscribers of a topic, exact as of the moment this call started. */
  async subscribers(topic: string): Promise<Subscriber[]> {
    const view = await this.read(topic);
    return 'list' in view ? view.list : [];
  }

  /**
   * The topic's subscribers, or, when this cache does not hold the topic and the topic's
   * estimated audience is over `listUpTo`, only that estimate (the list is not read: a
   * publish hands a big fan-out off without reading 100,000 rows first).
   */
  async read(topic: string, options: { listUpTo?: number } = {}): Promise<{ list: Subscriber[] } | { estimated: number }> {
    let requests = 1;
    const { changes, subscribers: estimated } = await this.readMeta(topic);
    let entry = this.entries.get(topic);
    if (!entry && options.listUpTo !== undefined && estimated > options.listUpTo) {
      this.last = { source: 'estimate', requests };
      return { estimated };
    }
    let source: CacheReadStats['source'] = 'cache';
    const nowMs = this.now();
    const stale =
      entry &&
      (nowMs - entry.loadedAt > FULL_RELOAD_MS ||
        (entry.gapSince !== undefined && nowMs - entry.gapSince > GAP_RELOAD_MS) ||
        // Reading the rows is then no dearer than reading the changes.
        changes - entry.changes > Math.max(MIN_CHANGES_BEFORE_RELOAD, entry.members.size));
    if (!entry || stale || changes < entry.changes) {
      const loaded = await this.load(topic, changes, estimated);
      requests += loaded.requests;
      entry = loaded.entry;
      source = 'full';
    } else if (changes > entry.changes || entry.missing.size > 0) {
      requests += await this.catchUp(topic, entry, changes);
      source = 'changes';
    }
    this.touch(topic, entry);
    this.last = { source, requests };
    const nowSeconds = Math.floor(nowMs / 1000);
    const list: Subscriber[] = [];
    for (const member of entry.members.values()) {
      if (!member.active || member.expiresAt <= nowSeconds) continue;
      const subscriber: Subscriber = { connectionId: member.connectionId, userId: member.userId, expiresAt: member.expiresAt };
      if (member.tokenExp !== undefined) subscriber.tokenExp = member.tokenExp;
      list.push(subscriber);
    }
    return { list };
  }

  /** A connection found gone (410): it leaves every cached list now. */
  forget(topic: string, connectionId: string): void {
    const entry = this.entries.get(topic);
    if (entry?.members.delete(connectionId)) this.members--;
  }

  private async readMeta(topic: string): Promise<{ changes: number; subscribers: number }> {
    const { GetCommand } = await this.table.commands();
    const client = await this.table.client();
    const { Item } = await client.send(
      new GetCommand({ TableName: this.table.tableName, Key: topicMetaKey(topic), ConsistentRead: true, ProjectionExpression: 'changes, subscribers' }),
    );
    return { changes: Number(Item?.changes ?? 0), subscribers: Number(Item?.subscribers ?? 0) };
  }

  /**
   * Sets the topic's estimated audience to what the rows say, unless a change came in since
   * they were read (best effort: a refused or failed write changes nothing that matters).
   */
  private async correctEstimate(topic: string, changes: number, active: number): Promise<void> {
    const { UpdateCommand } = await this.table.commands();
    const client = await this.table.client();
    await client
      .send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: topicMetaKey(topic),
          UpdateExpression: 'SET subscribers = :n',
          ConditionExpression: changes === 0 ? 'attribute_not_exists(changes) OR changes = :c' : 'changes = :c',
          ExpressionAttributeValues: { ':n': active, ':c': changes },
        }),
      )
      .catch(() => undefined);
  }

  /** Every subscription row, after reading the counter: changes made meanwhile are either in the rows or read later. */
  private async load(topic: string, changes: number, estimated: number): Promise<{ entry: Entry; requests: number }> {
    const { QueryCommand } = await this.table.commands();
    const client = await this.table.client();
    const previous = this.entries.get(topic);
    if (previous) this.members -= previous.members.size;
    const members = new Map<string, Member>();
    let requests = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      requests++;
      const page = await client.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
          ExpressionAttributeValues: { ':pk': `topic#${topic}`, ':sub': 'sub#' },
          ProjectionExpression: 'connectionId, userId, expiresAt, tokenExp, ver, active',
          ConsistentRead: true,
          Limit: PAGE,
          ExclusiveStartKey: startKey,
        }),
      );
      startKey = page.LastEvaluatedKey;
      for (const item of page.Items ?? []) {
        const member: Member = {
          connectionId: String(item.connectionId),
          userId: String(item.userId),
          expiresAt: Number(item.expiresAt),
          ver: Number(item.ver ?? 0),
          // Rows written before tombstones existed have no `active`: they are subscriptions.
          active: item.active !== false,
        };
        if (item.tokenExp !== undefined && item.tokenExp !== null) member.tokenExp = Number(item.tokenExp);
        members.set(member.connectionId, member);
      }
    } while (startKey);
    const entry: Entry = { changes, missing: new Set(), members, loadedAt: this.now() };
    this.entries.set(topic, entry);
    this.members += members.size;
    const nowSeconds = Math.floor(this.now() / 1000);
    let active = 0;
    for (const member of members.values()) if (member.active && member.expiresAt > nowSeconds) active++;
    if (active !== estimated) {
      await this.correctEstimate(topic, changes, active);
      requests++;
    }
    return { entry, requests };
  }

  /**
   * Applies every stored change after `entry.changes` up to `changes`. A change whose number
   * is counted but whose entry is not there yet (its writer is between the two writes, so its
   * operation is not acknowledged) is remembered as missing and read again next time; the
   * changes after it are applied now (each member keeps its highest version, so the order
   * they are applied in does not matter).
   */
  private async catchUp(topic: string, entry: Entry, changes: number): Promise<number> {
    const { QueryCommand } = await this.table.commands();
    const client = await this.table.client();
    const from = entry.missing.size > 0 ? Math.min(...entry.missing) : entry.changes + 1;
    const found = new Set<number>();
    let requests = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      requests++;
      const page = await client.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': `topic#${topic}`, ':from': topicChangeKey(topic, from).sk, ':to': topicChangeKey(topic, changes).sk },
          ConsistentRead: true,
          Limit: PAGE,
          ExclusiveStartKey: startKey,
        }),
      );
      startKey = page.LastEvaluatedKey;
      for (const item of page.Items ?? []) {
        found.add(Number(String(item.sk).slice('chg#'.length)));
        this.apply(entry, item);
      }
    } while (startKey);
    const missing = new Set<number>();
    for (const number of entry.missing) if (!found.has(number)) missing.add(number);
    for (let number = entry.changes + 1; number <= changes; number++) if (!found.has(number)) missing.add(number);
    entry.missing = missing;
    entry.changes = changes;
    if (missing.size > 0) entry.gapSince ??= this.now();
    else delete entry.gapSince;
    return requests;
  }

  private apply(entry: Entry, item: Record<string, unknown>): void {
    const connectionId = String(item.connectionId);
    const current = entry.members.get(connectionId);
    const ver = Number(item.ver ?? 0);
    if (current && current.ver > ver) return;
    const member: Member = { connectionId, userId: String(item.userId), expiresAt: Number(item.connExpiresAt), ver, active: item.active === true };
    if (item.tokenExp !== undefined && item.tokenExp !== null) member.tokenExp = Number(item.tokenExp);
    if (!current) this.members++;
    entry.members.set(connectionId, member);
  }

  /** Most recently used last; the oldest go when the bounds are passed. */
  private touch(topic: string, entry: Entry): void {
    this.entries.delete(topic);
    this.entries.set(topic, entry);
    while ((this.entries.size > this.maxTopics || this.members > this.maxMembers) && this.entries.size > 1) {
      const [oldest, dropped] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldest);
      this.members -= dropped.members.size;
    }
  }
}
