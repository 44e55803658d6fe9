/**
 * TopicHistory: each topic's sequence and its retained messages, in the wskit table, under a
 * partition of their own (apart from the topic's subscription rows):
 *
 *   head:    pk = hist#<topic>, sk = head              seq (the latest), expiresAt
 *   message: pk = hist#<topic>, sk = m#<seq, 16 digits> seq, ts, frame (the pushed JSON), expiresAt
 *   marker:  the same key with `skipped`: a seq that was assigned but never published
 *
 * A publish costs two writes: `ADD seq 1` on the head assigns the next number (consecutive,
 * whatever the number of publishers), then the message row is written before anyone is
 * sent the message, so whatever a subscriber receives can also be fetched. DynamoDB has no
 * "append with the next number" in one request; a single conditional put would need a read
 * of the latest seq first.
 *
 * A seq whose row is missing is either still being written (a publisher between its two
 * writes), or was assigned by a publisher that failed: it writes a marker when it can, and a
 * publisher that takes longer than PUBLISH_WINDOW_MS between its writes gives up on the
 * message (the caller sees an error and may publish again). A reader therefore stops before
 * a young gap (`complete: false`, ask again) and treats one older than GAP_SETTLE_MS as never
 * published.
 *
 * Retention (time and count) is enforced on read; DynamoDB's TTL only clears the rows
 * later. Retention removes the oldest messages first, so `recovered` is decided by whether
 * the first message after `since` is still there.
 *
 * Write ceiling: all of a topic's history writes land on one partition key, and the head is
 * one item: DynamoDB allows a partition about 1,000 write units per second, so a topic takes
 * roughly 500 publishes per second of messages up to 1 KB (head + row), fewer for larger
 * messages. Beyond that DynamoDB throttles; the SDK retries, then the publish fails.
 */
import { HISTORY_DEFAULT_LIMIT, LIMITS, utf8Bytes, type HistoryReplyFrame, type MessageFrame } from '@wskit/protocol';
import type { HistorySettings } from './config';
import { TableAccess, isConditionalCheckFailed, type TableAccessOptions } from './table-access';

export const HEAD_SK = 'head';
/** Longest time between a publish's two writes before it gives the message up. */
export const PUBLISH_WINDOW_MS = 5_000;
/** A gap older than this (by its next message's time) was never published. */
export const GAP_SETTLE_MS = 10_000;
/** How long an idle topic's sequence is kept: a topic quiet for longer starts again at 1. */
export const HEAD_IDLE_SECONDS = 30 * 86_400;
/** Room a history reply keeps for its envelope around the message frames. */
const HISTORY_ENVELOPE_BYTES = 2048;
/** The largest message frame a topic accepts: one must fit a history reply on its own. */
export const MAX_MESSAGE_FRAME_BYTES = LIMITS.maxMessageBytes - HISTORY_ENVELOPE_BYTES;

export const historyKey = (topic: string, seq?: number) => ({
  pk: `hist#${topic}`,
  sk: seq === undefined ? HEAD_SK : `m#${String(seq).padStart(16, '0')}`,
});

export class PublishWindowExceeded extends Error {
  override readonly name = 'PublishWindowExceeded';
  constructor(readonly seq: number) {
    super(`seq ${seq} was assigned but its message could not be stored within ${PUBLISH_WINDOW_MS} ms; it is given up: publish again`);
  }
}

export interface HistoryReadOptions {
  /** Messages with a seq greater than this; default 0. */
  since?: number;
  /** Most messages in the page; default 100. */
  limit?: number;
}

export interface TopicHistoryOptions extends TableAccessOptions {
  settings: HistorySettings;
  now?: () => number;
}

interface Row {
  seq: number;
  ts: number;
  frame?: string;
  skipped?: boolean;
}

export class TopicHistory {
  readonly settings: HistorySettings;
  private readonly table: TableAccess;
  private readonly now: () => number;

  constructor(options: TopicHistoryOptions) {
    this.table = new TableAccess(options);
    this.settings = options.settings;
    this.now = options.now ?? Date.now;
  }

  /** Whether messages are kept at all (retention 0 keeps none; seq is still assigned). */
  get keepsMessages(): boolean {
    return this.settings.retentionSeconds > 0;
  }

  /**
   * Assigns the next seq of a topic and stores the message `frameOf(seq)` builds, before it
   * may be sent to anyone. Throws PublishWindowExceeded (after leaving a marker) when the
   * store took too long; any other error after the seq was assigned also leaves a marker.
   */
  async append(topic: string, ts: number, frameOf: (seq: number) => string): Promise<number> {
    const { UpdateCommand, PutCommand } = await this.table.commands();
    const client = await this.table.client();
    const started = this.now();
    const { Attributes } = await client.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: historyKey(topic),
        UpdateExpression: 'ADD seq :one SET expiresAt = :idle, assignedAt = :now',
        ExpressionAttributeValues: { ':one': 1, ':idle': Math.floor(ts / 1000) + HEAD_IDLE_SECONDS, ':now': started },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const seq = Number(Attributes?.seq);
    if (!this.keepsMessages) return seq;
    const expiresAt = Math.floor(ts / 1000) + this.settings.retentionSeconds + 3600;
    try {
      const left = PUBLISH_WINDOW_MS - (this.now() - started);
      if (left <= 0) throw new PublishWindowExceeded(seq);
      await client.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...historyKey(topic, seq), seq, ts, frame: frameOf(seq), expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
        { abortSignal: AbortSignal.timeout(left) },
      );
      if (this.now() - started > PUBLISH_WINDOW_MS) throw new PublishWindowExceeded(seq);
      return seq;
    } catch (error) {
      await client
        .send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: { ...historyKey(topic, seq), seq, ts, skipped: true, expiresAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .catch(() => undefined);
      throw error instanceof PublishWindowExceeded ? error : Object.assign(error as Error, { seq });
    }
  }

