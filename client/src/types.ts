/** The public types of the client, shared by its parts. */
import type { BackoffOptions } from './backoff';
import type { WskitClient } from './client';
import type { Environment } from './environment';
import type { WskitError } from './errors';
import type { PushedMessage } from './protocol';
import type { TokenProvider, TokenRefreshReason } from './token';

/** The part of the WebSocket API the client uses: the browser's, Node's global, or `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  // Event parameters are `any` so both the DOM's and `ws`'s handler types fit.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * `degraded`: WebSocket connections keep failing and the client serves its topics and
 * publishes over the HTTP API (see `httpUrl`) while it keeps trying the WebSocket.
 */
export type ConnectionState = 'connecting' | 'open' | 'degraded' | 'reconnecting' | 'closed';

export interface CloseReason {
  kind:
    | 'server-close' // the server closed the socket (e.g. 1001 "Going away" at the idle or 2 h limit)
    | 'network-error' // the socket failed: could not connect, or dropped without a close frame
    | 'heartbeat-timeout' // no pong in time: the connection was declared dead and replaced
    | 'connect-timeout' // no open + welcome within connectTimeoutMs
    | 'handshake-failed' // the server answered hello or a resubscribe with an error
    | 'unauthorized' // the upgrade was refused with 401/403
    | 'token-error' // the token provider threw or returned nothing
    | 'offline' // the host reports no network: reconnection waits for `online`
    | 'max-retries' // reconnect.maxRetries attempts in a row failed
    | 'client'; // close() was called
  /** WebSocket close code, when a close frame or event had one. */
  code?: number;
  /** Close reason text or error detail. */
  message?: string;
  /** HTTP status of a refused upgrade, when the runtime exposes it (Node with `ws`). */
  status?: number;
}

export type RotationReason = 'max-age' | 'token-expiring' | 'token-expired' | 'manual';

/** Connection quality (see `qualityMonitor()`). */
export type Quality = 'good' | 'degraded' | 'poor';

/** What the quality monitor measured (in `client.stats.quality` and the `quality` event). */
export interface QualitySnapshot {
  quality: Quality;
  /** Round-trip times of the replies in the rolling window (absent before the first reply). */
  rttMs?: { p50: number; p95: number; count: number };
  /** How long the oldest unanswered request (heartbeat ping or any other) has waited, ms. */
  silenceMs: number;
  /** Milliseconds since the last frame arrived from the server (absent before the first). */
  sinceLastFrameMs?: number;
}

export interface ClientEvents {
  /** Every state change. */
  state: { state: ConnectionState; previous: ConnectionState; reason?: CloseReason };
  /** A connection attempt starts (the first one, or a reconnect). */
  connecting: { attempt: number };
  /** A connection is ready: welcomed, subscriptions restored, queue about to flush. */
  open: { connectionId: string; userId?: string; reconnected: boolean };
  /** The connection was lost; the next attempt runs after `delayMs` (absent while offline). */
  reconnecting: { attempt: number; delayMs?: number; reason: CloseReason };
  /** WebSocket connects keep failing: topics and publishes go over HTTP until one succeeds. */
  degraded: { failures: number; reason: CloseReason };
  /** The client stopped for good. */
  closed: { reason: CloseReason };
  /** A new connection replaced the old one without a gap (see `maxConnectionMs`). */
  rotated: { reason: RotationReason; connectionId: string; previousConnectionId: string };
  /** The token provider delivered a new token. */
  token: { reason: TokenRefreshReason; expiresAt?: number };
  /** A queued send was dropped because the queue was full; its promise rejected with QUEUE_FULL. */
  dropped: { action: string; fields: Record<string, unknown>; error: WskitError };
  /** A subscription was refused by the server (e.g. FORBIDDEN); its handlers were removed. */
  subscriptionError: { topic: string; error: WskitError };
  /**
   * Messages `from`..`to` (sequence numbers, inclusive) of `topic` are gone (older than the
   * server retains, or the server could not serve them) and were not delivered. The messages
   * after `to` follow in order. Reload what the application derives from this topic.
   * `reset`: the topic's numbering started again (the server forgot it, e.g. after a long
   * idle time); `from`..`to` are then the old numbers that were not seen.
   */
  gap: { topic: string; from: number; to: number; reason: 'retention' | 'unavailable' | 'reset' };
  /** Every pushed message, after duplicate suppression, per topic in `seq` order. */
  message: PushedMessage;
  /** The host went online or offline (browsers). */
  network: { online: boolean };
  /** The connection quality changed (only with `qualityMonitor()`); once per change. */
  quality: QualitySnapshot & { previous: Quality };
  /** A problem that does not stop the client (an unreadable frame, an error reply with no id...). */
  error: { error: Error };
  /** Every text frame sent or received, for debugging tools (the token never appears in a frame). */
  frame: { direction: 'in' | 'out'; text: string; connectionId: string };
}

