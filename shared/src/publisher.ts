/**
 * TopicPublisher: the one publish path, for the message handler, the HTTP handler and the
 * broadcaster alike.
 *
 *   1. the frame is built and its size checked (it must fit a history reply on its own);
 *   2. the topic's next seq is assigned and the message stored in its history (TopicHistory),
 *      before anyone is sent it, so whatever a subscriber receives can also be fetched;
 *   3. the subscribers are read through the SubscriberCache (one strongly consistent read of
 *      the topic's change counter, plus the changes it missed): a subscribe or unsubscribe
 *      acknowledged before this point is in the list;
 *   4. an audience up to the inline limit is fanned out here; a bigger one, when a fan-out
 *      queue is configured, is handed off as shard jobs (fanout-queue.ts) and the publish
 *      returns `queued` at once; the broadcaster runs each shard (deliverShard);
 *   5. subscribers whose token has expired (past its `exp` plus the clock tolerance) are not
 *      sent anything: their connections are closed instead, so their clients reconnect with
 *      a fresh token. A connection found gone (410) leaves the cache.
 */
import { messageFrame, utf8Bytes, type JsonValue } from '@wskit/protocol';
import { PayloadTooLargeError } from './errors';
import { MAX_MESSAGE_FRAME_BYTES, type TopicHistory } from './history';
import type { Logger } from './logger';
import type { FanOutSettings } from './config';
import { planShards, retryJobs, shardOf, type FanOutJob, type FanOutQueue } from './fanout-queue';
import type { MessageSender } from './sender/message-sender';
import type { FanOutSummary, SendResult } from './sender/types';
import type { ConnectionStore, Subscriber } from './store';
import { SubscriberCache } from './subscriber-cache';

export interface PublishInput {
  topic: string;
  data: unknown;
  /** Stable per source record (a retried record keeps it); default a new UUID. */
  mid?: string;
  /** Publish time, epoch ms; default now. */
  ts?: number;
}

export interface PublishOutcome {
  topic: string;
  mid: string;
  seq: number;
  /** UTF-8 bytes of the frame sent. */
  bytes: number;
  /** How the inline fan-out went; absent when it was handed off (`queued`). */
  summary?: FanOutSummary;
  /** The fan-out was handed off: this many shard jobs for this many recipients. */
  queued?: { shards: number; recipients: number };
  /** Subscribers skipped because their token had expired (their connections are closed). */
  expired: number;
}

/** A handed-off shard's delivery. */
export interface ShardOutcome {
  summary: FanOutSummary;
  expired: number;
  /** Recipients whose delivery failed for a reason that can pass (throttling, 5xx, timeouts). */
  retry: string[];
}

interface ListedAudience {
  recipients: string[];
  expired: Subscriber[];
}
type Audience = ListedAudience | { estimated: number };

export interface Handoff {
  queue: FanOutQueue;
  settings: FanOutSettings;
}

export interface TopicPublisherOptions {
  store: ConnectionStore;
  history: TopicHistory;
  sender: MessageSender;
  /** Seconds after a token's `exp` during which it still counts as valid. */
  clockToleranceSeconds: number;
  logger?: Logger;
  /**
   * The subscriber lists, kept between publishes: give every publisher of an execution
   * environment the same one (module scope). Default: a cache of this publisher's own.
   */
  subscribers?: SubscriberCache;
  /** Where audiences over the inline limit are handed off; without it every fan-out runs inline. */
  handoff?: Handoff;
  now?: () => number;
  /** Extra properties for each fan-out's metrics line. */
  metricProperties?: Record<string, string | number | boolean>;
}

/** The largest frame of a message: its seq is at most 16 digits. */
const SEQ_PLACEHOLDER = 9_999_999_999_999_999;

export class TopicPublisher {
  private readonly options: TopicPublisherOptions;
  private readonly now: () => number;
  private readonly cache: SubscriberCache;

  constructor(options: TopicPublisherOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.cache = options.subscribers ?? new SubscriberCache({ ...options.store.tableOptions, now: options.now });
  }

  /**
   * Refuses a message whose frame would not fit (PayloadTooLargeError), before anything is
   * written. Returns the frame's size.
   */
  checkSize(input: PublishInput): number {
    const bytes = utf8Bytes(this.frameText(input.topic, input.data, input.mid ?? '00000000-0000-0000-0000-000000000000', input.ts ?? this.now(), SEQ_PLACEHOLDER));
    if (bytes > MAX_MESSAGE_FRAME_BYTES) throw new PayloadTooLargeError(bytes, MAX_MESSAGE_FRAME_BYTES);
    return bytes;
  }

