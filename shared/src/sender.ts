/**
 * MessageSender: delivers data to connections through the API Gateway management API
 * (PostToConnection), with the real SDK client.
 *
 * - A GoneException, or a bare 410 (which the SDK names `Unknown`), means the connection
 *   is gone: its row and subscriptions are removed (when a store is given).
 * - 429, 5xx and network errors are retried with exponential backoff and full jitter, a
 *   bounded number of times, and never past the Lambda's remaining time (when a context
 *   is given). Other errors (403, 413, 400) fail at once.
 * - Payloads over 128 KB (UTF-8) are refused before any call.
 */
import { httpModules, managementApi, nodeHttpHandler, type ManagementClient } from './aws';
import { callbackUrl, regionFromEnv, senderTransportFromEnv, type CallbackTarget, type SenderTransport } from './config';
import { PayloadTooLargeError } from './errors';
import { LIMITS } from '@wskit/protocol';
import type { Logger } from './logger';
import { SignedPoster } from './signed-post';
import type { ConnectionStore } from './store';

/** What MessageSender needs from a Lambda context. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

export interface RetryPolicy {
  /** Attempts per connection, the first included. Default 4. */
  maxAttempts: number;
  /** First backoff cap; doubles each retry. Default 50 ms. */
  baseDelayMs: number;
  /** Largest backoff cap. Default 2000 ms. */
  maxDelayMs: number;
  /** Time kept back from the Lambda deadline for the handler to finish. Default 500 ms. */
  reserveMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 2000, reserveMs: 500 };

export interface MessageSenderOptions {
  /** Management API base URL, `https://<apiId>.execute-api.<region>.amazonaws.com/<stage>`. */
  endpoint: string;
  /** Signing Region; default AWS_REGION, else us-east-1. */
  region?: string;
  /** When given, gone connections are removed from it. */
  store?: ConnectionStore;
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  /** The Lambda context: no retry or request outlives its remaining time. */
  context?: RemainingTime;
  /** Per-request timeout of the HTTP client. Default 3000 ms. */
  requestTimeoutMs?: number;
  /** Default concurrency of fanOut (its ceiling: throttling lowers it, success restores it). Default 32. */
  concurrency?: number;
  /** Keep-alive sockets per endpoint. Default max(64, concurrency). */
  maxSockets?: number;
  /** One CloudWatch Embedded Metric Format line per fanOut (off unless given). */
  metrics?: FanOutMetricsOptions;
  /**
   * How PostToConnection is sent: `signed-http` (default) signs one HTTP request itself,
   * 4-6x less CPU per call than the SDK client (bench/fanout); `sdk` sends it with the SDK client.
   * GetConnection and DeleteConnection always use the SDK client. Default:
   * WSKIT_SENDER_TRANSPORT, else `signed-http`.
   */
  transport?: SenderTransport;
  /** Source of randomness for jitter (tests may seed it). */
  random?: () => number;
}

export type SendStatus = 'delivered' | 'gone' | 'failed';

export interface SendResult {
  connectionId: string;
  status: SendStatus;
  attempts: number;
  /** Set when status is failed: the last error's name (or `DeadlineExceeded`) and message. */
  errorName?: string;
  error?: string;
  /** Set when status is failed: whether trying again later may succeed (throttling, 5xx, network, deadline). */
  retryable?: boolean;
}

export interface ConnectionInfo {
  connectedAt?: Date;
  lastActiveAt?: Date;
  sourceIp?: string;
  userAgent?: string;
}

export interface SendOptions {
  /** The topic the recipient was found under: its subscription is removed too when gone. */
  topic?: string;
}

export interface FanOutOptions extends SendOptions {
  /** Ceiling of requests in flight for this fan-out (default: the sender's). */
  concurrency?: number;
  /** Floor the throttle back-off never goes under. Default max(1, concurrency / 16). */
  minConcurrency?: number;
  /** Called with each connection's outcome (e.g. to drop gone ids before the next message). */
  onResult?: (result: SendResult) => void;
  /** Extra properties for the EMF line (e.g. a message id); never used as dimensions. */
  metricProperties?: Record<string, string | number | boolean>;
}

