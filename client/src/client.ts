/**
 * The coordinator: one logical session over a succession of WebSockets (connection.ts), with
 * the send queue (send-queue.ts), the subscriptions and their lossless delivery
 * (subscriptions.ts), rotation before the connection cap (rotation.ts) and the HTTP fallback
 * of the degraded mode (http.ts).
 */
import { TOPIC_PATTERN, TRACEPARENT_PATTERN } from '@wskit/protocol';
import { Backoff } from './backoff';
import { closeReason, errorMessage, Link, LinkFailure, type LinkHost, type Pending } from './connection';
import { TypedEmitter } from './emitter';
import { browserEnvironment, type Environment, type EnvironmentEvent } from './environment';
import { WskitError } from './errors';
import { HttpApi } from './http';
import { isObject, type HistoryReply, type Reply, type WelcomeReply } from './protocol';
import { Rotation } from './rotation';
import { SendQueue, type QueuedSend } from './send-queue';
import { Subscriptions } from './subscriptions';
import { TokenSource } from './token';
import type {
  ClientEvents,
  ClientObserver,
  ClientStats,
  CloseReason,
  ConnectOptions,
  ConnectionState,
  MessageHandler,
  Quality,
  QualitySnapshot,
  RequestOptions,
  RotationReason,
  SubscribeOptions,
  Unsubscribe,
  WebSocketConstructor,
  WebSocketLike,
} from './types';

export type {
  ClientEvents,
  ClientStats,
  CloseReason,
  ConnectOptions,
  ConnectionState,
  MessageHandler,
  RequestOptions,
  RotationReason,
  Unsubscribe,
  WebSocketConstructor,
  WebSocketLike,
} from './types';

const OPEN = 1;
const DEFAULT_MAX_CONNECTION_MS = 2 * 60 * 60 * 1000;

/**
 * A wskit connection that survives API Gateway's limits. Create it with `connect()`.
 */