/** Something that plugs into a client at `connect()` (`qualityMonitor()`, `metricsReporter()`). */
export interface ClientExtension {
  /** Called once by the client's constructor; may return a function the client calls on close. */
  attach(host: ExtensionHost): void | (() => void);
}

/** What observes the client from inside: the observations the quality monitor needs. */
export interface ClientObserver {
  /** A request frame was sent. */
  sent?(): void;
  /** A reply arrived `rttMs` after its request was sent. */
  reply?(rttMs: number): void;
  /** Any frame arrived from the server. */
  frame?(): void;
  /** The state changed. */
  state?(state: ConnectionState): void;
  /** The client closed. */
  closed?(): void;
}

/** The client as an extension sees it. */
export interface ExtensionHost {
  readonly client: WskitClient;
  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void;
  observe(observer: ClientObserver): void;
  /** When the oldest unanswered request of the connection in use was sent (epoch ms). */
  oldestPendingAt(): number | undefined;
  /** Makes `client.quality` and `client.stats.quality` answer from `snapshot`. */
  provideQuality(snapshot: () => QualitySnapshot): void;
}

export interface ConnectOptions {
  /** `wss://<api>.execute-api.<region>.amazonaws.com/<stage>` (or the local gateway's wsUrl). */
  url: string;
  /** A token, or a function returning (a promise of) one; a function makes refresh possible. */
  token: string | TokenProvider;
  /** WebSocket implementation; default: the global `WebSocket`. In Node 20 pass `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Query parameter that carries the token. Default `token`. */
  tokenQueryParam?: string;
  reconnect?: BackoffOptions & {
    /** Consecutive failed attempts before the client gives up (state `closed`). Default Infinity. */
    maxRetries?: number;
    /** A connection that stays up this long resets the backoff. Default 5 000 ms. */
    minUptimeMs?: number;
  };
  heartbeat?:
    | false
    | {
        /** Ping interval; capped at half the server's idle timeout. Default 300 000 ms (5 min). */
        intervalMs?: number;
        /** A ping without pong after this long declares the connection dead. Default 10 000 ms. */
        timeoutMs?: number;
      };
  /** Default timeout of `request()`, counted from the moment the frame is sent. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Socket open + welcome must complete within this. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Sends kept while there is no connection. Default 100. */
  maxQueueSize?: number;
  /** Which send a full queue drops. Default `drop-oldest`. */
  queueOverflow?: 'drop-oldest' | 'drop-newest';
  /** The server's connection cap (API Gateway: 2 h); the welcome's limit wins when lower. */
  maxConnectionMs?: number;
  /** Rotate at this fraction of maxConnectionMs; `false` disables rotation. Default 0.9. */
  rotateAt?: number | false;
  /**
   * After a rotation the old connection stays open at least this long: a publish whose
   * fan-out listed the old connection before the new one subscribed is still on its way to
   * it. Default 2 000 ms.
   */
  overlapMs?: number;
  /** After a rotation, how long the old connection may finish its in-flight requests (at least overlapMs). Default 5 000 ms. */
  drainTimeoutMs?: number;
  tokenRefresh?: {
    /**
     * Refresh this long before the token's `exp` (at most a quarter of its life). Default
     * 60 000 ms. `false`: only refresh when the server says TOKEN_EXPIRED or refuses the token.
     */
    beforeExpiryMs?: number | false;
    /** Failed attempts before open, with no detail, that trigger a refresh (browsers). Default 2. */
    afterFailuresBeforeOpen?: number;
  };
  /** How many recent message ids are remembered to drop duplicates. Default 1 000. */
  dedupeWindow?: number;
  /** Network/visibility source; default: the browser's, none in Node. `null` disables. */
  environment?: Environment | null;
  /** Lossless resume of topics whose messages carry `seq`. */
  recovery?: {
    /** A message ahead of a missing one waits this long for it before the hole is fetched with `history`. Default 1 000 ms. */
    reorderWaitMs?: number;
    /** Messages held per topic while a hole is open; more fetches the hole at once. Default 1 000. */
    maxBuffered?: number;
    /** Messages per `history` page (1-1000). Default 500. */
    pageSize?: number;
  };
  /**
   * Base URL of the HTTP API (`https://<api>/<stage>`): enables the degraded mode, in which
   * topics are polled and publishes sent over HTTP while WebSocket connects fail.
   */
  httpUrl?: string;
  degraded?: {
    /** Consecutive failed WebSocket connects (never opened) before the HTTP fallback. Default 3. */
    afterFailures?: number;
    /** Poll interval of each topic in degraded mode. Default 2 000 ms. */
    pollIntervalMs?: number;
  };
  /** `fetch` for the HTTP API; default: the global one. */
  fetch?: typeof fetch;
  /** Generates a W3C `traceparent` for every request without one (e.g. `newTraceparent`). */
  traceparent?: () => string;
  /** Extensions such as `qualityMonitor()` and `metricsReporter()`. */
  extensions?: ClientExtension[];
}

