/**
 * The topics the application listens to: its handlers, the server subscription of each topic
 * on each connection (one at a time per topic, so subscribe and unsubscribe never race), and
 * the lossless delivery of every topic whose messages carry `seq`: in order, once, with the
 * missed ones fetched with `history` after a reconnect, a rotation or a hole.
 */
import type { Link } from './connection';
import { WskitError } from './errors';
import type { AckReply, HistoryReply, PushedMessage } from './protocol';
import { RecentIds } from './recent-ids';
import type { ClientEvents, ClientStats, MessageHandler, SubscribeOptions, Unsubscribe } from './types';

export interface SubscriptionsHost {
  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void;
  readonly stats: ClientStats;
  /** The connection sends go through, if any. */
  active(): Link | undefined;
  /** Every live connection (the active one, one being opened, one draining). */
  links(): Iterable<Link>;
  /** A page of a topic's history, over the connection in use or over HTTP in degraded mode. */
  history(topic: string, since: number, limit: number): Promise<HistoryReply>;
  /** In degraded mode the topics are polled over HTTP: `ready` settles on the first poll. */
  degraded(): boolean;
}

export interface RecoveryOptions {
  reorderWaitMs: number;
  maxBuffered: number;
  pageSize: number;
  requestTimeoutMs: number;
}

type Message = PushedMessage<unknown> & { seq: number };

/** Delivery state of one topic whose messages carry `seq`. */
interface Stream {
  /** The last seq handed to the application (or the start point); undefined until the first ack. */
  last?: number;
  /** The application asked to start after this seq. */
  from?: number;
  /** Messages that arrived before the first ack said where to start. */
  early: Message[];
  /** Messages after a missing one, by seq. */
  buffer: Map<number, Message>;
  /** The highest seq known to exist. */
  target: number;
  fetching: boolean;
  timer?: ReturnType<typeof setTimeout>;
  /** Fetches in a row that found the hole still open (a message assigned but not yet stored). */
  misses: number;
  /** When the hole being fetched was first found still open (ms), until it fills. */
  holeSince?: number;
  /** The server does not number this topic's messages. */
  legacy?: boolean;
}

/**
 * Hole fetches that may find it still open, with the server saying nothing more is coming
 * (`complete`), before its messages count as lost. They wait reorderWaitMs, then twice that,
 * and so on. A server that answers `complete: false` is still writing a message it numbered
 * (it settles such a gap within 10 s, see TopicHistory): those answers are not misses, and
 * the client asks again, at most YOUNG_GAP_RETRY_MS apart, until the hole is GIVE_UP_MS old.
 */
const MAX_MISSES = 4;
const YOUNG_GAP_RETRY_MS = 1000;
/** A hole older than this is given up whatever the server says: three times its settle time. */
const GIVE_UP_MS = 30_000;

const retryable = (code: string) => code === 'TIMEOUT' || code === 'RATE_LIMITED' || code === 'INTERNAL';
const lostWithLink = (code: string) => code === 'CONNECTION_LOST' || code === 'CLOSED' || code === 'NOT_CONNECTED' || code === 'TOKEN_EXPIRED';

export class Subscriptions {
  readonly handlers = new Map<string, Set<MessageHandler<never>>>();
  readonly #streams = new Map<string, Stream>();
  readonly #waiters = new Map<string, Array<{ resolve: () => void; reject: (e: WskitError) => void }>>();
  readonly #recent: RecentIds;

  constructor(
    private readonly host: SubscriptionsHost,
    private readonly options: RecoveryOptions,
    dedupeWindow: number,
  ) {
    this.#recent = new RecentIds(dedupeWindow);
  }

  /** Adds a handler; the first one of a topic subscribes it on every connection. */
  add<T>(topic: string, handler: MessageHandler<T>, options: SubscribeOptions): Unsubscribe {
    let set = this.handlers.get(topic);
    const first = !set;
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
      const stream: Stream = { early: [], buffer: new Map(), target: 0, fetching: false, misses: 0 };
      if (options.since !== undefined) stream.from = options.since;
      this.#streams.set(topic, stream);
    }
    const entry = handler as MessageHandler<never>;
    set.add(entry);