export interface FanOutMetricsOptions {
  /** CloudWatch namespace. Default `wskit`. */
  namespace?: string;
  /** Value of the `Service` dimension, e.g. `wskit-broadcaster`. */
  service: string;
  /** Where the line goes. Default: process.stdout (Lambda ships it to CloudWatch Logs). */
  write?: (line: string) => void;
}

export interface FanOutSummary {
  /** Distinct connections attempted. */
  total: number;
  delivered: number;
  gone: number;
  failed: number;
  /** Connections that needed more than one attempt (whatever their outcome). */
  retried: number;
  /** Attempts beyond the first, over all connections. */
  retries: number;
  /** Responses that said "slow down" (429 / LimitExceededException). */
  throttled: number;
  /** Concurrency the fan-out ended at, and the lowest it went (AIMD). */
  concurrency: { initial: number; final: number; lowest: number };
  durationMs: number;
  /** The first failures (at most 50), for logging. */
  failures: SendResult[];
}

type ErrorClass = 'gone' | 'retry' | 'fatal';

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

function statusOf(error: unknown): number | undefined {
  const e = error as { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
  return e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
}

export function classifySendError(error: unknown): ErrorClass {
  const name = (error as { name?: string })?.name;
  const status = statusOf(error);
  if (name === 'GoneException' || status === 410) return 'gone';
  if (status === 429 || name === 'LimitExceededException' || name === 'ThrottlingException') return 'retry';
  if (status !== undefined && status >= 500) return 'retry';
  if (status === undefined) {
    const code = (error as { code?: string })?.code;
    if (name === 'TimeoutError' || name === 'RequestTimeout') return 'retry';
    if (code && RETRYABLE_NETWORK_CODES.has(code)) return 'retry';
    if (name && RETRYABLE_NETWORK_CODES.has(name)) return 'retry';
    if (/socket hang up|ECONNRESET|EPIPE/i.test((error as Error)?.message ?? '')) return 'retry';
  }
  return 'fatal';
}

/** The SDK client, and the signed-HTTP poster that shares its credentials and sockets. */
interface ManagementConnection {
  client: ManagementClient;
  poster: SignedPoster;
}

/** Module scope: one management client (and keep-alive agent) per endpoint and Region. */
const clients = new Map<string, Promise<ManagementConnection>>();

async function createManagementConnection(
  endpoint: string,
  region: string,
  requestTimeoutMs: number,
  maxSockets: number,
): Promise<ManagementConnection> {
  const [{ ApiGatewayManagementApiClient }, { NodeHttpHandler }, [http, https]] = await Promise.all([
    managementApi(),
    nodeHttpHandler(),
    httpModules(),
  ]);
  const agentOptions = { keepAlive: true, maxSockets, keepAliveMsecs: 10_000 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region,
    // MessageSender owns retries, so it can honour the Lambda deadline.
    maxAttempts: 1,
    // Resolve the middleware stack once per command type, not on every send (fan-out
    // sends thousands of identical commands; this is a large share of the SDK's CPU).
    cacheMiddleware: true,
    requestHandler: new NodeHttpHandler({
      // Without this the SDK only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
      httpAgent,
      httpsAgent,
      connectionTimeout: 1000,
      requestTimeout: requestTimeoutMs,
    }),
  });
  const secure = new URL(endpoint).protocol === 'https:';
  const poster = new SignedPoster({
    endpoint,
    region,
    // The client's resolved provider chain: memoized, refreshed before expiry.
    credentials: () => client.config.credentials(),
    request: secure ? https.request : http.request,
    agent: secure ? httpsAgent : httpAgent,
    requestTimeoutMs,
    userAgent: 'wskit-message-sender',
  });
  return { client, poster };
}

function managementConnection(endpoint: string, region: string, requestTimeoutMs: number, maxSockets: number): Promise<ManagementConnection> {
  const key = `${region} ${endpoint} ${requestTimeoutMs} ${maxSockets}`;
  let connection = clients.get(key);
  if (!connection) {
    connection = createManagementConnection(endpoint, region, requestTimeoutMs, maxSockets);
    clients.set(key, connection);
    // A failed SDK load is not cached: the next call tries again.
    connection.catch(() => {
      if (clients.get(key) === connection) clients.delete(key);
    });
  }
  return connection;
}

