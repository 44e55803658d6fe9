import { Backoff, type BackoffOptions } from './backoff';
import { TypedEmitter } from './emitter';
import { browserEnvironment, type Environment, type EnvironmentEvent } from './environment';
import { WskitError } from './errors';
import { isObject, TOPIC_PATTERN, type PushedMessage, type Reply, type ServerLimits, type WelcomeReply } from './protocol';
import { RecentIds } from './recent-ids';
import { TokenSource, type TokenProvider, type TokenRefreshReason } from './token';

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

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

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

export interface ClientEvents {
  /** Every state change. */
  state: { state: ConnectionState; previous: ConnectionState; reason?: CloseReason };
  /** A connection attempt starts (the first one, or a reconnect). */
  connecting: { attempt: number };
  /** A connection is ready: welcomed, subscriptions restored, queue about to flush. */
  open: { connectionId: string; userId?: string; reconnected: boolean };
  /** The connection was lost; the next attempt runs after `delayMs` (absent while offline). */
  reconnecting: { attempt: number; delayMs?: number; reason: CloseReason };
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
  /** Every pushed message, after duplicate suppression. */
  message: PushedMessage;
  /** The host went online or offline (browsers). */
  network: { online: boolean };
  /** A problem that does not stop the client (an unreadable frame, an error reply with no id...). */
  error: { error: Error };
  /** Every text frame sent or received, for debugging tools (the token never appears in a frame). */
  frame: { direction: 'in' | 'out'; text: string; connectionId: string };
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
}

/** Counters since the client was created (for metrics and logs). */
export interface ClientStats {
  /** Connections that became active, the first one included. */
  connections: number;
  /** Connections lost unexpectedly (each one starts a reconnect). */
  disconnects: number;
  rotations: number;
  /** Tokens the provider delivered, the first one included. */
  tokenRefreshes: number;
  messagesDelivered: number;
  /** Pushed messages dropped because their `mid` had been delivered already. */
  duplicatesDropped: number;
  /** Sends a full queue dropped (each one rejected with QUEUE_FULL). */
  queueDrops: number;
}

export interface RequestOptions {
  /** Overrides `requestTimeoutMs` for this request. */
  timeoutMs?: number;
}

export type MessageHandler<T = unknown> = (data: T, message: PushedMessage<T>) => void;

/** Removes the handler; `ready` settles when the server acknowledged the subscription. */
export interface Unsubscribe {
  (): void;
  readonly ready: Promise<void>;
}

interface QueuedSend {
  action: string;
  fields: Record<string, unknown>;
  timeoutMs: number;
  resolve: (reply: Reply) => void;
  reject: (error: WskitError) => void;
  /** Sent again once already after TOKEN_EXPIRED. */
  retried: boolean;
  seq: number;
}

interface Pending {
  action: string;
  resolve: (reply: Reply) => void;
  reject: (error: WskitError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The user's send, so it can be sent again after a token refresh. Absent for internal frames. */
  send?: QueuedSend;
}

type TopicState = 'subscribing' | 'subscribed' | 'unsubscribing';

/** One WebSocket and what the server knows about it. */
class Link {
  role: 'opening' | 'active' | 'draining' | 'dead' = 'opening';
  connectionId = '';
  userId: string | undefined;
  limits: ServerLimits = {};
  openedAt = 0;
  /** False once the server said TOKEN_EXPIRED on it: sends wait for the next connection. */
  acceptsSends = true;
  /** Set when `close()` was called on the socket and its close event is awaited. */
  closing = false;
  /** A draining link has stayed open for the rotation overlap. */
  overlapDone = false;
  readonly pending = new Map<string, Pending>();
  readonly topics = new Map<string, TopicState>();
  readonly timers = new Set<ReturnType<typeof setTimeout>>();
  heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  pingInFlight = false;
  /** Called once when the socket is gone. */
  onDown: (reason: CloseReason) => void = () => {};
  closed: Promise<void>;
  markClosed: () => void = () => {};

  constructor(readonly socket: WebSocketLike) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  timer(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  get usable(): boolean {
    return this.role === 'active' && this.acceptsSends && this.socket.readyState === OPEN;
  }
}

const OPEN = 1;

class LinkFailure extends Error {
  constructor(
    readonly reason: CloseReason,
    /** The failure happened before the socket opened. */
    readonly beforeOpen: boolean,
    /** The runtime said why (Node's `ws` does, a browser does not). */
    readonly detailed: boolean,
  ) {
    super(reason.message ?? reason.kind);
  }
}

const DEFAULT_MAX_CONNECTION_MS = 2 * 60 * 60 * 1000;

/**
 * A wskit connection that survives API Gateway's limits. Create it with `connect()`.
 */
export class WskitClient extends TypedEmitter<ClientEvents> {
  #stateValue: ConnectionState = 'connecting';
  readonly #stats: ClientStats = {
    connections: 0,
    disconnects: 0,
    rotations: 0,
    tokenRefreshes: 0,
    messagesDelivered: 0,
    duplicatesDropped: 0,
    queueDrops: 0,
  };
  #stopped = false;
  #active: Link | undefined;
  readonly #links = new Set<Link>();
  readonly #queue: QueuedSend[] = [];
  readonly #handlers = new Map<string, Set<MessageHandler<never>>>();
  readonly #readyWaiters = new Map<string, Array<{ resolve: () => void; reject: (e: WskitError) => void }>>();
  readonly #recent: RecentIds;
  readonly #backoff: Backoff;
  readonly #rotationBackoff: Backoff;
  readonly #tokens: TokenSource;
  readonly #environment: Environment | undefined;
  readonly #stopEnvironment: (() => void) | undefined;
  readonly #WebSocketImpl: WebSocketConstructor;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #rotationTimer: ReturnType<typeof setTimeout> | undefined;
  #connectingNow = false;
  #rotating = false;
  #everOpened = false;
  #failuresBeforeOpen = 0;
  #requestSerial = 0;
  #sendSerial = 0;