    const ready = this.#isReady(topic) ? Promise.resolve() : this.#waitFor(topic);
    ready.catch(() => {}); // the caller may ignore `ready`; failures also reach subscriptionError
    if (first) {
      this.reconcileEverywhere(topic);
      if (this.host.degraded()) void this.poll(topic);
    }

    let removed = false;
    const unsubscribe = (() => {
      if (removed) return;
      removed = true;
      const current = this.handlers.get(topic);
      if (!current?.delete(entry)) return;
      if (current.size === 0) this.#forget(topic);
    }) as Unsubscribe;
    Object.defineProperty(unsubscribe, 'ready', { value: ready });
    return unsubscribe;
  }

  #isReady(topic: string): boolean {
    return this.host.active()?.topics.get(topic) === 'subscribed' || (this.host.degraded() && this.#streams.get(topic)?.last !== undefined);
  }

  /** The last handler of a topic is gone: unsubscribe, forget where its stream was. */
  #forget(topic: string): void {
    this.handlers.delete(topic);
    const stream = this.#streams.get(topic);
    if (stream) clearTimeout(stream.timer);
    this.#streams.delete(topic);
    this.reconcileEverywhere(topic);
  }

  reconcileEverywhere(topic: string): void {
    for (const link of this.host.links()) {
      // A link still saying hello reconciles every topic once welcomed.
      if (link.connectionId && (link.role === 'active' || link.role === 'opening')) void this.reconcile(link, topic);
    }
  }

  /** Brings every topic's subscription on a new connection to what the handlers want. */
  restore(link: Link): Promise<unknown> {
    return Promise.all([...this.handlers.keys()].map((topic) => this.reconcile(link, topic)));
  }

  /**
   * Brings the server's subscription of `topic` on `link` to what the handlers want, one
   * operation at a time per topic (so subscribe/unsubscribe never race and never double).
   */
  reconcile(link: Link, topic: string): Promise<void> {
    const state = link.topics.get(topic);
    if (link.role === 'dead' || link.role === 'draining' || state === 'subscribing' || state === 'unsubscribing') {
      return Promise.resolve();
    }
    const stream = this.#streams.get(topic);
    if (stream && state !== 'subscribed') {
      if (!link.acceptsSends) return Promise.resolve();
      link.topics.set(topic, 'subscribing');
      const since = stream.legacy ? undefined : (stream.last ?? stream.from);
      return link.request('subscribe', since === undefined ? { topic } : { topic, since }, this.options.requestTimeoutMs).then(
        (ack) => {
          if (link.topics.get(topic) !== 'subscribing') return;
          link.topics.set(topic, 'subscribed');
          // The topic's handlers may have gone and come back while this was in flight: the
          // server subscription now serves the stream that is current, whichever asked for it.
          const current = this.#streams.get(topic);
          if (current) this.#acked(topic, current, ack as AckReply);
          if (link === this.host.active()) this.resolveWaiters(topic);
          return this.reconcile(link, topic);
        },
        (err: WskitError) => {
          if (link.topics.get(topic) === 'subscribing') link.topics.delete(topic);
          return this.#subscribeFailed(link, topic, err);
        },
      );
    }
    if (!stream && state === 'subscribed') {
      link.topics.set(topic, 'unsubscribing');
      return link.request('unsubscribe', { topic }, this.options.requestTimeoutMs).then(
        () => {
          if (link.topics.get(topic) === 'unsubscribing') link.topics.delete(topic);
          return this.reconcile(link, topic);
        },
        () => {
          // Unknown outcome: assume still subscribed (messages for it are ignored) and retry.
          if (link.topics.get(topic) === 'unsubscribing') link.topics.set(topic, 'subscribed');
          if (link.role === 'active') link.timer(() => void this.reconcile(link, topic), 1000);
        },
      );
    }
    return Promise.resolve();
  }

  #subscribeFailed(link: Link | undefined, topic: string, error: WskitError): void {
    if (lostWithLink(error.code)) return; // restored on the next connection
    if (retryable(error.code)) {
      // Transient: try again on this connection (subscribe is idempotent on the server).
      if (link && (link.role === 'active' || link.role === 'opening')) link.timer(() => void this.reconcile(link, topic), 1000);
      return;
    }
    // The server refuses this topic (FORBIDDEN, BAD_REQUEST...): asking again will not help.
    if (!this.handlers.has(topic)) return;
    this.handlers.delete(topic);
    const stream = this.#streams.get(topic);
    if (stream) clearTimeout(stream.timer);
    this.#streams.delete(topic);
    this.#rejectWaiters(topic, error);
    this.host.emit('subscriptionError', { topic, error });
  }

  // ------------------------------------------------------------------ ready

  #waitFor(topic: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let waiters = this.#waiters.get(topic);
      if (!waiters) this.#waiters.set(topic, (waiters = []));
      waiters.push({ resolve, reject });
    });
  }

  resolveWaiters(topic: string): void {
    const waiters = this.#waiters.get(topic);
    this.#waiters.delete(topic);
    for (const waiter of waiters ?? []) waiter.resolve();
  }

  #rejectWaiters(topic: string, error: WskitError): void {
    const waiters = this.#waiters.get(topic);
    this.#waiters.delete(topic);
    for (const waiter of waiters ?? []) waiter.reject(error);
  }

  /** A connection became the one in use: the topics subscribed on it are ready. */
  activated(link: Link): void {
    for (const topic of [...this.#waiters.keys()]) {
      if (link.topics.get(topic) === 'subscribed') this.resolveWaiters(topic);
    }
  }

  /** A connection is in use again: fetch what every topic is known to miss. */
  resume(): void {
    for (const [topic, stream] of this.#streams) {
      if (stream.last !== undefined && (stream.last < stream.target || stream.buffer.size > 0)) void this.#fetch(topic, stream);
    }
  }

  close(): void {
    for (const stream of this.#streams.values()) clearTimeout(stream.timer);
    for (const topic of [...this.#waiters.keys()]) {
      this.#rejectWaiters(topic, new WskitError('CLOSED', `the client closed before ${topic} was subscribed`));
    }
  }

  // ------------------------------------------------------------------ delivery

  /** A message pushed by the server. */
  push(message: PushedMessage<unknown>): void {
    const stream = this.#streams.get(message.topic);
    const seq = message.seq;
    if (!stream || typeof seq !== 'number' || !Number.isSafeInteger(seq)) {
      this.#deliver(message);
    } else if (stream.last === undefined) {
      // Not acknowledged yet: the ack says where this topic starts.
      if (stream.early.push(message as Message) > this.options.maxBuffered) stream.early.shift();
    } else {
      this.#accept(message.topic, stream, [message as Message]);
      this.#schedule(message.topic, stream);
    }
  }

  #deliver(message: PushedMessage<unknown>): void {
    const stats = this.host.stats;
    if (typeof message.mid === 'string' && this.#recent.checkAndAdd(message.mid)) {
      stats.duplicatesDropped++;
      return;
    }
    stats.messagesDelivered++;
    for (const handler of [...(this.handlers.get(message.topic) ?? [])]) {
      try {
        (handler as MessageHandler)(message.data, message);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    this.host.emit('message', message);
  }

  /** Takes numbered messages in, hands out every one that is next in line; returns how many were new. */
  #accept(topic: string, stream: Stream, messages: Message[]): number {
    let added = 0;
    for (const message of messages) {
      const seq = message.seq;
      if (seq <= stream.last! || stream.buffer.has(seq)) {
        this.host.stats.duplicatesDropped++;
        continue;
      }
      stream.buffer.set(seq, message);
      if (seq > stream.target) stream.target = seq;
      added++;
    }
    for (let next = stream.buffer.get(stream.last! + 1); next; next = stream.buffer.get(stream.last! + 1)) {
      stream.buffer.delete(next.seq);
      stream.last = next.seq;
      stream.misses = 0;
      stream.holeSince = undefined;
      if (this.#streams.get(topic) !== stream) return added;
      this.#deliver(next);
    }
    return added;
  }

  /**
   * Gives up on the messages up to `to`: delivers the ones held, reports each run of missing
   * ones as a `gap`, and carries on after `to`.
   */
  #skipTo(topic: string, stream: Stream, to: number, reason: ClientEvents['gap']['reason']): void {
    let cursor = stream.last! + 1;
    const held = [...stream.buffer.keys()].filter((seq) => seq <= to).sort((a, b) => a - b);
    const gap = (from: number, until: number) => {
      this.host.stats.unrecoveredGaps++;
      this.host.emit('gap', { topic, from, to: until, reason });
    };
    for (const seq of held) {
      if (seq > cursor) gap(cursor, seq - 1);
      const message = stream.buffer.get(seq)!;
      stream.buffer.delete(seq);
      stream.last = seq;
      this.#deliver(message);
      cursor = seq + 1;
    }
    if (cursor <= to) gap(cursor, to);
    stream.last = Math.max(stream.last!, to);
    stream.misses = 0;
    stream.holeSince = undefined;
    this.#accept(topic, stream, []);
  }

  /** The server acknowledged a subscribe: where the topic starts, or how far it went meanwhile. */
  #acked(topic: string, stream: Stream, ack: { seq?: unknown }): void {
    const seq = ack.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) {
      // A server that does not number messages: deliver as they come.
      stream.legacy = true;
      for (const message of stream.early.splice(0)) this.#deliver(message);
      return;
    }
    stream.legacy = false;
    if (stream.last !== undefined && seq < stream.last) {
      // The topic's numbering started again: what was after seq in the old numbering is
      // not coming, and the new numbers start over.
      this.host.stats.unrecoveredGaps++;
      this.host.emit('gap', { topic, from: seq + 1, to: stream.last, reason: 'reset' });
      stream.buffer.clear();
      stream.last = seq;
      stream.target = seq;
    }
    if (stream.last === undefined) stream.last = stream.from ?? seq;
    if (seq > stream.target) stream.target = seq;
    this.#accept(topic, stream, stream.early.splice(0));
    if (stream.last < stream.target) void this.#fetch(topic, stream);
    else this.#schedule(topic, stream);
  }

  /** A hole: wait a little for the missing message, fetch it when the wait is over or the buffer full. */
  #schedule(topic: string, stream: Stream): void {
    if (stream.buffer.size === 0 && stream.last! >= stream.target) {
      clearTimeout(stream.timer);
      stream.timer = undefined;
      return;
    }
    if (stream.fetching) return;
    if (stream.buffer.size >= this.options.maxBuffered) {
      void this.#fetch(topic, stream);
    } else if (!stream.timer) {
      stream.timer = setTimeout(() => {
        stream.timer = undefined;
        void this.#fetch(topic, stream);
      }, this.options.reorderWaitMs);
    }
  }

  /** Fetches what is missing after `last` with `history`, page by page. */
  async #fetch(topic: string, stream: Stream): Promise<void> {
    if (stream.fetching || stream.last === undefined || this.#streams.get(topic) !== stream) return;
    stream.fetching = true;
    clearTimeout(stream.timer);
    stream.timer = undefined;
    let recovered = 0;
    let lost = false;
    let retryInMs: number | undefined;
    let young = false;
    try {
      for (let since = stream.last; ; ) {
        const reply = await this.host.history(topic, since, this.options.pageSize);
        if (this.#streams.get(topic) !== stream) return;
        const messages = ((Array.isArray(reply.messages) ? reply.messages : []) as unknown[] as Message[]).filter(
          (m) => typeof m?.seq === 'number' && m.seq > since && m.topic === topic,
        );
        if (typeof reply.seq === 'number' && reply.seq > stream.target) stream.target = reply.seq;
        if (reply.recovered === false) {
          // What came after `since` and before the first retained message is gone.
          const lostTo = (messages[0]?.seq ?? stream.target + 1) - 1;
          if (lostTo > stream.last) {
            this.#skipTo(topic, stream, lostTo, 'retention');
            lost = true;
          }
        }
        recovered += this.#accept(topic, stream, messages);
        // Nothing more yet, but the server is not done: a message it numbered is being written.
        young = reply.complete === false && messages.length === 0;
        if (messages.length === 0 || reply.complete !== false) break;
        since = messages[messages.length - 1]!.seq;
      }
    } catch (err) {
      const error = err instanceof WskitError ? err : new WskitError('INTERNAL', String(err));
      if (this.#streams.get(topic) !== stream) return;
      if (lostWithLink(error.code)) return; // the next connection's resubscribe fetches again
      if (retryable(error.code) || error.code === 'HTTP_ERROR') {
        const after = error.reply?.retryAfterMs;
        retryInMs = Math.max(this.options.reorderWaitMs, typeof after === 'number' ? after : 0);
      } else {
        this.host.emit('error', { error });
        this.#skipTo(topic, stream, Math.max(stream.target, ...stream.buffer.keys()), 'unavailable');
      }
    } finally {
      stream.fetching = false;
    }
    if (recovered > 0 && !lost) this.host.stats.recoveredGaps++;
    if (retryInMs !== undefined) {
      stream.timer = setTimeout(() => {
        stream.timer = undefined;
        void this.#fetch(topic, stream);
      }, retryInMs);
      return;
    }
    if (stream.buffer.size > 0 || stream.last! < stream.target) {
      // Still a hole after asking the server: the message may be assigned and not yet
      // stored. Ask again a few times, waiting longer each time, then report it lost.
      const now = Date.now();
      stream.holeSince ??= now;
      if (young && now - stream.holeSince < GIVE_UP_MS) {
        if (!stream.timer) {
          stream.timer = setTimeout(() => {
            stream.timer = undefined;
            void this.#fetch(topic, stream);
          }, Math.min(YOUNG_GAP_RETRY_MS, this.options.reorderWaitMs * 2 ** stream.misses));
        }
        return;
      }
      if (++stream.misses > MAX_MISSES || now - stream.holeSince >= GIVE_UP_MS) {
        const firstHeld = Math.min(...stream.buffer.keys());
        this.#skipTo(topic, stream, Number.isFinite(firstHeld) ? firstHeld - 1 : stream.target, 'unavailable');
      } else if (!stream.timer) {
        stream.timer = setTimeout(() => {
          stream.timer = undefined;
          void this.#fetch(topic, stream);
        }, this.options.reorderWaitMs * 2 ** (stream.misses - 1));
        return;
      }
    }
    this.#schedule(topic, stream);
  }

  /** Degraded mode: one poll of a topic over HTTP. */
  async poll(topic: string): Promise<void> {
    const stream = this.#streams.get(topic);
    // A fetch scheduled already (a hole's wait, a Retry-After) runs at its time.
    if (!stream || stream.fetching || stream.timer) return;
    if (stream.last !== undefined) return this.#fetch(topic, stream);
    // Not subscribed yet: a one-message page says how far the topic is.
    let reply: HistoryReply;
    try {
      reply = await this.host.history(topic, stream.from ?? 0, 1);
    } catch (err) {
      const error = err instanceof WskitError ? err : new WskitError('INTERNAL', String(err));
      if (this.#streams.get(topic) === stream) this.#subscribeFailed(undefined, topic, error);
      return;
    }
    if (this.#streams.get(topic) !== stream || stream.last !== undefined) return;
    this.#acked(topic, stream, reply);
    this.resolveWaiters(topic);
  }
}
