/**
 * What the hooks read: one store per client (a WeakMap, so a closed and dropped client takes
 * its store with it), holding each topic in use and the connection's state.
 *
 * A topic is subscribed through the client's handler API once, however many components use
 * it, and let go one macrotask after its last user leaves. React's strict mode mounts,
 * unmounts and mounts again within one task: the second mount takes the topic back before
 * the release runs, so the server sees one `subscribe` and no `unsubscribe`, and the handler
 * is never removed and added back while the first subscribe is still in flight.
 */
import type { CloseReason, ConnectionState, PushedMessage, Unsubscribe, WskitClient } from '@wskit/client';

/** A message as the hooks hand it out: the pushed frame's fields plus when it arrived here. */
export interface TopicMessage<T = unknown> {
  topic: string;
  data: T;
  /** Per-topic sequence number (servers with recovery). */
  seq?: number;
  /** Unique message id. */
  mid?: string;
  /** When the server published it, epoch ms. */
  ts?: number;
  /** When this client handed it to the application, epoch ms. */
  receivedAt: number;
}

export type TopicStatus = 'idle' | 'subscribing' | 'live' | 'error';

export interface TopicSnapshot<T = unknown> {
  /** The topic, or undefined when the hook was given none. */
  topic: string | undefined;
  /** `subscribing` until the server acknowledged, `live` after, `error` when refused. */
  status: TopicStatus;
  /** The latest message's data. */
  data: T | undefined;
  /** The latest message. */
  message: TopicMessage<T> | undefined;
  /** The latest messages, oldest first, at most the hook's `limit`. */
  messages: readonly TopicMessage<T>[];
  /** Why the subscription failed (status `error`). */
  error: Error | undefined;
  /** Messages the client reported lost on this topic (`gap` events), counted. */
  lost: number;
}

export type ConnectionStatus = ConnectionState | 'idle';

export interface ConnectionSnapshot {
  /** The client's state; `idle` when the provider has no client (yet). */
  state: ConnectionStatus;
  /** The state before this one. */
  previous: ConnectionStatus | undefined;
  /** Why the connection was lost or closed, for `reconnecting`, `degraded` and `closed`. */
  reason: CloseReason | undefined;
  /** When the state last changed, epoch ms. */
  changedAt: number;
  /** The server's id of the connection in use. */
  connectionId: string | undefined;
}

type Listener = () => void;

/** How long a topic without users stays subscribed: one macrotask, past strict mode's remount. */
const RELEASE_DELAY_MS = 0;

class TopicEntry {
  snapshot: TopicSnapshot;
  readonly listeners = new Set<Listener>();
  #refs = 0;
  #capacity = 1;
  #unsubscribe: Unsubscribe | undefined;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped whenever the subscription is dropped, so late callbacks of an old one are ignored. */
  #generation = 0;
  #active = false;
  /** The subscription's `ready` has not settled: dropping it now would race its ack. */
  #pending = false;
  #stopWhenSettled = false;

  constructor(
    private readonly client: WskitClient,
    readonly topic: string,
    private readonly onDrop: (entry: TopicEntry) => void,
  ) {
    this.snapshot = { topic, status: 'subscribing', data: undefined, message: undefined, messages: [], error: undefined, lost: 0 };
  }