  readonly #url: string;
  readonly #tokenQueryParam: string;
  readonly #maxRetries: number;
  readonly #minUptimeMs: number;
  readonly #heartbeatIntervalMs: number | undefined;
  readonly #heartbeatTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #maxQueueSize: number;
  readonly #queueOverflow: 'drop-oldest' | 'drop-newest';
  readonly #maxConnectionMs: number;
  readonly #rotateAt: number | undefined;
  readonly #drainTimeoutMs: number;
  readonly #overlapMs: number;
  readonly #refreshAfterFailures: number;

  constructor(options: ConnectOptions) {
    super();
    if (!isObject(options)) throw new TypeError('connect(options): pass an object with at least { url, token }');
    if (typeof options.url !== 'string' || !/^wss?:\/\//i.test(options.url)) {
      throw new TypeError(`connect({ url }): expected a ws:// or wss:// URL, got ${JSON.stringify(options.url)}`);
    }
    const impl =
      options.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof impl !== 'function') {
      throw new TypeError(
        "connect(): this runtime has no global WebSocket; pass one, e.g. `import WebSocket from 'ws'` and connect({ ..., WebSocket })",
      );
    }
    this.#WebSocketImpl = impl;
    this.#url = options.url;
    this.#tokenQueryParam = options.tokenQueryParam ?? 'token';
    const reconnect = options.reconnect ?? {};
    this.#backoff = new Backoff(reconnect);
    this.#rotationBackoff = new Backoff({ minDelayMs: 1000, maxDelayMs: 15_000 });
    this.#maxRetries = reconnect.maxRetries ?? Infinity;
    this.#minUptimeMs = reconnect.minUptimeMs ?? 5000;
    const heartbeat = options.heartbeat ?? {};
    this.#heartbeatIntervalMs = heartbeat === false ? undefined : (heartbeat.intervalMs ?? 300_000);
    this.#heartbeatTimeoutMs = heartbeat === false ? 10_000 : (heartbeat.timeoutMs ?? 10_000);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#maxQueueSize = options.maxQueueSize ?? 100;
    this.#queueOverflow = options.queueOverflow ?? 'drop-oldest';
    this.#maxConnectionMs = options.maxConnectionMs ?? DEFAULT_MAX_CONNECTION_MS;
    this.#rotateAt = options.rotateAt === false ? undefined : (options.rotateAt ?? 0.9);
    if (this.#rotateAt !== undefined && !(this.#rotateAt > 0 && this.#rotateAt < 1)) {
      throw new RangeError(`connect({ rotateAt }): expected a fraction between 0 and 1, got ${this.#rotateAt}`);
    }
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 5000;
    this.#overlapMs = options.overlapMs ?? 2000;
    this.#refreshAfterFailures = options.tokenRefresh?.afterFailuresBeforeOpen ?? 2;
    this.#recent = new RecentIds(options.dedupeWindow ?? 1000);
    this.#tokens = new TokenSource(options.token, options.tokenRefresh?.beforeExpiryMs ?? 60_000, (reason, expiresAt) =>
      (this.#stats.tokenRefreshes++, this.emit('token', expiresAt === undefined ? { reason } : { reason, expiresAt })),
    );
    this.#environment = options.environment === null ? undefined : (options.environment ?? browserEnvironment());
    this.#stopEnvironment = this.#environment?.subscribe((event) => this.#onEnvironment(event));
    queueMicrotask(() => this.#attemptConnect());
  }

  /** The current state: connecting, open, reconnecting or closed. */
  get state(): ConnectionState {
    return this.#stateValue;
  }

  /** The server's id of the connection in use (from `welcome`), or undefined while down. */
  get connectionId(): string | undefined {
    return this.#active?.connectionId;
  }

  /** Sends waiting for a connection. */
  get queuedCount(): number {
    return this.#queue.length;
  }

