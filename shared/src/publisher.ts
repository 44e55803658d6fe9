/**
 * TopicPublisher: the one publish path, for the message handler and the broadcaster alike.
 *
 *   1. the frame is built and its size checked (it must fit a history reply on its own);
 *   2. the topic's next seq is assigned and the message stored in its history (TopicHistory),
 *      before anyone is sent it, so whatever a subscriber receives can also be fetched;
 *   3. the subscribers are read with a Query on the topic (strongly consistent: a subscriber
 *      whose subscribe returned before the seq was assigned is found);
 *   4. the message is fanned out; subscribers whose token has expired (past its `exp` plus
 *      the clock tolerance) are not sent anything: their connections are closed instead, so
 *      their clients reconnect with a fresh token.
 */
import { messageFrame, utf8Bytes, type JsonValue } from '@wskit/protocol';
import { PayloadTooLargeError } from './errors';
import { MAX_MESSAGE_FRAME_BYTES, type TopicHistory } from './history';
import type { Logger } from './logger';
import type { MessageSender } from './sender/message-sender';
import type { FanOutSummary } from './sender/types';
import type { ConnectionStore, Subscriber } from './store';

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
  summary: FanOutSummary;
  /** Subscribers skipped because their token had expired (their connections are closed). */
  expired: number;
}

export interface TopicPublisherOptions {
  store: ConnectionStore;
  history: TopicHistory;
  sender: MessageSender;
  /** Seconds after a token's `exp` during which it still counts as valid. */
  clockToleranceSeconds: number;
  logger?: Logger;
  /** Subscribers per Query page. Default 500. */
  pageSize?: number;
  now?: () => number;
  /** Extra properties for each fan-out's metrics line. */
  metricProperties?: Record<string, string | number | boolean>;
}

/** The largest frame of a message: its seq is at most 16 digits. */
const SEQ_PLACEHOLDER = 9_999_999_999_999_999;

export class TopicPublisher {
  private readonly options: TopicPublisherOptions;
  private readonly now: () => number;

  constructor(options: TopicPublisherOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
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

  /** Publishes one message, streaming the subscribers page by page. */
  async publish(input: PublishInput): Promise<PublishOutcome> {
    const { mid, seq, payload } = await this.store(input);
    const expired: Subscriber[] = [];
    const self = this;
    async function* recipients(): AsyncGenerator<string> {
      for await (const page of self.options.store.subscribers(input.topic, { pageSize: self.options.pageSize, consistentRead: true })) {
        for (const subscriber of page) {
          if (self.isExpired(subscriber)) expired.push(subscriber);
          else yield subscriber.connectionId;
        }
      }
    }
    const summary = await this.options.sender.fanOut(recipients(), payload, { topic: input.topic, metricProperties: { ...this.options.metricProperties, mid, seq } });
    await this.closeExpired(expired);
    return { topic: input.topic, mid, seq, bytes: utf8Bytes(payload), summary, expired: expired.length };
  }

  /**
   * Publishes several messages to one topic in order, reading its subscribers once. A
   * message that fails (its history write, say) is reported in its slot; the others go on.
   */
  async publishMany(topic: string, inputs: Array<Omit<PublishInput, 'topic'>>): Promise<Array<PublishOutcome | { error: unknown }>> {
    const audience: string[] = [];
    const expired: Subscriber[] = [];
    let audienceRead = false;
    const outcomes: Array<PublishOutcome | { error: unknown }> = [];
    for (const input of inputs) {
      try {
        const { mid, seq, payload } = await this.store({ ...input, topic });
        if (!audienceRead) {
          for await (const page of this.options.store.subscribers(topic, { pageSize: this.options.pageSize, consistentRead: true })) {
            for (const subscriber of page) {
              if (this.isExpired(subscriber)) expired.push(subscriber);
              else audience.push(subscriber.connectionId);
            }
          }
          audienceRead = true;
        }
        const gone = new Set<string>();
        const summary = await this.options.sender.fanOut(audience, payload, {
          topic,
          metricProperties: { ...this.options.metricProperties, mid, seq },
          onResult: (result) => {
            if (result.status === 'gone') gone.add(result.connectionId);
          },
        });
        if (gone.size > 0) audience.splice(0, audience.length, ...audience.filter((id) => !gone.has(id)));
        outcomes.push({ topic, mid, seq, bytes: utf8Bytes(payload), summary, expired: expired.length });
      } catch (error) {
        outcomes.push({ error });
      }
    }
    await this.closeExpired(expired);
    return outcomes;
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