/** Closes the cached management clients and their sockets (tests, graceful shutdown). */
export function destroyManagementClients(): void {
  for (const connection of clients.values()) void connection.then(({ client }) => client.destroy(), () => undefined);
  clients.clear();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function payloadBytes(payload: string | Uint8Array): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

export class MessageSender {
  readonly endpoint: string;
  readonly region: string;
  private readonly store: ConnectionStore | undefined;
  private readonly logger: Logger | undefined;
  private readonly retry: RetryPolicy;
  private readonly context: RemainingTime | undefined;
  private readonly requestTimeoutMs: number;
  private readonly concurrency: number;
  private readonly maxSockets: number;
  private readonly metrics: FanOutMetricsOptions | undefined;
  private readonly random: () => number;
  readonly transport: SenderTransport;

  constructor(options: MessageSenderOptions) {
    if (!options.endpoint) throw new Error('MessageSender needs the management API endpoint');
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.region = options.region ?? (process.env.AWS_REGION?.trim() || 'us-east-1');
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
    return this.sendBytes(connectionId, this.checkPayload(payload), options);
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
    const started = performance.now();
    const ceiling = Math.max(1, Math.floor(options.concurrency ?? this.concurrency));
    const floor = Math.min(ceiling, Math.max(1, Math.floor(options.minConcurrency ?? ceiling / 16)));
    const summary: FanOutSummary = {
      total: 0,
      delivered: 0,
      gone: 0,
      failed: 0,
      retried: 0,
      retries: 0,
      throttled: 0,
      concurrency: { initial: ceiling, final: ceiling, lowest: ceiling },
      durationMs: 0,
      failures: [],
    };
    const seen = new Set<string>();
    const limiter = new AimdLimiter(ceiling, floor);
    const remover = new GoneRemover(this.store, options.topic, this.logger);
    const hooks: AttemptHooks = {
      started: () => limiter.ticket(),
      succeeded: () => limiter.onSuccess(),
      throttled: (ticket) => {
        summary.throttled++;
        limiter.onThrottle(ticket);
      },
      gone: (connectionId) => remover.add(connectionId),
    };

    let inFlight = 0;
    let wake: (() => void) | undefined;
    const settled = () => {
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    };
    const running = new Set<Promise<void>>();
    try {
      for await (const connectionId of connectionIds) {
        if (seen.has(connectionId)) continue;
        seen.add(connectionId);
        summary.total++;
        while (inFlight >= limiter.limit) await new Promise<void>((resolve) => (wake = resolve));
        inFlight++;
        const task: Promise<void> = this.sendBytes(connectionId, data, options, hooks).then(
          (result) => {
            summary[result.status]++;
            summary.retries += Math.max(0, result.attempts - 1);
            if (result.attempts > 1) summary.retried++;
            if (result.status === 'failed' && summary.failures.length < 50) summary.failures.push(result);
            options.onResult?.(result);
            running.delete(task);
            settled();
          },
          (error: unknown) => {
            // sendBytes resolves every outcome; this is a bug or an SDK load failure.
            summary.failed++;
            if (summary.failures.length < 50) {
              summary.failures.push({ connectionId, status: 'failed', attempts: 0, errorName: (error as Error)?.name, error: String(error), retryable: true });
            }
            options.onResult?.({ connectionId, status: 'failed', attempts: 0, retryable: true });
            running.delete(task);
            settled();
          },
        );
        running.add(task);
      }
    } finally {
      // Also when the id source throws (a failed Query page): no send is left running and
      // the gone connections found so far are still removed.
      await Promise.all(running);
      await remover.flush();
    }
    summary.concurrency.final = Math.floor(limiter.limit);
    summary.concurrency.lowest = limiter.lowest;
    summary.durationMs = Math.round(performance.now() - started);
    if (this.metrics) writeFanOutMetrics(this.metrics, summary, options);
    return summary;
  }
}

interface AttemptHooks {
  /** A request is about to start; returns its ticket (a sequence number). */
  started(): number;
  succeeded(): void;
  throttled(ticket: number): void;
  /** Gone connections are handed over for batched removal instead of removed one by one. */
  gone?: (connectionId: string) => void;
}

function isThrottle(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return statusOf(error) === 429 || name === 'LimitExceededException' || name === 'ThrottlingException';
}

/**
 * Additive-increase / multiplicative-decrease limit on requests in flight. A throttle cuts
 * the limit in half, but only for requests started after the previous cut: one burst of
 * 429s from the same round trip counts once.
 */
export class AimdLimiter {
  limit: number;
  lowest: number;
  private sequence = 0;
  private lastCut = 0;

  constructor(
    private readonly ceiling: number,
    private readonly floor: number,
  ) {
    this.limit = ceiling;
    this.lowest = ceiling;
  }

  ticket(): number {
    return ++this.sequence;
  }

  onSuccess(): void {
    if (this.limit < this.ceiling) this.limit = Math.min(this.ceiling, this.limit + 1 / Math.floor(this.limit));
  }

  onThrottle(ticket: number): void {
    if (ticket <= this.lastCut) return;
    this.lastCut = this.sequence;
    this.limit = Math.max(this.floor, Math.floor(this.limit / 2));
    this.lowest = Math.min(this.lowest, this.limit);
  }
}

/** Collects gone connection ids during a fan-out and removes them in batches. */
class GoneRemover {
  private pending: string[] = [];
  private readonly work: Array<Promise<void>> = [];

  constructor(
    private readonly store: ConnectionStore | undefined,
    private readonly topic: string | undefined,
    private readonly logger: Logger | undefined,
    private readonly batchSize = 100,
  ) {}

  add(connectionId: string): void {
    if (!this.store) return;
    this.pending.push(connectionId);
    if (this.pending.length >= this.batchSize) this.startBatch();
  }

  private startBatch(): void {
    const ids = this.pending;
    this.pending = [];
    if (ids.length === 0 || !this.store) return;
    const store = this.store;
    this.work.push(
      store.removeConnections(ids, { alsoTopics: this.topic ? [this.topic] : [] }).then(
        (removed) => this.logger?.debug('removed gone connections', { count: ids.length, ...removed }),
        // TTL removes the rows later; delivery to the others is unaffected.
        (error: unknown) => this.logger?.warn('could not remove gone connections', { count: ids.length, error }),
      ),
    );
  }

  async flush(): Promise<void> {
    this.startBatch();
    await Promise.all(this.work);
  }
}

/** One CloudWatch Embedded Metric Format line for a fan-out. */
export function fanOutMetricsLine(
  metrics: FanOutMetricsOptions,
  summary: FanOutSummary,
  properties: Record<string, unknown> = {},
  timestamp = Date.now(),
): string {
  const count = (name: string) => ({ Name: name, Unit: 'Count' });
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: metrics.namespace ?? 'wskit',
          Dimensions: [['Service']],
          Metrics: [
            count('Recipients'),
            count('Delivered'),
            count('Gone'),
            count('Failed'),
            count('Retried'),
            count('Retries'),
            count('Throttled'),
            { Name: 'FanOutDuration', Unit: 'Milliseconds' },
            count('FinalConcurrency'),
          ],
        },
      ],
    },
    ...properties,
    Service: metrics.service,
    Recipients: summary.total,
    Delivered: summary.delivered,
    Gone: summary.gone,
    Failed: summary.failed,
    Retried: summary.retried,
    Retries: summary.retries,
    Throttled: summary.throttled,
    FanOutDuration: summary.durationMs,
    FinalConcurrency: summary.concurrency.final,
  });
}

function writeFanOutMetrics(metrics: FanOutMetricsOptions, summary: FanOutSummary, options: FanOutOptions): void {
  const properties: Record<string, unknown> = { ...options.metricProperties };
  if (options.topic) properties.topic = options.topic;
  const line = fanOutMetricsLine(metrics, summary, properties);
  if (metrics.write) metrics.write(line);
  else process.stdout.write(`${line}\n`);
}