  /** Publishes one message: delivered inline, or handed off when its audience is big. */
  async publish(input: PublishInput): Promise<PublishOutcome> {
    const [outcome] = await this.publishMany(input.topic, [input], { failFast: true });
    if (outcome && 'error' in outcome) throw outcome.error;
    return outcome!;
  }

  /**
   * Publishes several messages to one topic in order, reading its subscribers once. A
   * message that fails (its history write, say) is reported in its slot; the others go on
   * (unless `failFast`).
   */
  async publishMany(topic: string, inputs: Array<Omit<PublishInput, 'topic'>>, options: { failFast?: boolean } = {}): Promise<Array<PublishOutcome | { error: unknown }>> {
    let audience: Audience | undefined;
    const outcomes: Array<PublishOutcome | { error: unknown }> = [];
    const handoff = this.options.handoff;
    for (const input of inputs) {
      try {
        const { mid, ts, seq, payload } = await this.store({ ...input, topic });
        // With a queue, an audience this environment has not cached and whose estimate is
        // over the inline limit is not read here: the shards read it.
        audience ??= await this.audience(topic, undefined, handoff ? handoff.settings.inlineLimit : undefined);
        const base = { topic, mid, seq, bytes: utf8Bytes(payload) };
        const size = 'estimated' in audience ? audience.estimated : audience.recipients.length;
        if (handoff && size > handoff.settings.inlineLimit) {
          const queued = await this.handOff(handoff, { topic, seq, mid, frame: payload, queuedAt: ts }, size);
          if (queued) {
            outcomes.push({ ...base, queued, expired: 0 });
            continue;
          }
          // The queue refused: the list is read after all and delivered here.
          if ('estimated' in audience) audience = await this.audience(topic);
        }
        const listed = audience as ListedAudience;
        const gone = new Set<string>();
        const summary = await this.options.sender.fanOut(listed.recipients, payload, {
          topic,
          metricProperties: { ...this.options.metricProperties, mid, seq, audience: this.subscribers.last.source },
          onResult: (result) => this.noteResult(topic, result, gone),
        });
        if (gone.size > 0) listed.recipients = listed.recipients.filter((id) => !gone.has(id));
        outcomes.push({ ...base, summary, expired: listed.expired.length });
      } catch (error) {
        if (options.failFast) throw error;
        outcomes.push({ error });
      }
    }
    if (audience && 'expired' in audience && outcomes.some((o) => 'summary' in o)) await this.closeExpired(audience.expired);
    return outcomes;
  }

  /**
   * Delivers one shard of a handed-off fan-out: the topic's subscribers whose connection id
   * hashes to this shard, at the given pace. Subscribers found now, not at publish time: one
   * unsubscribed since is skipped, one subscribed since may get the message too.
   */
  async deliverShard(job: FanOutJob, pace: { perSecond: number; burst: number }): Promise<ShardOutcome> {
    const only = job.only ? new Set(job.only) : undefined;
    const audience = await this.audience(job.topic, only ? (id) => only.has(id) : (id) => shardOf(id, job.shards) === job.shard);
    const retry: string[] = [];
    const summary = await this.options.sender.fanOut(audience.recipients, job.frame, {
      topic: job.topic,
      pace,
      metricProperties: { ...this.options.metricProperties, mid: job.mid, seq: job.seq, shard: job.shard, shards: job.shards, attempt: job.attempt ?? 0, audience: this.subscribers.last.source },
      onResult: (result) => {
        this.noteResult(job.topic, result);
        if (result.status === 'failed' && result.retryable !== false) retry.push(result.connectionId);
      },
    });
    await this.closeExpired(audience.expired);
    return { summary, expired: audience.expired.length, retry };
  }

  /**
   * Queues a shard's failed recipients again, alone (retryJobs): true when queued, false
   * when the shard used its attempts or there is no queue (the caller reports the job failed
   * instead, so SQS runs the whole shard again).
   */
  async retryShard(job: FanOutJob, failed: readonly string[]): Promise<boolean> {
    const jobs = retryJobs(job, failed);
    if (jobs.length === 0 || !this.options.handoff) return false;
    await this.options.handoff.queue.enqueue(jobs);
    return true;
  }

  /** The cache this publisher reads subscribers through (tests and metrics read `last`). */
  get subscribers(): SubscriberCache {
    return this.cache;
  }

