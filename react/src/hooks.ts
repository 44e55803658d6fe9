import { useCallback, useContext, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { AckReply, ClientEvents, RequestOptions, WskitClient } from '@wskit/client';
import { ClientContext } from './context';
import { storeOf, type ConnectionSnapshot, type TopicSnapshot } from './store';

function useContextClient(hook: string): WskitClient | null {
  const client = useContext(ClientContext);
  if (client === undefined) throw new Error(`${hook} must be used inside <WskitProvider>`);
  return client;
}

/** The provider's client, or null while it has none. */
export function useClient(): WskitClient | null {
  return useContextClient('useClient');
}

export interface UseTopicOptions {
  /** How many of the latest messages `messages` keeps (default 50). */
  limit?: number;
  /**
   * Replay up to this many of the latest messages the server retains when the topic is
   * subscribed (default 0: from now on). Applies when the topic is not in use yet.
   */
  replay?: number;
}

export type TopicState<T = unknown> = TopicSnapshot<T>;

const NO_TOPIC: TopicSnapshot<never> = /* @__PURE__ */ Object.freeze({
  topic: undefined,
  status: 'idle',
  data: undefined,
  message: undefined,
  messages: /* @__PURE__ */ Object.freeze([]) as readonly never[],
  error: undefined,
  lost: 0,
}) as TopicSnapshot<never>;

const idleTopics = new Map<string, TopicSnapshot<never>>();
function idle(topic: string | undefined): TopicSnapshot<never> {
  if (topic === undefined) return NO_TOPIC;
  let snapshot = idleTopics.get(topic);
  if (!snapshot) {
    snapshot = Object.freeze({ ...NO_TOPIC, topic });
    idleTopics.set(topic, snapshot);
  }
  return snapshot;
}

const nothing = () => () => undefined;

/**
 * The latest value and a bounded history of `topic`, live. The topic is subscribed while a
 * component uses it (once per client, however many components), restored by the client after
 * every reconnect, and released when the last component unmounts. `null`/`undefined`: no topic.
 */
export function useTopic<T = unknown>(topic: string | null | undefined, options: UseTopicOptions = {}): TopicState<T> {
  const client = useContextClient('useTopic');
  const limit = Math.max(1, Math.floor(options.limit ?? 50));
  const replay = Math.max(0, Math.floor(options.replay ?? 0));
  const name = topic ?? undefined;
  const store = client ? storeOf(client) : undefined;
  const subscribe = useCallback(
    (onChange: () => void) => (store && name !== undefined ? store.watchTopic(name, limit, replay, onChange) : nothing()),
    [store, name, limit, replay],
  );
  const getSnapshot = useCallback(() => (store && name !== undefined ? store.entry(name).snapshot : idle(name)), [store, name]);
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot) as TopicSnapshot<T>;
  // Components asking for fewer messages than the topic keeps get their own window.
  return useMemo(
    () => (snapshot.messages.length > limit ? { ...snapshot, messages: snapshot.messages.slice(snapshot.messages.length - limit) } : snapshot),
    [snapshot, limit],
  );
}

const IDLE_CONNECTION: ConnectionSnapshot = /* @__PURE__ */ Object.freeze({
  state: 'idle',
  previous: undefined,
  reason: undefined,
  changedAt: 0,
  connectionId: undefined,
}) as ConnectionSnapshot;

/** The connection's state (`connecting`, `open`, `reconnecting`, `degraded`, `closed`; `idle` without a client), why, and since when. */
export function useConnectionState(): ConnectionSnapshot {
  const client = useContextClient('useConnectionState');
  const store = client ? storeOf(client) : undefined;
  const subscribe = useCallback((onChange: () => void) => (store ? store.watchConnection(onChange) : () => undefined), [store]);
  const getSnapshot = useCallback(() => store?.connection ?? IDLE_CONNECTION, [store]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

export type Publish = (topic: string, data: unknown, options?: RequestOptions) => Promise<AckReply>;
export type PublishTo = (data: unknown, options?: RequestOptions) => Promise<AckReply>;

const noClient = () => Promise.reject(new Error('no wskit client yet: the provider has none'));

/**
 * A stable function that publishes through the provider's client and resolves with the
 * server's ack (queued while reconnecting). With a topic, the function takes only the data.
 */
export function usePublish(): Publish;
export function usePublish(topic: string): PublishTo;
export function usePublish(topic?: string): Publish | PublishTo {
  const client = useContextClient('usePublish');
  return useCallback(
    (...args: unknown[]) => {
      if (!client) return noClient();
      const [target, data, options] = topic === undefined ? args : [topic, ...args];
      return client.publish(target as string, data, options as RequestOptions | undefined) as Promise<AckReply>;
    },
    [client, topic],
  ) as Publish | PublishTo;
}

/**
 * Calls `listener` for every `event` of the provider's client (`message`, `gap`, `open`,
 * `reconnecting`, ...), always the latest listener passed, without resubscribing on render.
 */
export function useClientEvent<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): void {
  const client = useContextClient('useClientEvent');
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => (client ? client.on(event, (payload) => latest.current(payload)) : undefined), [client, event]);
}