export class WskitClient extends TypedEmitter<ClientEvents> {
  #stateValue: ConnectionState = 'connecting';
  readonly #stats: ClientStats = {
    connections: 0,
    disconnects: 0,
    reconnects: 0,
    failedConnects: 0,
    rotations: 0,
    tokenRefreshes: 0,
    messagesDelivered: 0,
    duplicatesDropped: 0,
    queueDrops: 0,
    recoveredGaps: 0,
    unrecoveredGaps: 0,
  };
  #stopped = false;
  #active: Link | undefined;
  readonly #links = new Set<Link>();
  readonly #queue: SendQueue;
  readonly #subs: Subscriptions;
  readonly #rotation: Rotation;
  readonly #backoff: Backoff;
  readonly #tokens: TokenSource;
  readonly #environment: Environment | undefined;
  readonly #stopEnvironment: (() => void) | undefined;
  readonly #WebSocketImpl: WebSocketConstructor;
  readonly #linkHost: LinkHost;
  readonly #observers: ClientObserver[] = [];
  readonly #detach: Array<() => void> = [];
  #qualitySnapshot: (() => QualitySnapshot) | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #connectingNow = false;
  #everOpened = false;
  #failuresBeforeOpen = 0;
  #failuresInARow = 0;
  #sendSerial = 0;

  readonly #http: HttpApi | undefined;
  #degraded = false;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #httpChain: Promise<unknown> = Promise.resolve();

  readonly #url: string;
  readonly #tokenQueryParam: string;
  readonly #maxRetries: number;
  readonly #minUptimeMs: number;
  readonly #heartbeatIntervalMs: number | undefined;
  readonly #heartbeatTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #overlapMs: number;
  readonly #drainTimeoutMs: number;
  readonly #refreshAfterFailures: number;
  readonly #degradeAfter: number;
  readonly #pollIntervalMs: number;
  readonly #traceparent: (() => string) | undefined;

  constructor(options: ConnectOptions) {
    super();
    if (!isObject(options)) throw new TypeError('connect(options): pass an object with at least { url, token }');
    if (typeof options.url !== 'string' || !/^wss?:\/\//i.test(options.url)) {
      throw new TypeError(`connect({ url }): expected a ws:// or wss:// URL, got ${JSON.stringify(options.url)}`);
    }
    const impl = options.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
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
    this.#maxRetries = reconnect.maxRetries ?? Infinity;
    this.#minUptimeMs = reconnect.minUptimeMs ?? 5000;
    const heartbeat = options.heartbeat ?? {};
    this.#heartbeatIntervalMs = heartbeat === false ? undefined : (heartbeat.intervalMs ?? 300_000);
    this.#heartbeatTimeoutMs = heartbeat === false ? 10_000 : (heartbeat.timeoutMs ?? 10_000);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const rotateAt = options.rotateAt === false ? undefined : (options.rotateAt ?? 0.9);
    if (rotateAt !== undefined && !(rotateAt > 0 && rotateAt < 1)) {
      throw new RangeError(`connect({ rotateAt }): expected a fraction between 0 and 1, got ${rotateAt}`);
    }
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 5000;
    this.#overlapMs = options.overlapMs ?? 2000;
    this.#refreshAfterFailures = options.tokenRefresh?.afterFailuresBeforeOpen ?? 2;
    this.#traceparent = options.traceparent;
    this.#tokens = new TokenSource(options.token, options.tokenRefresh?.beforeExpiryMs ?? 60_000, (reason, expiresAt) =>
      (this.#stats.tokenRefreshes++, this.emit('token', expiresAt === undefined ? { reason } : { reason, expiresAt })),
    );
    this.#queue = new SendQueue(options.maxQueueSize ?? 100, options.queueOverflow ?? 'drop-oldest', (item, error) => {
      this.#stats.queueDrops++;
      this.emit('dropped', { action: item.action, fields: item.fields, error });
    });
    const recovery = options.recovery ?? {};
    const pageSize = recovery.pageSize ?? 500;
    if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 1000)) {
      throw new RangeError(`connect({ recovery: { pageSize } }): expected a whole number from 1 to 1000, got ${pageSize}`);
    }
    this.#subs = new Subscriptions(
      {
        emit: (event, payload) => this.emit(event, payload),
        stats: this.#stats,
        active: () => this.#active,
        links: () => this.#links,
        history: (topic, since, limit) => this.#history(topic, since, limit),
        degraded: () => this.#degraded,
      },
      {
        reorderWaitMs: recovery.reorderWaitMs ?? 1000,
        maxBuffered: recovery.maxBuffered ?? 1000,
        pageSize,
        requestTimeoutMs: this.#requestTimeoutMs,
      },
      options.dedupeWindow ?? 1000,
    );
    this.#rotation = new Rotation(
      {
        active: () => this.#active,
        stopped: () => this.#stopped,
        open: () => this.#openLink(),
        activate: (link, reason) => this.#activate(link, reason),
        failed: (failure, retry) => {
          if (failure instanceof LinkFailure && failure.reason.kind === 'unauthorized') this.#tokens.invalidate('unauthorized');
          this.emit('error', { error: new Error(`rotation failed: ${failure instanceof Error ? failure.message : String(failure)}`) });
          if (!retry) this.#scheduleReconnect(failure instanceof LinkFailure ? failure.reason : { kind: 'network-error' });
        },
        tokenRefreshAt: () => this.#tokens.refreshAt,
        tokenExpiring: () => this.#tokens.invalidate('expiring'),
      },
      { maxConnectionMs: options.maxConnectionMs ?? DEFAULT_MAX_CONNECTION_MS, rotateAt },
    );
    const observe = (name: keyof ClientObserver, arg?: unknown) => {
      for (const observer of this.#observers) (observer[name] as ((a?: unknown) => void) | undefined)?.(arg);
    };
    this.#linkHost = {
      frame: (link, direction, text) => {
        if (this.listenerCount('frame') > 0) this.emit('frame', { direction, text, connectionId: link.connectionId });
      },
      message: (_link, frame) => this.#subs.push(frame),
      errorReply: (link, pending, frame) => this.#onErrorReply(link, pending, frame),
      problem: (error) => this.emit('error', { error }),
      sent: () => observe('sent'),
      reply: (rttMs) => observe('reply', rttMs),
      received: () => observe('frame'),
      dead: (link) => this.#links.delete(link),
    };
    if (options.httpUrl !== undefined) {
      if (typeof options.httpUrl !== 'string' || !/^https?:\/\//i.test(options.httpUrl)) {
        throw new TypeError(`connect({ httpUrl }): expected an http:// or https:// URL, got ${JSON.stringify(options.httpUrl)}`);
      }
      const fetchImpl = options.fetch ?? (globalThis.fetch ? (input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init) : undefined);
      if (typeof fetchImpl !== 'function') throw new TypeError('connect({ httpUrl }): this runtime has no fetch; pass one as { fetch }');
      this.#http = new HttpApi(options.httpUrl, fetchImpl, () => this.#tokens.get(), () => this.#tokens.invalidate('expired'));
    }
    this.#degradeAfter = options.degraded?.afterFailures ?? 3;
    this.#pollIntervalMs = options.degraded?.pollIntervalMs ?? 2000;
    this.on('state', ({ state }) => observe('state', state));
    this.#environment = options.environment === null ? undefined : (options.environment ?? browserEnvironment());
    this.#stopEnvironment = this.#environment?.subscribe((event) => this.#onEnvironment(event));
    for (const extension of options.extensions ?? []) {
      const detach = extension.attach({
        client: this,
        emit: (event, payload) => this.emit(event, payload),
        observe: (observer) => void this.#observers.push(observer),
        oldestPendingAt: () => this.#active?.pending.values().next().value?.sentAt,
        provideQuality: (snapshot) => (this.#qualitySnapshot = snapshot),
      });
      if (detach) this.#detach.push(detach);
    }
    queueMicrotask(() => this.#attemptConnect());
  }

  /** The current state: connecting, open, degraded, reconnecting or closed. */
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
    const quality = this.#qualitySnapshot?.();
    return quality ? { ...this.#stats, quality } : { ...this.#stats };
  }

  /** The connection quality, with `qualityMonitor()` (undefined without it). */
  get quality(): Quality | undefined {
    return this.#qualitySnapshot?.().quality;
  }

  /** Topics with at least one handler. */
  topics(): string[] {
    return [...this.#subs.handlers.keys()];
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
    const traceparent = options.traceparent ?? this.#traceparent?.();
    if (traceparent !== undefined) {
      if (typeof traceparent !== 'string' || !TRACEPARENT_PATTERN.test(traceparent)) {
        return Promise.reject(new TypeError(`request(): traceparent ${JSON.stringify(traceparent)} is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)`));
      }
      fields = { ...fields, traceparent };
    }
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
    return new Promise<Reply>((resolve, reject) => {
      const item: QueuedSend = { action, fields, timeoutMs, resolve, reject, retried: false, seq: ++this.#sendSerial };
      const link = this.#active;
      if (link?.usable && this.#queue.length === 0) this.#transmit(link, item);
      else if (this.#degraded && this.#viaHttp(item)) return;
      else if (options.queue === false) reject(new WskitError('NOT_CONNECTED', `no connection is usable now; ${action} was not sent`));
      else {
        this.#queue.push(item);
        this.#flush();
      }
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
  subscribe<T = unknown>(topic: string, handler: MessageHandler<T>, options: SubscribeOptions = {}): Unsubscribe {
    if (typeof topic !== 'string' || !TOPIC_PATTERN.test(topic)) {
      throw new TypeError(`subscribe(topic): invalid topic ${JSON.stringify(topic)}; expected ${TOPIC_PATTERN}`);
    }
    if (typeof handler !== 'function') throw new TypeError('subscribe(topic, handler): handler must be a function');
    const since = options.since;
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new TypeError(`subscribe(topic, handler, { since }): expected a sequence number >= 0, got ${JSON.stringify(since)}`);
    }
    if (this.#stopped) throw new WskitError('CLOSED', 'the client is closed; create a new one');
    return this.#subs.add(topic, handler, options);
  }

  /** Replaces the connection now, without a gap (what happens before the 2-hour cap). */
  rotate(): Promise<void> {
    return this.#rotation.start('manual');
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
    if (this.#stopped || this.#connectingNow || this.#rotation.rotating || this.#active) return;
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
      link.close(1000, 'not needed');
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
    this.#stats.failedConnects++;
    if (reason.kind === 'token-error') {
      this.emit('error', { error: err instanceof Error ? err : new Error(String(err)) });
    } else if (reason.kind === 'unauthorized') {
      if (!this.#tokens.refreshable) {
        void this.#shutdown(reason);
        return;
      }
      this.#tokens.invalidate('unauthorized');
    } else {
      if (failure.beforeOpen && !failure.detailed) {
        // A browser shows a refused upgrade (401) as error + close 1006 before open, exactly like
        // a server that is down. After a few such failures in a row, try a fresh token.
        this.#failuresBeforeOpen += 1;
        if (this.#failuresBeforeOpen >= this.#refreshAfterFailures) {
          this.#failuresBeforeOpen = 0;
          this.#tokens.invalidate('connect-failures');
        }
      }
      this.#failuresInARow += 1;
      // Blocked (the runtime refused to create the socket) or failing again and again: use HTTP meanwhile.
      if (this.#http && !this.#degraded && (this.#failuresInARow >= this.#degradeAfter || failure.blocked)) {
        this.#enterDegraded(reason);
      }
    }
    this.#scheduleReconnect(reason);
  }

  #scheduleReconnect(reason: CloseReason): void {
    if (this.#stopped || this.#reconnectTimer || this.#connectingNow || this.#active) return;
    if (this.#backoff.attempt >= this.#maxRetries && !this.#degraded) {
      void this.#shutdown({ ...reason, kind: 'max-retries', message: `gave up after ${this.#maxRetries} attempts; last: ${reason.kind}${reason.message ? ` (${reason.message})` : ''}` });
      return;
    }
    if (this.#environment && !this.#environment.isOnline()) {
      this.#pauseUntilOnline();
      return;
    }
    const delayMs = this.#backoff.next();
    this.#setState(this.#degraded ? 'degraded' : this.#everOpened ? 'reconnecting' : 'connecting', reason);
    this.emit('reconnecting', { attempt: this.#backoff.attempt, delayMs, reason });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#attemptConnect();
    }, delayMs);
  }

  #pauseUntilOnline(): void {
    const reason: CloseReason = { kind: 'offline' };
    this.#leaveDegraded();
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
      throw new LinkFailure({ kind: 'network-error', message: err instanceof Error ? err.message : String(err) }, true, true, true);
    }
    const link = new Link(socket, this.#linkHost);
    this.#links.add(link);

    return new Promise<Link>((resolve, reject) => {
      let opened = false;
      let errorDetail: string | undefined;
      let settled = false;
      const fail = (reason: CloseReason, detailed: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        link.kill(reason, 'CONNECTION_LOST');
        reject(new LinkFailure(reason, !opened, detailed));
      };
      const timeout = setTimeout(
        () => fail({ kind: 'connect-timeout', message: `no welcome within ${this.#connectTimeoutMs} ms` }, true),
        this.#connectTimeoutMs,
      );
      link.onDown = (reason) => fail(reason, reason.status !== undefined || errorDetail !== undefined);

      socket.onmessage = (event: { data: unknown }) => link.receive(event.data);
      socket.onerror = (event: unknown) => {
        errorDetail = errorMessage(event);
      };
      socket.onclose = (event: { code?: number; reason?: string }) => {
        link.markClosed();
        link.kill(closeReason(event, errorDetail), 'CONNECTION_LOST');
      };
      socket.onopen = () => {
        opened = true;
        link.openedAt = Date.now();
        link
          .request('hello', {}, this.#connectTimeoutMs)
          .then(async (reply) => {
            if (settled) return;
            const welcome = reply as WelcomeReply;
            if (welcome.type !== 'welcome' || typeof welcome.connectionId !== 'string') {
              throw new WskitError('BAD_REPLY', `expected a welcome reply to hello, got ${JSON.stringify(reply)}`);
            }
            link.connectionId = welcome.connectionId;
            link.userId = typeof welcome.userId === 'string' ? welcome.userId : undefined;
            link.limits = isObject(welcome.limits) ? welcome.limits : {};
            await this.#subs.restore(link);
            if (link.role === 'dead') throw new WskitError('CONNECTION_LOST', 'the connection closed while subscribing');
            for (const topic of this.#subs.handlers.keys()) {
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

  /** Makes `link` the connection in use. `rotation` is set when it replaces a live one. */
  #activate(link: Link, rotation: RotationReason | undefined): void {
    const previous = this.#active;
    link.role = 'active';
    this.#active = link;
    this.#failuresBeforeOpen = 0;
    this.#failuresInARow = 0;
    const wasOpen = this.#stateValue === 'open';
    this.#stats.connections++;
    const reconnected = this.#everOpened;
    this.#everOpened = true;
    this.#leaveDegraded();

    link.startHeartbeat(this.#heartbeatIntervalMs, this.#heartbeatTimeoutMs);
    link.timer(() => {
      if (this.#active === link) this.#backoff.reset();
    }, this.#minUptimeMs);
    this.#rotation.schedule(link);

    if (previous && previous !== link) previous.drain(this.#overlapMs, this.#drainTimeoutMs);
    this.#subs.activated(link);
    if (rotation && previous && wasOpen) {
      this.#stats.rotations++;
      this.emit('rotated', { reason: rotation, connectionId: link.connectionId, previousConnectionId: previous.connectionId });
    } else {
      if (reconnected) this.#stats.reconnects++;
      this.#setState('open');
      const open: ClientEvents['open'] = { connectionId: link.connectionId, reconnected };
      if (link.userId !== undefined) open.userId = link.userId;
      this.emit('open', open);
    }
    this.#flush();
    this.#subs.resume();
  }

  /** The socket of `link` is gone (close event, failed send, heartbeat timeout). */
  #onLinkDown(link: Link, reason: CloseReason): void {
    if (link !== this.#active) return;
    this.#active = undefined;
    this.#stats.disconnects++;
    if (this.#stopped) return;
    if (this.#rotation.rotating) {
      // The rotation's new connection will take over as soon as it is ready.
      this.#setState('reconnecting', reason);
      this.emit('reconnecting', { attempt: this.#backoff.attempt, reason });
      return;
    }
    this.#scheduleReconnect(reason);
  }

  async #shutdown(reason: CloseReason): Promise<void> {
    if (this.#stopped) {
      await Promise.all([...this.#links].map((l) => l.closed));
      return;
    }
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    this.#rotation.stop();
    this.#leaveDegraded();
    this.#stopEnvironment?.();
    const closing = [...this.#links];
    for (const link of closing) {
      // Reject before the socket closes so callers see CLOSED, not CONNECTION_LOST.
      link.rejectPending('CLOSED', `the client closed (${reason.kind})`);
      if (link.socket.readyState === OPEN) link.close(1000, 'client closed');
      else link.kill(reason, 'CLOSED');
    }
    this.#active = undefined;
    this.#queue.rejectAll((item) => new WskitError('CLOSED', `the client closed (${reason.kind}) before ${item.action} was sent`));
    this.#subs.close();
    this.#setState('closed', reason);
    this.emit('closed', { reason });
    for (const detach of this.#detach) detach();
    // Link.close() gives up on a close handshake after 3 s; do not wait longer than that.
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(closing.map((l) => l.closed)),
      new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 3500))),
    ]);
    clearTimeout(giveUp);
  }

  #onEnvironment(event: EnvironmentEvent): void {
    if (this.#stopped) return;
    if (event === 'online' || event === 'offline') this.emit('network', { online: event === 'online' });
    if (event === 'hidden') return;
    if (this.#active) {
      // The socket may have died silently while the page slept or the network changed.
      if (this.#heartbeatIntervalMs !== undefined) this.#active.ping(this.#heartbeatIntervalMs, this.#heartbeatTimeoutMs);
    } else if (event !== 'offline') {
      // Back online or visible again: try now instead of waiting out the backoff.
      void this.#attemptConnect();
    }
  }

  // ---------------------------------------------------------------- degraded mode (HTTP)

  #enterDegraded(reason: CloseReason): void {
    this.#degraded = true;
    this.#setState('degraded', reason);
    this.emit('degraded', { failures: this.#failuresInARow, reason });
    this.#flush();
    this.#poll();
  }

  #leaveDegraded(): void {
    this.#degraded = false;
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  /** Polls every topic over HTTP, then again after the poll interval, while degraded. */
  #poll(): void {
    if (!this.#degraded) return;
    void Promise.all(this.topics().map((topic) => this.#subs.poll(topic))).then(() => {
      if (this.#degraded && !this.#pollTimer) {
        this.#pollTimer = setTimeout(() => {
          this.#pollTimer = undefined;
          this.#poll();
        }, this.#pollIntervalMs);
      }
    });
  }

  /** A page of history over the connection in use, or over HTTP in degraded mode. */
  #history(topic: string, since: number, limit: number): Promise<HistoryReply> {
    const link = this.#active;
    if (link?.usable) return link.request('history', { topic, since, limit }, this.#requestTimeoutMs) as Promise<HistoryReply>;
    if (this.#degraded && this.#http) return this.#http.history(topic, since, limit);
    return Promise.reject(new WskitError('NOT_CONNECTED', 'no connection to fetch history on'));
  }

  /** Degraded mode: a publish goes over HTTP, one at a time and in order; true when taken. */
  #viaHttp(item: QueuedSend): boolean {
    const http = this.#http;
    const { topic, data, traceparent } = item.fields;
    if (!http || (item.action !== 'publish' && item.action !== 'sendmessage') || typeof topic !== 'string') return false;
    const sent = this.#httpChain.then(() => http.publish(topic, data, typeof traceparent === 'string' ? traceparent : undefined));
    this.#httpChain = sent.catch(() => {});
    sent.then(item.resolve, item.reject);
    return true;
  }

  // ---------------------------------------------------------------- sending

  #flush(): void {
    const link = this.#active;
    this.#queue.flush((item) => {
      if (link?.usable) {
        this.#transmit(link, item);
        return true;
      }
      return this.#degraded ? this.#viaHttp(item) : undefined;
    });
  }

  #transmit(link: Link, item: QueuedSend): void {
    link.send(item.action, item.fields, item.timeoutMs, { action: item.action, resolve: item.resolve, reject: item.reject, send: item });
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
    const send = pending.send as QueuedSend | undefined;
    if (send && !send.retried) {
      send.retried = true;
      this.#queue.requeue(send);
    } else {
      pending.reject(error);
    }
    if (link === this.#active) void this.#rotation.start('token-expired');
  }
}

/** Opens a wskit connection that reconnects, keeps itself alive, refreshes its token and rotates. */
export function connect(options: ConnectOptions): WskitClient {
  return new WskitClient(options);
}