  /** The topic's latest seq (0 when never published) and when it was assigned, read consistently. */
  async head(topic: string): Promise<{ seq: number; at: number }> {
    const { GetCommand } = await this.table.commands();
    const client = await this.table.client();
    const { Item } = await client.send(
      new GetCommand({ TableName: this.table.tableName, Key: historyKey(topic), ConsistentRead: true, ProjectionExpression: 'seq, assignedAt' }),
    );
    return { seq: Number(Item?.seq ?? 0), at: Number(Item?.assignedAt ?? 0) };
  }

  async latestSeq(topic: string): Promise<number> {
    return (await this.head(topic)).seq;
  }

  private retained(row: Row, latest: number, nowMs: number): boolean {
    return row.seq >= latest - this.settings.maxMessages + 1 && row.ts >= nowMs - this.settings.retentionSeconds * 1000;
  }

  private young(atMs: number, nowMs: number): boolean {
    return nowMs - atMs < GAP_SETTLE_MS;
  }

  /**
   * Whether every message after `since` is still retained (what a subscribe with `since`
   * acknowledges), given the head as read after the subscription was stored. At most one row
   * is read.
   */
  async recoverable(topic: string, since: number, head: { seq: number; at: number }): Promise<boolean> {
    if (since > head.seq) return false; // the topic's sequence started again
    if (since === head.seq) return true;
    if (!this.keepsMessages) return false;
    const nowMs = this.now();
    const [first] = await this.rows(topic, since, 1);
    // Nothing stored after since: the publishes are still being written, or it is gone.
    if (!first) return this.young(head.at, nowMs);
    if (first.seq === since + 1) return first.skipped === true || this.retained(first, head.seq, nowMs);
    return this.young(first.ts, nowMs) && this.retained(first, head.seq, nowMs);
  }

  /** A page of retained messages after `since`, ascending, within API Gateway's 128 KB. */
  async read(topic: string, options: HistoryReadOptions = {}): Promise<Omit<HistoryReplyFrame, 'type' | 'id' | 'topic'>> {
    const since = options.since ?? 0;
    const limit = options.limit ?? HISTORY_DEFAULT_LIMIT;
    const head = await this.head(topic);
    if (since >= head.seq || !this.keepsMessages) {
      return { messages: [], seq: head.seq, complete: true, recovered: since === head.seq };
    }
    const nowMs = this.now();
    const budget = LIMITS.maxMessageBytes - HISTORY_ENVELOPE_BYTES;
    const messages: MessageFrame[] = [];
    let bytes = 0;
    let expected = since + 1;
    let recovered = true;
    let cursor = since;
    let complete = true;
    scan: while (expected <= head.seq) {
      const rows = await this.rows(topic, cursor, Math.min(25, limit - messages.length + 1));
      if (rows.length === 0) {
        // Seqs assigned after the last stored row: still being written, or never published.
        if (this.young(head.at, nowMs)) complete = false;
        else if (messages.length === 0 && expected === since + 1) recovered = false;
        break;
      }
      for (const row of rows) {
        if (row.seq > expected) {
          // A gap: a publish still being written (stop; the client asks again), or one that
          // failed. At the start of the range it may also be messages already expired.
          if (this.young(row.ts, nowMs)) {
            complete = false;
            break scan;
          }
          if (messages.length === 0 && expected === since + 1) recovered = false;
        }
        if (!row.skipped && this.retained(row, head.seq, nowMs)) {
          const size = utf8Bytes(row.frame ?? '') + 1;
          if (messages.length >= limit || (messages.length > 0 && bytes + size > budget)) {
            complete = false;
            break scan;
          }
          bytes += size;
          messages.push(JSON.parse(row.frame ?? 'null') as MessageFrame);
        } else if (!row.skipped) {
          recovered = false;
        }
        cursor = row.seq;
        expected = row.seq + 1;
      }
    }
    return { messages, seq: head.seq, complete, recovered };
  }

  private async rows(topic: string, after: number, limit: number): Promise<Row[]> {
    const { QueryCommand } = await this.table.commands();
    const client = await this.table.client();
    const out = await client.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': `hist#${topic}`,
          ':from': historyKey(topic, after + 1).sk,
          ':to': historyKey(topic, Number.MAX_SAFE_INTEGER).sk,
        },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => ({
      seq: Number(item.seq),
      ts: Number(item.ts),
      frame: typeof item.frame === 'string' ? item.frame : undefined,
      skipped: item.skipped === true,
    }));
  }
}
