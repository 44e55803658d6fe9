/**
 * MessageSender: delivers data to connections through the API Gateway management API
 * (PostToConnection).
 *
 * - A GoneException, or a bare 410 (which the SDK names `Unknown`), means the connection
 *   is gone: its row and subscriptions are removed (when a store is given).
 * - 429, 5xx and network errors are retried with exponential backoff and full jitter, a
 *   bounded number of times, and never past the Lambda's remaining time (when a context
 *   is given). Other errors (403, 413, 400) fail at once.
 * - Payloads over 128 KB (UTF-8) are refused before any call.
 */
import { LIMITS } from '@wskit/protocol';
import { managementApi, type ManagementClient } from '../aws';
import { callbackUrl, regionFromEnv, senderTransportFromEnv, type CallbackTarget, type SenderTransport } from '../config';
import { PayloadTooLargeError } from '../errors';
import type { Logger } from '../logger';
import type { ConnectionStore } from '../store';
import { classifySendError, isThrottle, statusOf } from './classify';
import { runFanOut, type AttemptHooks } from './fan-out';
import { managementConnection, type ManagementConnection } from './management';
import type { SigningCredentials } from './signed-post';
import { traced } from '../tracing';
import {
  DEFAULT_RETRY_POLICY,
  type ConnectionInfo,
  type FanOutMetricsOptions,
  type FanOutOptions,
  type FanOutSummary,
  type MessageSenderOptions,
  type RemainingTime,
  type RetryPolicy,
  type SendOptions,
  type SendResult,
} from './types';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function payloadBytes(payload: string | Uint8Array): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

export class MessageSender {
  readonly endpoint: string;
  readonly region: string;
  readonly store: ConnectionStore | undefined;
  readonly logger: Logger | undefined;
  private readonly retry: RetryPolicy;
  private readonly context: RemainingTime | undefined;
  private readonly requestTimeoutMs: number;
  readonly concurrency: number;
  private readonly maxSockets: number;
  readonly metrics: FanOutMetricsOptions | undefined;
  private readonly random: () => number;
  readonly transport: SenderTransport;

  constructor(options: MessageSenderOptions) {
    if (!options.endpoint) throw new Error('MessageSender needs the management API endpoint');
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.region = options.region ?? (process.env.AWS_REGION?.trim() || process.env.AWS_DEFAULT_REGION?.trim() || 'us-east-1');
    this.store = options.store;
    this.logger = options.logger;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.context = options.context;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 3000;
    this.concurrency = Math.max(1, options.concurrency ?? 32);
    this.maxSockets = Math.max(1, options.maxSockets ?? Math.max(64, this.concurrency));
    this.metrics = options.metrics;
    this.random = options.random ?? Math.random;
    this.transport = options.transport ?? senderTransportFromEnv();
  }

  /**
   * A sender for the API an event came through: WSKIT_CALLBACK_URL when set, else built
   * from requestContext apiId, stage and AWS_REGION.
   */
  static forApi(target: CallbackTarget, options: Omit<MessageSenderOptions, 'endpoint'> = {}): MessageSender {
    const region = target.region ?? options.region ?? regionFromEnv();
    return new MessageSender({ ...options, region, endpoint: callbackUrl({ ...target, region }) });
  }

  private connection(): Promise<ManagementConnection> {
    return managementConnection(this.endpoint, this.region, this.requestTimeoutMs, this.maxSockets);
  }

  private async client(): Promise<ManagementClient> {
    return (await this.connection()).client;
  }

  /** The credentials requests are signed with (the SDK client's provider chain, memoized). */
  async credentials(): Promise<SigningCredentials> {
    return (await this.client()).config.credentials();
  }

  /** Milliseconds left before the reserve, or Infinity without a context. */
  private timeLeft(): number {
    return this.context ? this.context.getRemainingTimeInMillis() - this.retry.reserveMs : Infinity;
  }