  /** Counters since the client was created. */
  get stats(): Readonly<ClientStats> {
    return { ...this.#stats };
  }

  /** Topics with at least one handler. */
  topics(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Resolves when the client is open (at once if it is); rejects when it closes first. */
  whenOpen(): Promise<void> {
    if (this.#stateValue === 'open') return Promise.resolve();
    if (this.#stateValue === 'closed') return Promise.reject(new WskitError('CLOSED', 'the client is closed'));
    return new Promise((resolve, reject) => {
      const offOpen = this.on('open', () => {
        offClosed();
        resolve();
      });
      const offClosed = this.on('closed', ({ reason }) => {
        offOpen();
        reject(new WskitError('CLOSED', `the client closed (${reason.kind})`));
      });
    });
  }

  /**
   * Sends `{ action, id, ...fields }` and resolves with the reply frame. An `error` reply
   * rejects with a WskitError carrying the server's `code`. While there is no connection the
   * send is queued (see maxQueueSize); the timeout runs from the moment it is sent.
   */
  request(action: string, fields: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<Reply> {
    if (typeof action !== 'string' || action.length === 0) {
      return Promise.reject(new TypeError('request(action): action must be a non-empty string'));
    }
    if (!isObject(fields)) return Promise.reject(new TypeError('request(action, fields): fields must be an object'));
    if (this.#stopped) return Promise.reject(new WskitError('CLOSED', 'the client is closed; create a new one'));
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
    return new Promise<Reply>((resolve, reject) => {
      this.#enqueue({ action, fields, timeoutMs, resolve, reject, retried: false, seq: ++this.#sendSerial });
    });
  }

  /** Publishes `data` on `topic`; resolves with the server's ack. */
  publish(topic: string, data: unknown, options: RequestOptions = {}): Promise<Reply> {
    if (typeof topic !== 'string' || !TOPIC_PATTERN.test(topic)) {
      return Promise.reject(new TypeError(`publish(topic): invalid topic ${JSON.stringify(topic)}; expected ${TOPIC_PATTERN}`));
    }
    return this.request('publish', { topic, data }, options);
  }

  /**
   * Calls `handler` for every message pushed on `topic`. The server subscription is made once
   * per topic however many handlers there are, and restored after every reconnect. Returns a
   * function that removes the handler (the last one unsubscribes on the server).
   */
  subscribe<T = unknown>(topic: string, handler: MessageHandler<T>): Unsubscribe {
    if (typeof topic !== 'string' || !TOPIC_PATTERN.test(topic)) {
      throw new TypeError(`subscribe(topic): invalid topic ${JSON.stringify(topic)}; expected ${TOPIC_PATTERN}`);
    }
    if (typeof handler !== 'function') throw new TypeError('subscribe(topic, handler): handler must be a function');
    if (this.#stopped) throw new WskitError('CLOSED', 'the client is closed; create a new one');
    let set = this.#handlers.get(topic);
    const first = !set;
    if (!set) {
      set = new Set();
      this.#handlers.set(topic, set);
    }
    const entry = handler as MessageHandler<never>;
    set.add(entry);

    const ready = this.#active?.topics.get(topic) === 'subscribed' ? Promise.resolve() : this.#waitForTopic(topic);
    ready.catch(() => {}); // the caller may ignore `ready`; failures also reach subscriptionError
    if (first) this.#reconcileEverywhere(topic);

    let removed = false;
    const unsubscribe = (() => {
      if (removed) return;
      removed = true;
      const current = this.#handlers.get(topic);
      if (!current?.delete(entry)) return;
      if (current.size === 0) {
        this.#handlers.delete(topic);
        this.#reconcileEverywhere(topic);
      }
    }) as Unsubscribe;
    Object.defineProperty(unsubscribe, 'ready', { value: ready });
    return unsubscribe;
  }

  /** Replaces the connection now, without a gap (what happens before the 2-hour cap). */
  rotate(): Promise<void> {
    return this.#startRotation('manual');
  }

  /**
   * Closes the client for good: rejects queued and in-flight sends with CLOSED and closes
   * the socket(s). Resolves when every socket has closed.
   */
  close(): Promise<void> {
    return this.#shutdown({ kind: 'client' });
  }

  // ---------------------------------------------------------------- connection lifecycle

  #setState(next: ConnectionState, reason?: CloseReason): void {
    const previous = this.#stateValue;
    if (previous === next) return;
    this.#stateValue = next;
    this.emit('state', reason ? { state: next, previous, reason } : { state: next, previous });
  }

  async #attemptConnect(): Promise<void> {
    if (this.#stopped || this.#connectingNow || this.#rotating || this.#active) return;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    if (this.#environment && !this.#environment.isOnline()) {
      this.#pauseUntilOnline();
      return;
    }
    this.#connectingNow = true;
    this.emit('connecting', { attempt: this.#backoff.attempt + 1 });
    let link: Link;
    try {
      link = await this.#openLink();
    } catch (err) {
      this.#connectingNow = false;
      if (this.#stopped) return;
      this.#onConnectFailure(err);
      return;
    }
    this.#connectingNow = false;
    if (this.#stopped || this.#active) {
      this.#closeLink(link, 1000, 'not needed');
      return;
    }
    this.#activate(link, undefined);
  }

  #onConnectFailure(err: unknown): void {
    const failure =
      err instanceof LinkFailure
        ? err
        : new LinkFailure({ kind: 'token-error', message: err instanceof Error ? err.message : String(err) }, true, true);
    const reason = failure.reason;
    if (reason.kind === 'token-error') {
      this.emit('error', { error: err instanceof Error ? err : new Error(String(err)) });
    } else if (reason.kind === 'unauthorized') {
      if (!this.#tokens.refreshable) {
        void this.#shutdown(reason);
        return;
      }
      this.#tokens.invalidate('unauthorized');
    } else if (failure.beforeOpen && !failure.detailed) {
      // A browser shows a refused upgrade (401) as error + close 1006 before open, exactly like
      // a server that is down. After a few such failures in a row, try a fresh token.
      this.#failuresBeforeOpen += 1;
      if (this.#failuresBeforeOpen >= this.#refreshAfterFailures) {
        this.#failuresBeforeOpen = 0;
        this.#tokens.invalidate('connect-failures');
      }
    }
    this.#scheduleReconnect(reason);
  }

  #scheduleReconnect(reason: CloseReason): void {
    if (this.#stopped || this.#reconnectTimer || this.#connectingNow || this.#active) return;
    if (this.#backoff.attempt >= this.#maxRetries) {
      void this.#shutdown({ ...reason, kind: 'max-retries', message: `gave up after ${this.#maxRetries} attempts; last: ${reason.kind}${reason.message ? ` (${reason.message})` : ''}` });
      return;
    }
    if (this.#environment && !this.#environment.isOnline()) {
      this.#pauseUntilOnline();
      return;
    }
    const delayMs = this.#backoff.next();
    this.#setState(this.#everOpened ? 'reconnecting' : 'connecting', reason);
    this.emit('reconnecting', { attempt: this.#backoff.attempt, delayMs, reason });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#attemptConnect();
    }, delayMs);
  }

  #pauseUntilOnline(): void {
    const reason: CloseReason = { kind: 'offline' };
    this.#setState(this.#everOpened ? 'reconnecting' : 'connecting', reason);
    this.emit('reconnecting', { attempt: this.#backoff.attempt, reason });
  }

  /** Opens a socket, says hello, restores every subscription. Rejects with a LinkFailure. */
  async #openLink(): Promise<Link> {
    let token: string;
    try {
      token = await this.#tokens.get();
    } catch (err) {
      throw new LinkFailure({ kind: 'token-error', message: err instanceof Error ? err.message : String(err) }, true, true);
    }
    if (this.#stopped) throw new LinkFailure({ kind: 'client' }, true, true);
    const separator = this.#url.includes('?') ? '&' : '?';
    const url = `${this.#url}${separator}${encodeURIComponent(this.#tokenQueryParam)}=${encodeURIComponent(token)}`;
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocketImpl(url);
    } catch (err) {
      throw new LinkFailure({ kind: 'network-error', message: err instanceof Error ? err.message : String(err) }, true, true);
    }
    const link = new Link(socket);
    this.#links.add(link);

    return new Promise<Link>((resolve, reject) => {
      let opened = false;
      let errorDetail: string | undefined;
      let settled = false;
      const fail = (reason: CloseReason, detailed: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        this.#killLink(link, reason, 'CONNECTION_LOST');
        reject(new LinkFailure(reason, !opened, detailed));
      };
      const timeout = setTimeout(
        () => fail({ kind: 'connect-timeout', message: `no welcome within ${this.#connectTimeoutMs} ms` }, true),
        this.#connectTimeoutMs,
      );
      link.onDown = (reason) => fail(reason, reason.status !== undefined || errorDetail !== undefined);

      socket.onmessage = (event: { data: unknown }) => this.#onFrame(link, event.data);
      socket.onerror = (event: unknown) => {
        errorDetail = errorMessage(event);
      };
      socket.onclose = (event: { code?: number; reason?: string }) => {
        link.markClosed();
        this.#onSocketClose(link, event, errorDetail);
      };
      socket.onopen = () => {
        opened = true;
        link.openedAt = Date.now();
        this.#sendInternal(link, 'hello', {}, this.#connectTimeoutMs)
          .then(async (reply) => {
            if (settled) return;
            const welcome = reply as WelcomeReply;
            if (welcome.type !== 'welcome' || typeof welcome.connectionId !== 'string') {
              throw new WskitError('BAD_REPLY', `expected a welcome reply to hello, got ${JSON.stringify(reply)}`);
            }
            link.connectionId = welcome.connectionId;
            link.userId = typeof welcome.userId === 'string' ? welcome.userId : undefined;
            link.limits = isObject(welcome.limits) ? welcome.limits : {};
            await Promise.all([...this.#handlers.keys()].map((topic) => this.#reconcileTopic(link, topic)));
            if (link.role === 'dead') throw new WskitError('CONNECTION_LOST', 'the connection closed while subscribing');
            for (const topic of this.#handlers.keys()) {
              // A resubscribe that hit TOKEN_EXPIRED leaves the topic unsubscribed: not ready.
              if (link.topics.get(topic) !== 'subscribed' && !link.acceptsSends) {
                throw new WskitError('TOKEN_EXPIRED', 'the token expired while subscribing');
              }
            }
            if (settled) return;
            settled = true;
            clearTimeout(timeout);
            link.onDown = (reason) => this.#onLinkDown(link, reason);
            resolve(link);
          })
          .catch((err: unknown) => {
            if (err instanceof WskitError && err.code === 'TOKEN_EXPIRED') this.#tokens.invalidate('expired');
            fail(
              {
                kind:
                  err instanceof WskitError && err.code === 'TIMEOUT'
                    ? 'connect-timeout'
                    : err instanceof WskitError && err.code !== 'CONNECTION_LOST'
                      ? 'handshake-failed'
                      : 'network-error',
                message: err instanceof Error ? err.message : String(err),
              },
              true,
            );
          });
      };
    });
  }

  #onSocketClose(link: Link, event: { code?: number; reason?: string }, errorDetail: string | undefined): void {
    const status = errorDetail ? /Unexpected server response: (\d{3})/.exec(errorDetail)?.[1] : undefined;
    let reason: CloseReason;
    if (status === '401' || status === '403') {
      reason = { kind: 'unauthorized', status: Number(status), code: event.code ?? 1006, message: errorDetail };
    } else if (event.code === 1006 || event.code === undefined) {
      reason = { kind: 'network-error', code: 1006, ...(errorDetail ? { message: errorDetail } : {}) };
      if (status) reason.status = Number(status);
    } else {
      reason = { kind: 'server-close', code: event.code, message: event.reason ?? '' };
    }
    this.#killLink(link, reason, 'CONNECTION_LOST');
  }

  /** Makes `link` the connection in use. `rotation` is set when it replaces a live one. */
  #activate(link: Link, rotation: RotationReason | undefined): void {
    const previous = this.#active;
    link.role = 'active';
    this.#active = link;
    this.#failuresBeforeOpen = 0;
    const wasOpen = this.#stateValue === 'open';
    this.#stats.connections++;
    const reconnected = this.#everOpened;
    this.#everOpened = true;

    this.#startHeartbeat(link);
    link.timer(() => {
      if (this.#active === link) this.#backoff.reset();
    }, this.#minUptimeMs);
    this.#scheduleRotation(link);

    if (previous && previous !== link) this.#drain(previous);
    for (const topic of [...this.#readyWaiters.keys()]) {
      if (link.topics.get(topic) === 'subscribed') this.#resolveTopicWaiters(topic);
    }
    if (rotation && previous && wasOpen) {
      this.#stats.rotations++;
      this.emit('rotated', { reason: rotation, connectionId: link.connectionId, previousConnectionId: previous.connectionId });
    } else {
      this.#setState('open');
      const open: ClientEvents['open'] = { connectionId: link.connectionId, reconnected };
      if (link.userId !== undefined) open.userId = link.userId;
      this.emit('open', open);
    }
    this.#flush();
  }

  /** The socket of `link` is gone (close event, failed send, heartbeat timeout). */
  #onLinkDown(link: Link, reason: CloseReason): void {
    if (link !== this.#active) return;
    this.#active = undefined;
    this.#stats.disconnects++;
    if (this.#stopped) return;
    if (this.#rotating) {
      // The rotation's new connection will take over as soon as it is ready.
      this.#setState('reconnecting', reason);
      this.emit('reconnecting', { attempt: this.#backoff.attempt, reason });
      return;
    }
    this.#scheduleReconnect(reason);
  }

  /**
   * Marks a link dead, stops its timers, rejects what waits on it and tells its owner.
   * `code` is what its pending requests reject with.
   */
  #killLink(link: Link, reason: CloseReason, code: 'CONNECTION_LOST' | 'CLOSED'): void {
    if (link.role === 'dead') return;
    link.role = 'dead';
    this.#links.delete(link);
    clearTimeout(link.heartbeatTimer);
    for (const t of link.timers) clearTimeout(t);
    link.timers.clear();
    const detail = reason.kind === 'client' ? 'the client was closed' : `the connection closed (${reason.kind})`;
    for (const [id, pending] of link.pending) {
      link.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(new WskitError(code, `${detail} before a reply to ${pending.action} arrived`));
    }
    if (link.socket.readyState <= OPEN && !link.closing) {
      // A dead socket may never finish a close handshake: terminate it when the runtime can.
      const terminate = (link.socket as { terminate?: () => void }).terminate;
      try {
        if (typeof terminate === 'function') terminate.call(link.socket);
        else link.socket.close(4000, reason.kind);
      } catch {
        // already closing
      }
    }
    link.onDown(reason);
  }

  /** Closes a link politely; its messages still count until the close completes. */
  #closeLink(link: Link, code: number, why: string): void {
    if (link.role === 'dead' || link.closing) return;
    link.closing = true;
    link.acceptsSends = false;
    clearTimeout(link.heartbeatTimer);
    try {
      link.socket.close(code, why);
    } catch {
      this.#killLink(link, { kind: 'client', code, message: why }, 'CONNECTION_LOST');
      return;
    }
    // If the close handshake never completes, do not wait forever.
    link.timer(() => this.#killLink(link, { kind: 'client', code, message: why }, 'CONNECTION_LOST'), 3000);
  }

  async #shutdown(reason: CloseReason): Promise<void> {
    if (this.#stopped) {
      await Promise.all([...this.#links].map((l) => l.closed));
      return;
    }
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#rotationTimer);
    this.#stopEnvironment?.();
    const closing = [...this.#links];
    for (const link of closing) {
      // Reject before the socket closes so callers see CLOSED, not CONNECTION_LOST.
      for (const [id, pending] of link.pending) {
        link.pending.delete(id);
        clearTimeout(pending.timer);
        pending.reject(new WskitError('CLOSED', `the client closed (${reason.kind}) before a reply to ${pending.action} arrived`));
      }
      if (link.socket.readyState === OPEN) this.#closeLink(link, 1000, 'client closed');
      else this.#killLink(link, reason, 'CLOSED');
    }
    this.#active = undefined;
    for (const item of this.#queue.splice(0)) {
      item.reject(new WskitError('CLOSED', `the client closed (${reason.kind}) before ${item.action} was sent`));
    }
    for (const topic of [...this.#readyWaiters.keys()]) {
      this.#rejectTopicWaiters(topic, new WskitError('CLOSED', `the client closed before ${topic} was subscribed`));
    }
    this.#setState('closed', reason);
    this.emit('closed', { reason });
    // closeLink() gives up on a close handshake after 3 s; do not wait longer than that.
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(closing.map((l) => l.closed)),
      new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 3500))),
    ]);
    clearTimeout(giveUp);
  }

  // ---------------------------------------------------------------- rotation

  /** Timers on the active link: rotate before the server's cap and before the token expires. */
  #scheduleRotation(link: Link): void {
    const now = Date.now();
    if (this.#rotateAt !== undefined) {
      const serverMax = link.limits.maxConnectionSeconds;
      const maxAge = Math.min(this.#maxConnectionMs, typeof serverMax === 'number' && serverMax > 0 ? serverMax * 1000 : Infinity);
      const rotateAt = link.openedAt + maxAge * this.#rotateAt;
      link.timer(() => void this.#startRotation('max-age'), Math.max(0, rotateAt - now));
    }
    const refreshAt = this.#tokens.refreshAt;
    if (refreshAt !== undefined) {
      // At least a second, so a provider that keeps handing out a nearly expired token
      // cannot make the client rotate in a tight loop.
      link.timer(() => {
        this.#tokens.invalidate('expiring');
        void this.#startRotation('token-expiring');
      }, Math.max(1000, refreshAt - now));
    }
  }

  /**
   * Opens a second connection, says hello, subscribes every topic, then switches sends to it
   * and closes the old one once its in-flight requests are answered. Messages that arrive on
   * both during the overlap are delivered once (by `mid`).
   */
  async #startRotation(reason: RotationReason): Promise<void> {
    if (this.#stopped || this.#rotating) return;
    const old = this.#active;
    if (!old) return; // not connected: the next connection starts fresh anyway
    this.#rotating = true;
    clearTimeout(this.#rotationTimer);
    let link: Link | undefined;
    try {
      link = await this.#openLink();
    } catch (err) {
      this.#rotating = false;
      if (this.#stopped) return;
      const failure = err instanceof LinkFailure ? err : undefined;
      if (failure?.reason.kind === 'unauthorized') this.#tokens.invalidate('unauthorized');
      this.emit('error', { error: new Error(`rotation failed: ${err instanceof Error ? err.message : String(err)}`) });
      if (this.#active) {
        // The old connection still works: try again later.
        const delay = this.#rotationBackoff.next();
        this.#rotationTimer = setTimeout(() => void this.#startRotation(reason), delay);
      } else {
        this.#scheduleReconnect(failure?.reason ?? { kind: 'network-error' });
      }
      return;
    }
    this.#rotating = false;
    this.#rotationBackoff.reset();
    if (this.#stopped) {
      this.#closeLink(link, 1000, 'client closed');
      return;
    }
    this.#activate(link, reason);
  }

  /** The old connection of a rotation: no new sends; closed after the overlap, once its requests are answered. */
  #drain(link: Link): void {
    if (link.role === 'dead') return;
    link.role = 'draining';
    link.acceptsSends = false;
    clearTimeout(link.heartbeatTimer);
    for (const t of link.timers) clearTimeout(t);
    link.timers.clear();
    link.onDown = () => {};
    link.timer(() => {
      link.overlapDone = true;
      this.#maybeFinishDrain(link);
    }, this.#overlapMs);
    link.timer(() => this.#closeLink(link, 1000, 'rotated'), Math.max(this.#overlapMs, this.#drainTimeoutMs));
  }

  // ---------------------------------------------------------------- heartbeat

  #startHeartbeat(link: Link): void {
    if (this.#heartbeatIntervalMs === undefined) return;
    clearTimeout(link.heartbeatTimer);
    const idle = link.limits.idleTimeoutSeconds;
    const interval = Math.min(this.#heartbeatIntervalMs, typeof idle === 'number' && idle > 0 ? (idle * 1000) / 2 : Infinity);
    link.heartbeatTimer = setTimeout(() => this.#ping(link), interval);
  }

  /** Sends a ping; no reply within the heartbeat timeout declares the connection dead. */
  #ping(link: Link): void {
    if (link.role !== 'active' || link.pingInFlight) return;
    clearTimeout(link.heartbeatTimer);
    link.pingInFlight = true;
    this.#sendInternal(link, 'ping', { ts: Date.now() }, this.#heartbeatTimeoutMs).then(
      () => {
        link.pingInFlight = false;
        if (link.role === 'active') this.#startHeartbeat(link);
      },
      (err: WskitError) => {
        link.pingInFlight = false;
        if (err.code === 'TIMEOUT') {
          this.#killLink(link, { kind: 'heartbeat-timeout', message: `no pong within ${this.#heartbeatTimeoutMs} ms` }, 'CONNECTION_LOST');
        } else if (link.role === 'active') {
          // Any reply, even an error, proves the connection is alive.
          this.#startHeartbeat(link);
        }
      },
    );
  }

  #onEnvironment(event: EnvironmentEvent): void {
    if (this.#stopped) return;
    if (event === 'online' || event === 'offline') this.emit('network', { online: event === 'online' });
    if (event === 'hidden') return;
    if (this.#active) {
      // The socket may have died silently while the page slept or the network changed.
      if (this.#heartbeatIntervalMs !== undefined) this.#ping(this.#active);
    } else if (event !== 'offline') {
      // Back online or visible again: try now instead of waiting out the backoff.
      void this.#attemptConnect();
    }
  }

  // ---------------------------------------------------------------- sending

  #enqueue(item: QueuedSend): void {
    const link = this.#active;
    if (link?.usable && this.#queue.length === 0) {
      this.#transmit(link, item);
      return;
    }
    if (this.#queue.length >= this.#maxQueueSize) {
      const dropped = this.#queueOverflow === 'drop-oldest' && this.#queue.length > 0 ? this.#queue.shift()! : item;
      if (dropped !== item) this.#queue.push(item);
      const error = new WskitError(
        'QUEUE_FULL',
        `the send queue is full (maxQueueSize ${this.#maxQueueSize}); ${dropped.action} was dropped without being sent`,
      );
      dropped.reject(error);
      this.#stats.queueDrops++;
      this.emit('dropped', { action: dropped.action, fields: dropped.fields, error });
    } else {
      this.#queue.push(item);
    }
    this.#flush();
  }

  /** Puts a send back in the queue, in its original order, to go out on the next connection. */
  #requeue(item: QueuedSend): void {
    let index = this.#queue.findIndex((queued) => queued.seq > item.seq);
    if (index === -1) index = this.#queue.length;
    this.#queue.splice(index, 0, item);
  }

  #flush(): void {
    const link = this.#active;
    while (link?.usable && this.#queue.length > 0) {
      this.#transmit(link, this.#queue.shift()!);
    }
  }

  #transmit(link: Link, item: QueuedSend): void {
    this.#sendFrame(link, item.action, item.fields, item.timeoutMs, {
      action: item.action,
      resolve: item.resolve,
      reject: item.reject,
      timer: undefined,
      send: item,
    });
  }

  #sendInternal(link: Link, action: string, fields: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.#sendFrame(link, action, fields, timeoutMs, { action, resolve, reject, timer: undefined });
    });
  }

  #sendFrame(link: Link, action: string, fields: Record<string, unknown>, timeoutMs: number, pending: Pending): void {
    const id = `r${(++this.#requestSerial).toString(36)}`;
    let text: string;
    try {
      text = JSON.stringify({ ...fields, action, id });
    } catch (err) {
      pending.reject(new WskitError('BAD_REQUEST', `${action}: the fields cannot be serialised as JSON (${String(err)})`));
      return;
    }
    const maxFrameBytes = link.limits.maxFrameBytes;
    if (typeof maxFrameBytes === 'number' && text.length > maxFrameBytes / 3) {
      const bytes = new TextEncoder().encode(text).length;
      if (bytes > maxFrameBytes) {
        // The server would close the whole connection (1009): refuse this one send instead.
        pending.reject(new WskitError('PAYLOAD_TOO_LARGE', `${action}: the frame is ${bytes} bytes, the server accepts at most ${maxFrameBytes}`));
        return;
      }
    }
    pending.timer = setTimeout(() => {
      if (link.pending.get(id) !== pending) return;
      link.pending.delete(id);
      pending.reject(new WskitError('TIMEOUT', `no reply to ${action} within ${timeoutMs} ms`));
      this.#maybeFinishDrain(link);
    }, timeoutMs);
    link.pending.set(id, pending);
    try {
      link.socket.send(text);
      if (this.listenerCount('frame') > 0) this.emit('frame', { direction: 'out', text, connectionId: link.connectionId });
    } catch (err) {
      this.#killLink(link, { kind: 'network-error', message: err instanceof Error ? err.message : String(err) }, 'CONNECTION_LOST');
    }
  }

  #maybeFinishDrain(link: Link): void {
    if (link.role === 'draining' && link.overlapDone && link.pending.size === 0) this.#closeLink(link, 1000, 'rotated');
  }

  // ---------------------------------------------------------------- receiving

  #onFrame(link: Link, raw: unknown): void {
    if (this.listenerCount('frame') > 0) this.emit('frame', { direction: 'in', text: String(raw), connectionId: link.connectionId });
    let frame: unknown;
    try {
      frame = JSON.parse(typeof raw === 'string' ? raw : String(raw));
    } catch {
      this.emit('error', { error: new WskitError('BAD_FRAME', 'the server sent a frame that is not JSON; ignored') });
      return;
    }
    if (!isObject(frame)) return;
    if (frame.type === 'message' && typeof frame.topic === 'string') {
      this.#deliver(frame as unknown as PushedMessage);
      return;
    }
    const id = frame.id;
    const pending = typeof id === 'string' ? link.pending.get(id) : undefined;
    if (pending && typeof id === 'string') {
      link.pending.delete(id);
      clearTimeout(pending.timer);
      if (frame.type === 'error') this.#onErrorReply(link, pending, frame);
      else pending.resolve(frame as Reply);
      this.#maybeFinishDrain(link);
      return;
    }
    if (frame.type === 'error') {
      const code = typeof frame.code === 'string' ? frame.code : 'INTERNAL';
      this.emit('error', { error: new WskitError(code, String(frame.message ?? code), frame) });
    }
  }

  #onErrorReply(link: Link, pending: Pending, frame: Record<string, unknown>): void {
    const code = typeof frame.code === 'string' ? frame.code : 'INTERNAL';
    const error = new WskitError(code, String(frame.message ?? code), frame);
    if (code !== 'TOKEN_EXPIRED' || !this.#tokens.refreshable) {
      pending.reject(error);
      return;
    }
    // The token bound to this connection expired: nothing more goes through it. Send again
    // (once) on a connection opened with a fresh token.
    link.acceptsSends = false;
    this.#tokens.invalidate('expired');
    if (pending.send && !pending.send.retried) {
      pending.send.retried = true;
      this.#requeue(pending.send);
    } else {
      pending.reject(error);
    }
    if (link === this.#active) void this.#startRotation('token-expired');
  }

  #deliver(message: PushedMessage): void {
    if (typeof message.mid === 'string' && this.#recent.checkAndAdd(message.mid)) {
      this.#stats.duplicatesDropped++;
      return;
    }
    this.#stats.messagesDelivered++;
    const handlers = this.#handlers.get(message.topic);
    if (handlers) {
      for (const handler of [...handlers]) {
        try {
          (handler as MessageHandler)(message.data, message);
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }
    this.emit('message', message);
  }

  // ---------------------------------------------------------------- subscriptions

  #reconcileEverywhere(topic: string): void {
    for (const link of this.#links) {
      // A link still saying hello reconciles every topic once welcomed.
      if (link.connectionId && (link.role === 'active' || link.role === 'opening')) void this.#reconcileTopic(link, topic);
    }
  }

  /**
   * Brings the server's subscription of `topic` on `link` to what the handlers want, one
   * operation at a time per topic (so subscribe/unsubscribe never race and never double).
   */
  #reconcileTopic(link: Link, topic: string): Promise<void> {
    const state = link.topics.get(topic);
    if (link.role === 'dead' || link.role === 'draining' || state === 'subscribing' || state === 'unsubscribing') {
      return Promise.resolve();
    }
    const wanted = this.#handlers.has(topic);
    if (wanted && state !== 'subscribed') {
      if (!link.acceptsSends) return Promise.resolve();
      link.topics.set(topic, 'subscribing');
      return this.#sendInternal(link, 'subscribe', { topic }, this.#requestTimeoutMs).then(
        () => {
          if (link.topics.get(topic) !== 'subscribing') return;
          link.topics.set(topic, 'subscribed');
          if (link === this.#active) this.#resolveTopicWaiters(topic);
          return this.#reconcileTopic(link, topic);
        },
        (err: WskitError) => {
          if (link.topics.get(topic) === 'subscribing') link.topics.delete(topic);
          return this.#onSubscribeFailed(link, topic, err);
        },
      );
    }
    if (!wanted && state === 'subscribed') {
      link.topics.set(topic, 'unsubscribing');
      return this.#sendInternal(link, 'unsubscribe', { topic }, this.#requestTimeoutMs).then(
        () => {
          if (link.topics.get(topic) === 'unsubscribing') link.topics.delete(topic);
          return this.#reconcileTopic(link, topic);
        },
        () => {
          // Unknown outcome: assume still subscribed (messages for it are ignored) and retry.
          if (link.topics.get(topic) === 'unsubscribing') link.topics.set(topic, 'subscribed');
          if (link.role === 'active') link.timer(() => void this.#reconcileTopic(link, topic), 1000);
        },
      );
    }
    return Promise.resolve();
  }

  #onSubscribeFailed(link: Link, topic: string, error: WskitError): void {
    switch (error.code) {
      case 'CONNECTION_LOST':
      case 'CLOSED':
      case 'TOKEN_EXPIRED':
        // Restored on the next connection.
        return;
      case 'TIMEOUT':
      case 'RATE_LIMITED':
      case 'INTERNAL':
        // Transient: try again on this connection (subscribe is idempotent on the server).
        if (link.role === 'active' || link.role === 'opening') link.timer(() => void this.#reconcileTopic(link, topic), 1000);
        return;
      default: {
        // The server refuses this topic (FORBIDDEN, BAD_REQUEST...): asking again will not help.
        this.#handlers.delete(topic);
        this.#rejectTopicWaiters(topic, error);
        this.emit('subscriptionError', { topic, error });
      }
    }
  }

  #waitForTopic(topic: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let waiters = this.#readyWaiters.get(topic);
      if (!waiters) {
        waiters = [];
        this.#readyWaiters.set(topic, waiters);
      }
      waiters.push({ resolve, reject });
    });
  }

  #resolveTopicWaiters(topic: string): void {
    const waiters = this.#readyWaiters.get(topic);
    this.#readyWaiters.delete(topic);
    for (const waiter of waiters ?? []) waiter.resolve();
  }

  #rejectTopicWaiters(topic: string, error: WskitError): void {
    const waiters = this.#readyWaiters.get(topic);
    this.#readyWaiters.delete(topic);
    for (const waiter of waiters ?? []) waiter.reject(error);
  }
}

function errorMessage(event: unknown): string | undefined {
  if (!isObject(event)) return undefined;
  if (typeof event.message === 'string' && event.message) return event.message;
  const error = event.error;
  if (error instanceof Error) return error.message;
  return undefined;
}

/** Opens a wskit connection that reconnects, keeps itself alive, refreshes its token and rotates. */
export function connect(options: ConnectOptions): WskitClient {
  return new WskitClient(options);
}