  /**
   * The topic's recipients (tokens valid) and the subscribers whose token expired; or, given
   * `listUpTo`, only the audience's estimated size when it is over that and not cached.
   */
  private async audience(topic: string, keep?: (connectionId: string) => boolean): Promise<ListedAudience>;
  private async audience(topic: string, keep: undefined, listUpTo: number | undefined): Promise<Audience>;
  private async audience(topic: string, keep?: (connectionId: string) => boolean, listUpTo?: number): Promise<Audience> {
    const view = await this.cache.read(topic, { listUpTo });
    if ('estimated' in view) return view;
    const recipients: string[] = [];
    const expired: Subscriber[] = [];
    for (const subscriber of view.list) {
      if (keep && !keep(subscriber.connectionId)) continue;
      if (this.isExpired(subscriber)) expired.push(subscriber);
      else recipients.push(subscriber.connectionId);
    }
    return { recipients, expired };
  }

  private noteResult(topic: string, result: SendResult, gone?: Set<string>): void {
    if (result.status !== 'gone') return;
    this.cache.forget(topic, result.connectionId);
    gone?.add(result.connectionId);
  }

  /**
   * Sends the shard jobs. When the queue cannot take them the fan-out runs inline instead
   * (undefined): slower, but the message the publish already stored is not left undelivered.
   */
  private async handOff(handoff: Handoff, message: Omit<FanOutJob, 'shard' | 'shards'>, recipients: number): Promise<PublishOutcome['queued']> {
    const plan = planShards(recipients, handoff.settings);
    const jobs = Array.from({ length: plan.shards }, (_, shard) => ({ ...message, shard, shards: plan.shards }));
    try {
      await handoff.queue.enqueue(jobs);
      return { shards: plan.shards, recipients };
    } catch (error) {
      this.options.logger?.error('could not hand the fan-out off to the queue; delivering it here instead', { topic: message.topic, seq: message.seq, error });
      return undefined;
    }
  }

  private frameText(topic: string, data: unknown, mid: string, ts: number, seq: number): string {
    return JSON.stringify(messageFrame({ topic, data: data as JsonValue, mid, ts, seq }));
  }

  /** Size check, seq and history: everything before the fan-out. */
  private async store(input: PublishInput): Promise<{ mid: string; ts: number; seq: number; payload: string }> {
    const mid = input.mid ?? crypto.randomUUID();
    const ts = input.ts ?? this.now();
    this.checkSize({ ...input, mid, ts });
    let payload = '';
    const seq = await this.options.history.append(input.topic, ts, (assigned) => (payload = this.frameText(input.topic, input.data, mid, ts, assigned)));
    if (!payload) payload = this.frameText(input.topic, input.data, mid, ts, seq);
    return { mid, ts, seq, payload };
  }

  private isExpired(subscriber: Subscriber): boolean {
    return subscriber.tokenExp !== undefined && (subscriber.tokenExp + this.options.clockToleranceSeconds) * 1000 <= this.now();
  }

  /** Closes the connections of expired tokens (their clients reconnect); gone ones are removed. */
  private async closeExpired(expired: Subscriber[]): Promise<void> {
    const ids = [...new Set(expired.map((s) => s.connectionId))];
    const gone: string[] = [];
    for (let i = 0; i < ids.length; i += 8) {
      await Promise.all(
        ids.slice(i, i + 8).map(async (id) => {
          try {
            if (!(await this.options.sender.closeConnection(id))) gone.push(id);
          } catch (error) {
            this.options.logger?.warn('could not close a connection whose token expired', { connectionId: id, error });
          }
        }),
      );
    }
    if (ids.length > 0) this.options.logger?.info('closed connections whose token expired', { count: ids.length });
    if (gone.length > 0) await this.options.store.removeConnections(gone).catch((error: unknown) => this.options.logger?.warn('could not remove gone connections', { error }));
  }
}

/** A publish's `ack` fields: the seq and mid, then either `queued` or the inline counts. */
export function publishAckFields(outcome: PublishOutcome): { mid: string; seq: number; queued?: true; delivered?: number; gone?: number; failed?: number } {
  if (outcome.queued) return { mid: outcome.mid, seq: outcome.seq, queued: true };
  const summary = outcome.summary!;
  return { mid: outcome.mid, seq: outcome.seq, delivered: summary.delivered, gone: summary.gone, failed: summary.failed };
}

/** A publish's log line fields. */
export function publishLogFields(outcome: PublishOutcome): Record<string, unknown> {
  const { topic, mid, seq, bytes, expired } = outcome;
  if (outcome.queued) return { topic, mid, seq, bytes, queued: true, shards: outcome.queued.shards, total: outcome.queued.recipients };
  const s = outcome.summary!;
  return { topic, mid, seq, bytes, total: s.total, delivered: s.delivered, gone: s.gone, failed: s.failed, expired, retried: s.retried, durationMs: s.durationMs };
}