  /** Refuses a payload over 128 KB (UTF-8) before anything is sent. */
  checkPayload(payload: string | Uint8Array): Uint8Array {
    const bytes = payloadBytes(payload);
    if (bytes.byteLength > LIMITS.maxMessageBytes) {
      throw new PayloadTooLargeError(bytes.byteLength, LIMITS.maxMessageBytes);
    }
    return bytes;
  }

  /**
   * Sends to one connection. Resolves with the outcome; throws only PayloadTooLargeError
   * (before sending).
   */
  async send(connectionId: string, payload: string | Uint8Array, options: SendOptions = {}): Promise<SendResult> {
    const data = this.checkPayload(payload);
    return traced(
      { name: 'ApiGatewayManagementApi', aws: { operation: 'PostToConnection' } },
      () => this.sendBytes(connectionId, data, options),
      (result) => ({ annotations: { status: result.status }, metadata: { attempts: result.attempts } }),
      { nested: false },
    );
  }

  private async sendBytes(
    connectionId: string,
    data: Uint8Array,
    options: SendOptions,
    hooks?: AttemptHooks,
  ): Promise<SendResult> {
    const { PostToConnectionCommand } = await managementApi();
    const { client, poster } = await this.connection();
    const viaSdk = this.transport === 'sdk';
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      if (attempt > 1) {
        const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 2));
        const delay = Math.floor(this.random() * cap);
        // Full jitter, but never sleep into the time the next attempt would need.
        if (delay + 50 >= this.timeLeft()) return this.deadline(connectionId, attempt - 1, lastError);
        await sleep(delay);
      }
      const left = this.timeLeft();
      if (left < 50) return this.deadline(connectionId, attempt - 1, lastError);
      const ticket = hooks?.started();
      try {
        // Far from the deadline the request timeout bounds the call; an abort signal is added
        // only near it (per-call options would also bypass the SDK's middleware cache).
        const nearDeadline = Number.isFinite(left) && left < this.requestTimeoutMs + 1000;
        const abortSignal = nearDeadline ? AbortSignal.timeout(Math.floor(left)) : undefined;
        if (viaSdk) {
          await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }), abortSignal ? { abortSignal } : undefined);
        } else {
          await poster.post(connectionId, data, abortSignal);
        }
        hooks?.succeeded();
        return { connectionId, status: 'delivered', attempts: attempt };
      } catch (error) {
        lastError = error;
        const kind = classifySendError(error);
        if (kind === 'gone') {
          if (hooks?.gone) hooks.gone(connectionId);
          else await this.removeGone(connectionId, options.topic);
          return { connectionId, status: 'gone', attempts: attempt };
        }
        if (isThrottle(error)) hooks?.throttled(ticket ?? 0);
        if (kind === 'fatal') return this.failed(connectionId, attempt, error, false);
        this.logger?.debug('PostToConnection failed, will retry', {
          connectionId,
          attempt,
          error: { name: (error as Error).name, status: statusOf(error) },
        });
      }
    }
    return this.failed(connectionId, this.retry.maxAttempts, lastError, true);
  }

  /**
   * GetConnection: what API Gateway knows of a live connection, or undefined when it is
   * gone (410). Other errors are thrown.
   */
  async connectionInfo(connectionId: string): Promise<ConnectionInfo | undefined> {
    const { GetConnectionCommand } = await managementApi();
    const client = await this.client();
    try {
      const out = await client.send(new GetConnectionCommand({ ConnectionId: connectionId }), this.requestOptions());
      return {
        connectedAt: out.ConnectedAt,
        lastActiveAt: out.LastActiveAt,
        sourceIp: out.Identity?.SourceIp,
        userAgent: out.Identity?.UserAgent,
      };
    } catch (error) {
      if (classifySendError(error) === 'gone') return undefined;
      throw error;
    }
  }

  /**
   * DeleteConnection: closes a client's connection (API Gateway then sends $disconnect).
   * Resolves false when it was already gone. Other errors are thrown.
   */
  async closeConnection(connectionId: string): Promise<boolean> {
    const { DeleteConnectionCommand } = await managementApi();
    const client = await this.client();
    try {
      await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }), this.requestOptions());
      return true;
    } catch (error) {
      if (classifySendError(error) === 'gone') return false;
      throw error;
    }
  }

  private requestOptions(): { abortSignal?: AbortSignal } {
    const left = this.timeLeft();
    return Number.isFinite(left) ? { abortSignal: AbortSignal.timeout(Math.max(1, Math.floor(left))) } : {};
  }

  private failed(connectionId: string, attempts: number, error: unknown, retryable: boolean): SendResult {
    const name = (error as Error)?.name ?? 'Error';
    const message = (error as Error)?.message ?? String(error);
    this.logger?.warn('PostToConnection failed', { connectionId, attempts, errorName: name, httpStatusCode: statusOf(error) });
    return { connectionId, status: 'failed', attempts, errorName: name, error: message, retryable };
  }

  private deadline(connectionId: string, attempts: number, lastError: unknown): SendResult {
    const result: SendResult = {
      connectionId,
      status: 'failed',
      attempts,
      errorName: 'DeadlineExceeded',
      error: `stopped to stay within the Lambda's remaining time${lastError ? ` (last error: ${(lastError as Error).name})` : ''}`,
      retryable: true,
    };
    this.logger?.warn('PostToConnection abandoned at the deadline', { connectionId, attempts });
    return result;
  }

  private async removeGone(connectionId: string, topic: string | undefined): Promise<void> {
    if (!this.store) return;
    try {
      const removed = await this.store.deleteConnection(connectionId, { alsoTopics: topic ? [topic] : [] });
      this.logger?.debug('removed gone connection', { connectionId, ...removed });
    } catch (error) {
      // TTL removes the rows later; delivery to the others goes on.
      this.logger?.warn('could not remove gone connection', { connectionId, error });
    }
  }

  /**
   * Sends one payload to many connections. The ids may come from an array or an async
   * iterable (for example pages of a subscribers Query, flattened), so the whole audience
   * never has to sit in memory. Duplicate ids are sent once.
   *
   * - At most `concurrency` requests in flight, on keep-alive sockets.
   * - AIMD: a throttled answer halves the limit (once per round trip: answers to requests
   *   started before the last cut do not cut again), each success adds 1/limit of a slot,
   *   so the limit climbs back by about one per round trip, up to `concurrency`.
   * - Gone connections are removed in batches (BatchGetItem for their topics, then
   *   BatchWriteItem deletes, unprocessed items retried), not one by one.
   * - With `metrics`, writes one CloudWatch EMF line with the summary.
   *
   * Throws PayloadTooLargeError before sending anything.
   */
  async fanOut(
    connectionIds: Iterable<string> | AsyncIterable<string>,
    payload: string | Uint8Array,
    options: FanOutOptions = {},
  ): Promise<FanOutSummary> {
    const data = this.checkPayload(payload);
    // One subsegment for the whole fan-out, with its counts (not one per request).
    return traced(
      { name: 'ApiGatewayManagementApi', aws: { operation: 'PostToConnection' }, annotations: { fan_out: true } },
      () => this.fanOutBytes(connectionIds, data, options),
      (summary) => ({
        annotations: { fan_out: true, recipients: summary.total, delivered: summary.delivered, failed: summary.failed },
        metadata: { gone: summary.gone, retried: summary.retried, throttled: summary.throttled, durationMs: summary.durationMs },
      }),
      { nested: false },
    );
  }

  private fanOutBytes(connectionIds: Iterable<string> | AsyncIterable<string>, data: Uint8Array, options: FanOutOptions): Promise<FanOutSummary> {
    return runFanOut(
      {
        attempt: (connectionId, sendOptions, hooks) => this.sendBytes(connectionId, data, sendOptions, hooks),
        concurrency: this.concurrency,
        store: this.store,
        logger: this.logger,
        metrics: this.metrics,
      },
      connectionIds,
      options,
    );
  }
}