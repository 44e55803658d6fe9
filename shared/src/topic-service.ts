/**
 * What a caller may do with a topic, the same over WebSocket and HTTP: the topic policy, the
 * rate limits, publishing (TopicPublisher) and reading history. Both the message handler and
 * the HTTP handler answer with what this decides; a refusal is a `Refusal` carrying the
 * protocol's error code, which each turns into its own reply (an error frame, an HTTP status).
 *
 * Callers are signed-in users (the authorizer's session: the topic policy applies) or
 * services signed with IAM credentials (IAM already decided what they may call: every topic).
 */
import { isTopicAllowed, topicProblem, type ErrorCode, type HistoryReplyFrame } from '@wskit/protocol';
import type { FanOutSettings, RateLimits } from './config';
import { FanOutQueue } from './fanout-queue';
import type { Session } from './events';
import { PayloadTooLargeError } from './errors';
import { PublishWindowExceeded, type TopicHistory } from './history';
import type { Logger } from './logger';
import { TopicPublisher, type PublishOutcome } from './publisher';
import { RateLimiter } from './rate-limit';
import type { MessageSender } from './sender/message-sender';
import type { ConnectionStore } from './store';
import { SubscriberCache } from './subscriber-cache';

/** A request the protocol refuses, with its error code (and when to retry, for RATE_LIMITED). */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export type Caller = { kind: 'user'; session: Session } | { kind: 'service'; principal: string };

export interface TopicServiceOptions {
  store: ConnectionStore;
  history: TopicHistory;
  limiter: RateLimiter;
  publicPrefixes: readonly string[];
  rateLimits: RateLimits;
  clockToleranceSeconds: number;
  /** The execution environment's subscriber lists (module scope). */
  subscribers: SubscriberCache;
  /** Big fan-outs are handed off when it names a queue. */
  fanOut?: FanOutSettings;
}

/** What a function that serves topics over the one table builds its TopicService from. */
export interface TableTopicServiceOptions extends Pick<TopicServiceOptions, 'store' | 'history' | 'publicPrefixes' | 'rateLimits' | 'clockToleranceSeconds' | 'fanOut'> {
  tableName: string;
  /** The logger of the moment (the invocation's), for a rate-limit check the table could not answer. */
  logger: () => Logger;
  /** What such a check lets through, for that log line: a WebSocket frame or an HTTP request. */
  unit: 'frame' | 'request';
}

export interface PublishContext {
  sender: MessageSender;
  logger: Logger;
}

export class TopicService {
  constructor(private readonly options: TopicServiceOptions) {}

  /**
   * The service the message and http functions run: rate limits and subscriber lists in the
   * same table. A rate-limit check the table cannot answer lets the frame or request through,
   * with a warning (failing open keeps users working through a table incident).
   */
  static overTable(options: TableTopicServiceOptions): TopicService {
    const { tableName, logger, unit, ...rest } = options;
    return new TopicService({
      ...rest,
      limiter: new RateLimiter({
        tableName,
        onError: (error) => logger().warn(`rate limit not checked: the table could not be reached; the ${unit} is let through`, { error }),
      }),
      subscribers: new SubscriberCache({ tableName }),
    });
  }

  /** The rate-limit key and label of a caller's publishes. */
  private static publisherKey(caller: Caller): string {
    return caller.kind === 'user' ? `publishes#${caller.session.userId}` : `publishes#iam#${caller.principal}`;
  }

  /** Throws TOKEN_EXPIRED once a session's token is past its exp plus the clock tolerance. */
  checkSession(session: Session): void {
    if (session.exp !== undefined && (session.exp + this.options.clockToleranceSeconds) * 1000 <= Date.now()) {
      throw new Refusal('TOKEN_EXPIRED', `the token expired at ${formatEpochSeconds(session.exp)}: reconnect with a fresh token`);
    }
  }

  /**
   * Throws BAD_REQUEST for a topic outside the grammar (whoever asks: an IAM caller may use
   * any topic, but only topics), then FORBIDDEN unless the caller may use it this way.
   */
  authorize(caller: Caller, topic: string, operation: 'subscribe' | 'publish'): void {
    const problem = topicProblem(topic);
    if (problem) throw new Refusal('BAD_REQUEST', problem);
    if (caller.kind === 'service') return;
    if (!isTopicAllowed(topic, operation, caller.session, { publicPrefixes: this.options.publicPrefixes })) {
      throw new Refusal('FORBIDDEN', `not allowed to ${operation} to topic "${topic}"`);
    }
  }

  /** Takes one unit of `key`'s budget, or throws RATE_LIMITED with when to retry. */
  async take(key: string, limit: number, what: string, windowSeconds = this.options.rateLimits.windowSeconds): Promise<void> {
    const decision = await this.options.limiter.take(key, { limit, windowSeconds });
    if (!decision.allowed) {
      throw new Refusal('RATE_LIMITED', `too many ${what}: at most ${limit} per ${windowSeconds} s; retry after ${decision.retryAfterMs} ms`, decision.retryAfterMs);
    }
  }

  /** A page of the topic's history; needs the right to subscribe. */
  async history(caller: Caller, topic: string, page: { since?: number; limit?: number }): Promise<Omit<HistoryReplyFrame, 'id'>> {
    this.authorize(caller, topic, 'subscribe');
    const reply = await this.options.history.read(topic, page);
    return { type: 'history', topic, ...reply };
  }

  /**
   * Publishes `data` on `topic` for the caller: the policy, the caller's publish budget, then
   * the one publish path. Refusals (FORBIDDEN, RATE_LIMITED, PAYLOAD_TOO_LARGE) write nothing.
   */
  async publish(caller: Caller, topic: string, data: unknown, context: PublishContext): Promise<PublishOutcome> {
    this.authorize(caller, topic, 'publish');
    await this.take(TopicService.publisherKey(caller), this.options.rateLimits.publishesPerUser, caller.kind === 'user' ? 'publishes by this user' : 'publishes by this principal');
    const publisher = new TopicPublisher({
      store: this.options.store,
      history: this.options.history,
      sender: context.sender,
      clockToleranceSeconds: this.options.clockToleranceSeconds,
      logger: context.logger,
      subscribers: this.options.subscribers,
      handoff: this.handoff(context.sender),
    });
    try {
      return await publisher.publish({ topic, data });
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        throw new Refusal('PAYLOAD_TOO_LARGE', `the message to deliver would be ${error.bytes} bytes, over the ${error.limit}-byte limit: send less data`);
      }
      if (error instanceof PublishWindowExceeded) throw new Refusal('INTERNAL', error.message);
      throw error;
    }
  }

  private handoff(sender: MessageSender): { queue: FanOutQueue; settings: FanOutSettings } | undefined {
    const settings = this.options.fanOut;
    if (!settings?.queueUrl) return undefined;
    return { queue: new FanOutQueue({ queueUrl: settings.queueUrl, region: sender.region, credentials: () => sender.credentials() }), settings };
  }
}

export function formatEpochSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `epoch second ${seconds}` : date.toISOString();
}