  acquire(limit: number, replay: number): void {
    this.#refs++;
    this.#capacity = Math.max(this.#capacity, limit);
    this.#stopWhenSettled = false;
    if (this.#releaseTimer !== undefined) {
      clearTimeout(this.#releaseTimer);
      this.#releaseTimer = undefined;
    }
    if (!this.#active) this.#start(replay);
  }

  release(): void {
    if (this.#refs === 0) return;
    this.#refs--;
    if (this.#refs > 0 || this.#releaseTimer !== undefined) return;
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      if (this.#refs === 0) this.#stop();
    }, RELEASE_DELAY_MS);
  }

  #start(replay: number): void {
    this.#active = true;
    const generation = this.#generation;
    const current = () => this.#active && this.#generation === generation;
    const begin = (since: number | undefined) => {
      if (!current()) return;
      let unsubscribe: Unsubscribe;
      try {
        unsubscribe = this.client.subscribe(this.topic, (_data, message) => this.#push(message), since === undefined ? {} : { since });
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.#unsubscribe = unsubscribe;
      this.#pending = true;
      const settled = () => {
        this.#pending = false;
        if (this.#stopWhenSettled && this.#refs === 0) this.#stop();
      };
      unsubscribe.ready.then(
        () => {
          if (current() && this.snapshot.status === 'subscribing') this.#set({ status: 'live' });
          settled();
        },
        (error: unknown) => {
          if (current()) this.fail(error instanceof Error ? error : new Error(String(error)));
          settled();
        },
      );
    };
    if (replay <= 0) {
      begin(undefined);
      return;
    }
    // `since` replays what the server retains after a seq; a one-message page of the
    // topic's history says how far the topic is, so the last `replay` messages come first.
    this.client.request('history', { topic: this.topic, since: 0, limit: 1 }).then(
      (reply) => {
        const latest = (reply as { seq?: unknown }).seq;
        begin(typeof latest === 'number' && Number.isSafeInteger(latest) ? Math.max(0, latest - replay) : undefined);
      },
      // No history (a refused topic, a server without it): subscribe from now on; a refusal
      // is reported by the subscribe itself.
      () => begin(undefined),
    );
  }

  #stop(): void {
    if (this.#pending) {
      // Removing the handler while the subscribe is in flight and adding one back before its
      // ack would leave the client waiting for an ack that already came: let it settle first.
      this.#stopWhenSettled = true;
      return;
    }
    this.#stopWhenSettled = false;
    this.#active = false;
    this.#generation++;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    unsubscribe?.();
    this.onDrop(this);
  }

  #push(frame: PushedMessage): void {
    const message: TopicMessage = {
      topic: frame.topic,
      data: frame.data,
      seq: typeof frame.seq === 'number' ? frame.seq : undefined,
      mid: typeof frame.mid === 'string' ? frame.mid : undefined,
      ts: typeof frame.ts === 'number' ? frame.ts : undefined,
      receivedAt: Date.now(),
    };
    const previous = this.snapshot.messages;
    const messages = previous.length >= this.#capacity ? [...previous.slice(previous.length - this.#capacity + 1), message] : [...previous, message];
    this.#set({ status: 'live', data: message.data, message, messages });
  }

  fail(error: Error): void {
    this.#set({ status: 'error', error });
  }

  lostMessages(count: number): void {
    this.#set({ lost: this.snapshot.lost + count });
  }

  #set(change: Partial<TopicSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of [...this.listeners]) listener();
  }
}

export class ClientStore {
  readonly #entries = new Map<string, TopicEntry>();
  readonly #connectionListeners = new Set<Listener>();
  #connection: ConnectionSnapshot;

  constructor(readonly client: WskitClient) {
    this.#connection = { state: client.state, previous: undefined, reason: undefined, changedAt: Date.now(), connectionId: client.connectionId };
    client.on('state', ({ state, previous, reason }) => {
      this.#connection = { state, previous, reason, changedAt: Date.now(), connectionId: client.connectionId };
      for (const listener of [...this.#connectionListeners]) listener();
    });
    client.on('open', ({ connectionId }) => {
      if (this.#connection.connectionId === connectionId) return;
      this.#connection = { ...this.#connection, connectionId };
      for (const listener of [...this.#connectionListeners]) listener();
    });
    client.on('subscriptionError', ({ topic, error }) => this.#entries.get(topic)?.fail(error));
    client.on('gap', ({ topic, from, to }) => this.#entries.get(topic)?.lostMessages(to - from + 1));
  }

  /** The topic's entry, created (not yet subscribed) when there is none. */
  entry(topic: string): TopicEntry {
    let entry = this.#entries.get(topic);
    if (!entry) {
      entry = new TopicEntry(this.client, topic, (dropped) => {
        if (this.#entries.get(topic) === dropped) this.#entries.delete(topic);
      });
      this.#entries.set(topic, entry);
    }
    return entry;
  }

  /** Subscribes `listener` to the topic's changes and takes the topic; returns the release. */
  watchTopic(topic: string, limit: number, replay: number, listener: Listener): () => void {
    const entry = this.entry(topic);
    entry.listeners.add(listener);
    entry.acquire(limit, replay);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.listeners.delete(listener);
      entry.release();
    };
  }

  get connection(): ConnectionSnapshot {
    return this.#connection;
  }

  watchConnection(listener: Listener): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }
}

const stores = new WeakMap<WskitClient, ClientStore>();

export function storeOf(client: WskitClient): ClientStore {
  let store = stores.get(client);
  if (!store) {
    store = new ClientStore(client);
    stores.set(client, store);
  }
  return store;
}