/** Counters since the client was created (for metrics and logs). */
export interface ClientStats {
  /** Connections that became active, the first one included. */
  connections: number;
  /** Connections lost unexpectedly (each one starts a reconnect). */
  disconnects: number;
  /** Connections that replaced a lost one. */
  reconnects: number;
  /** Connection attempts that failed. */
  failedConnects: number;
  rotations: number;
  /** Tokens the provider delivered, the first one included. */
  tokenRefreshes: number;
  messagesDelivered: number;
  /** Pushed messages dropped because their `mid` or `seq` had been delivered already. */
  duplicatesDropped: number;
  /** Sends a full queue dropped (each one rejected with QUEUE_FULL). */
  queueDrops: number;
  /** Missed messages fetched with `history` and delivered in order (one per fetch that filled a hole). */
  recoveredGaps: number;
  /** `gap` events: messages that could not be recovered. */
  unrecoveredGaps: number;
  /** With `qualityMonitor()`: the current measurements. */
  quality?: QualitySnapshot;
}

export interface RequestOptions {
  /** Overrides `requestTimeoutMs` for this request. */
  timeoutMs?: number;
  /** A W3C `traceparent` sent as the frame's `traceparent` field. */
  traceparent?: string;
  /** `false`: reject with NOT_CONNECTED at once instead of waiting in the queue for a connection. */
  queue?: boolean;
}

export interface SubscribeOptions {
  /**
   * Start after this sequence number (0: everything the server retains) instead of at the
   * topic's latest message. Only used when the topic is not subscribed yet.
   */
  since?: number;
}

export type MessageHandler<T = unknown> = (data: T, message: PushedMessage<T>) => void;

/** Removes the handler; `ready` settles when the server acknowledged the subscription. */
export interface Unsubscribe {
  (): void;
  readonly ready: Promise<void>;
}
