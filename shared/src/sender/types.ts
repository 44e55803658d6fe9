/** The types of MessageSender's options and results. */
import type { SenderTransport } from '../config';
import type { Logger } from '../logger';
import type { MetricsTarget } from '../metrics';
import type { ConnectionStore } from '../store';

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
  /**
   * Paces the requests: at most `perSecond` started per second after a first `burst`. A
   * throttle (429) halves the pace for the rest of this fan-out's next second, and it
   * climbs back by a tenth per second: several fan-outs sharing one account quota each
   * keep to their share and give way together when the quota runs out. Default: unpaced.
   */
  pace?: { perSecond: number; burst: number };
}

/** Where a fan-out's metrics line goes (see metrics.ts). */
export type FanOutMetricsOptions = MetricsTarget;

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

