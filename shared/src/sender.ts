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
import { callbackUrl, regionFromEnv, type CallbackTarget } from './config';
import { PayloadTooLargeError } from './errors';
import { LIMITS } from './limits';
import type { Logger } from './logger';
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
  /** Default concurrency of fanOut. Default 32. */
  concurrency?: number;
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
  concurrency?: number;
}

export interface FanOutSummary {
  /** Distinct connections attempted. */
  total: number;
  delivered: number;
  gone: number;
  failed: number;
  /** Connections that needed more than one attempt (whatever their outcome). */
  retried: number;
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

/** Module scope: one management client (and keep-alive agent) per endpoint and Region. */
const clients = new Map<string, ManagementClient>();

async function managementClient(endpoint: string, region: string, requestTimeoutMs: number): Promise<ManagementClient> {
  const key = `${region} ${endpoint} ${requestTimeoutMs}`;
  let client = clients.get(key);
  if (!client) {
    const [{ ApiGatewayManagementApiClient }, { NodeHttpHandler }, [http, https]] = await Promise.all([
      managementApi(),
      nodeHttpHandler(),
      httpModules(),
    ]);
    const existing = clients.get(key);
    if (existing) return existing;
    const agentOptions = { keepAlive: true, maxSockets: 64 };
    client = new ApiGatewayManagementApiClient({
      endpoint,
      region,
      // MessageSender owns retries, so it can honour the Lambda deadline.
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({
        httpAgent: new http.Agent(agentOptions),
        httpsAgent: new https.Agent(agentOptions),
        connectionTimeout: 1000,
        requestTimeout: requestTimeoutMs,
      }),
    });
    clients.set(key, client);
  }
  return client;
}

/** Closes the cached management clients and their sockets (tests, graceful shutdown). */
export function destroyManagementClients(): void {
  for (const client of clients.values()) client.destroy();
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
  private readonly random: () => number;

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
    this.random = options.random ?? Math.random;
  }

  /**
   * A sender for the API an event came through: WSKIT_CALLBACK_URL when set, else built
   * from requestContext apiId, stage and AWS_REGION.
   */
  static forApi(target: CallbackTarget, options: Omit<MessageSenderOptions, 'endpoint'> = {}): MessageSender {
    const region = target.region ?? options.region ?? regionFromEnv();
    return new MessageSender({ ...options, region, endpoint: callbackUrl({ ...target, region }) });
  }

  private client(): Promise<ManagementClient> {
    return managementClient(this.endpoint, this.region, this.requestTimeoutMs);
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

  private async sendBytes(connectionId: string, data: Uint8Array, options: SendOptions): Promise<SendResult> {
    const { PostToConnectionCommand } = await managementApi();
    const client = await this.client();
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
      try {
        await client.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }),
          Number.isFinite(left) ? { abortSignal: AbortSignal.timeout(Math.floor(left)) } : {},
        );
        return { connectionId, status: 'delivered', attempts: attempt };
      } catch (error) {
        lastError = error;
        const kind = classifySendError(error);
        if (kind === 'gone') {
          await this.removeGone(connectionId, options.topic);
          return { connectionId, status: 'gone', attempts: attempt };
        }
        if (kind === 'fatal') return this.failed(connectionId, attempt, error);
        this.logger?.debug('PostToConnection failed, will retry', {
          connectionId,
          attempt,
          error: { name: (error as Error).name, status: statusOf(error) },
        });
      }
    }
    return this.failed(connectionId, this.retry.maxAttempts, lastError);
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

  private failed(connectionId: string, attempts: number, error: unknown): SendResult {
    const name = (error as Error)?.name ?? 'Error';
    const message = (error as Error)?.message ?? String(error);
    this.logger?.warn('PostToConnection failed', { connectionId, attempts, errorName: name, httpStatusCode: statusOf(error) });
    return { connectionId, status: 'failed', attempts, errorName: name, error: message };
  }

  private deadline(connectionId: string, attempts: number, lastError: unknown): SendResult {
    const result: SendResult = {
      connectionId,
      status: 'failed',
      attempts,
      errorName: 'DeadlineExceeded',
      error: `stopped to stay within the Lambda's remaining time${lastError ? ` (last error: ${(lastError as Error).name})` : ''}`,
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
   * Sends one payload to many connections with bounded concurrency. The ids may come from
   * an array or an async iterable (for example pages of a subscribers Query, flattened), so
   * the whole audience never has to sit in memory. Duplicate ids are sent once.
   * Throws PayloadTooLargeError before sending anything.
   */
  async fanOut(
    connectionIds: Iterable<string> | AsyncIterable<string>,
    payload: string | Uint8Array,
    options: FanOutOptions = {},
  ): Promise<FanOutSummary> {
    const data = this.checkPayload(payload);
    const started = performance.now();
    const summary: FanOutSummary = { total: 0, delivered: 0, gone: 0, failed: 0, retried: 0, durationMs: 0, failures: [] };
    const seen = new Set<string>();
    const iterator = toAsyncIterator(connectionIds);
    const concurrency = Math.max(1, options.concurrency ?? this.concurrency);

    const worker = async (): Promise<void> => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const connectionId = next.value;
        if (seen.has(connectionId)) continue;
        seen.add(connectionId);
        summary.total++;
        const result = await this.sendBytes(connectionId, data, options);
        summary[result.status]++;
        if (result.attempts > 1) summary.retried++;
        if (result.status === 'failed' && summary.failures.length < 50) summary.failures.push(result);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    summary.durationMs = Math.round(performance.now() - started);
    return summary;
  }
}

/** One iterator several workers can pull from: an async generator queues concurrent next() calls. */
function toAsyncIterator(source: Iterable<string> | AsyncIterable<string>): AsyncIterator<string> {
  return (async function* () {
    yield* source;
  })();
}
