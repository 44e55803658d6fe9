/**
 * The recovery scenarios, written against any server that speaks the recovery contract
 * (seq + mid on every message, `subscribe {since}` -> `ack {seq, recovered}`, `history`,
 * and the HTTP API). recovery.test.ts runs them against the tests' own protocol server; the
 * same functions can be pointed at the local gateway by giving them its URLs and tokens.
 * The network between the subscriber and the server is a TcpProxy on loopback, so drops and
 * refused upgrades work in front of any server.
 */
import WebSocket from 'ws';
import { connect, type ClientEvents, type ConnectOptions, type ConnectionState, type WskitClient } from '../../src';
import { TcpProxy } from '@wskit/testing/tcp-proxy';
import { sleep, waitFor } from './wait';

export interface RecoveryTarget {
  /** The server's WebSocket URL on loopback (the subscriber reaches it through a proxy). */
  wsUrl: string;
  /** The server's HTTP API base URL. */
  httpUrl: string;
  token(sub: string): Promise<string> | string;
  /** A fresh topic both test users may subscribe and publish to. */
  topic(name: string): string;
  /** Messages the server retains per topic. */
  retain: number;
  /** Makes the server deliver messages out of order (absent: the out-of-order scenario cannot run). */
  scramble?(on: boolean): void;
}

interface Received {
  seq: number;
  data: { p: number; n: number };
}

/** What a scenario leaves behind to close. */
export class Scenario {
  readonly clients: WskitClient[] = [];
  readonly proxies: TcpProxy[] = [];

  constructor(readonly target: RecoveryTarget) {}

  client(sub: string, options: Partial<ConnectOptions> = {}): WskitClient {
    const client = connect({
      url: this.target.wsUrl,
      token: () => this.target.token(sub),
      WebSocket,
      reconnect: { minDelayMs: 20, maxDelayMs: 300, minUptimeMs: 200 },
      ...options,
    });
    this.clients.push(client);
    return client;
  }

  async proxy(): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(this.target.wsUrl);
    this.proxies.push(proxy);
    return proxy;
  }

  /** A subscriber that records every message it is handed, with its seq. */
  listen(client: WskitClient, topic: string): { received: Received[]; ready: Promise<void> } {
    const received: Received[] = [];
    const stop = client.subscribe<Received['data']>(topic, (data, message) => received.push({ seq: message.seq!, data }));
    return { received, ready: stop.ready };
  }

  /**
   * Two publishers alternating at `rate` messages/s in total for `ms`, each publish awaited
   * in parallel (at most 20 unanswered); `during` runs meanwhile. Resolves with the acks' seqs.
   */
  async stream(topic: string, rate: number, ms: number, during: () => Promise<void> = async () => {}): Promise<Array<{ seq: number; p: number; n: number }>> {
    const publishers = [this.client('publisher-1'), this.client('publisher-2')];
    await Promise.all(publishers.map((p) => p.whenOpen()));
    const sent: Array<Promise<{ seq: number; p: number; n: number }>> = [];
    const started = Date.now();
    let inFlight = 0;
    const publishing = (async () => {
      for (let n = 0; Date.now() - started < ms; n++) {
        const p = n % 2;
        while (inFlight >= 20) await sleep(5);
        inFlight++;
        sent.push(
          publishers[p]!.publish(topic, { p, n }).then((ack) => {
            inFlight--;
            return { seq: (ack as { seq: number }).seq, p, n };
          }),
        );
        await sleep(Math.max(1, started + ((n + 1) * 1000) / rate - Date.now()));
      }
    })();
    await Promise.all([publishing, during()]);
    return Promise.all(sent);
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    await Promise.all(this.proxies.splice(0).map((p) => p.stop()));
  }
}

/** Every published message received once, in seq order, with the data its publisher sent. */
async function expectExactlyOnceInOrder(received: Received[], published: Array<{ seq: number; p: number; n: number }>, after = 0): Promise<void> {
  const last = Math.max(...published.map((m) => m.seq));
  await waitFor(() => received.length > 0 && received[received.length - 1]!.seq >= last, `every message up to seq ${last}`, 20_000);
  await sleep(200); // a duplicate would arrive now
  const seqs = received.map((r) => r.seq);
  const expected = Array.from({ length: last - after }, (_, i) => after + 1 + i);
  expect(seqs).toEqual(expected);
  const bySeq = new Map(published.map((m) => [m.seq, m]));
  for (const r of received) expect(r.data).toEqual({ p: bySeq.get(r.seq)!.p, n: bySeq.get(r.seq)!.n });
}

/** A subscriber whose network drops `drops` times while two publishers stream at `rate`/s. */
export async function dropsWhileStreaming(s: Scenario, drops = 5, rate = 50): Promise<{ reconnects: number; recoveredGaps: number }> {
  const topic = s.target.topic('drops');
  const proxy = await s.proxy();
  const subscriber = s.client('subscriber', { url: proxy.url(s.target.wsUrl), recovery: { reorderWaitMs: 200 } });
  const { received, ready } = s.listen(subscriber, topic);
  await ready;
  const published = await s.stream(topic, rate, drops * 700 + 500, async () => {
    for (let i = 0; i < drops; i++) {
      await sleep(500);
      await waitFor(() => subscriber.state === 'open', `open before drop ${i + 1}`);
      proxy.dropAll();
      // counted, not polled: with full jitter the reconnect can be back within the polling interval
      await waitFor(() => subscriber.stats.disconnects === i + 1, `drop ${i + 1} noticed`);
    }
  });
  await expectExactlyOnceInOrder(received, published);
  expect(subscriber.stats.reconnects).toBe(drops);
  return { reconnects: subscriber.stats.reconnects, recoveredGaps: subscriber.stats.recoveredGaps };
}

/** Rotations (each a second connection, an overlap, a switch) while two publishers stream. */
export async function rotationUnderLoad(s: Scenario, rotations = 3, rate = 50): Promise<{ duplicatesDropped: number }> {
  const topic = s.target.topic('rotation');
  const subscriber = s.client('subscriber', { overlapMs: 300, drainTimeoutMs: 1000 });
  const drops: string[] = [];
  subscriber.on('reconnecting', ({ reason }) => drops.push(reason.kind));
  const { received, ready } = s.listen(subscriber, topic);
  await ready;
  const published = await s.stream(topic, rate, rotations * 600 + 600, async () => {
    for (let i = 0; i < rotations; i++) {
      await sleep(500);
      await subscriber.rotate();
    }
  });
  await expectExactlyOnceInOrder(received, published);
  expect(subscriber.stats.rotations).toBe(rotations);
  expect(drops).toEqual([]);
  return { duplicatesDropped: subscriber.stats.duplicatesDropped };
}

/** Away while more than the retained messages are published: a `gap` event, then the retained ones in order. */
export async function gapOlderThanRetention(s: Scenario): Promise<void> {
  const topic = s.target.topic('gap');
  const proxy = await s.proxy();
  const subscriber = s.client('subscriber', { url: proxy.url(s.target.wsUrl) });
  const gaps: Array<ClientEvents['gap']> = [];
  subscriber.on('gap', (gap) => gaps.push(gap));
  const { received, ready } = s.listen(subscriber, topic);
  await ready;
  const publisher = s.client('publisher-1');
  for (let n = 0; n < 5; n++) await publisher.publish(topic, { p: 0, n });
  await waitFor(() => received.length === 5, 'the first 5');
  const before = received[4]!.seq;

  proxy.refuse = true;
  proxy.dropAll();
  await waitFor(() => subscriber.stats.disconnects === 1, 'the subscriber away');
  const extra = 20;
  const acks: number[] = [];
  for (let n = 5; n < 5 + s.target.retain + extra; n++) acks.push(((await publisher.publish(topic, { p: 0, n })) as { seq: number }).seq);
  const last = acks[acks.length - 1]!;
  proxy.refuse = false;
  await waitFor(() => received.length > 0 && received[received.length - 1]!.seq === last, 'the retained messages', 20_000);
  await sleep(200);
  expect(gaps).toEqual([{ topic, from: before + 1, to: before + extra, reason: 'retention' }]);
  expect(received.map((r) => r.seq)).toEqual([
    ...Array.from({ length: 5 }, (_, i) => before - 4 + i),
    ...Array.from({ length: s.target.retain }, (_, i) => before + extra + 1 + i),
  ]);
  expect(subscriber.stats.unrecoveredGaps).toBe(1);
}

/**
 * Upgrades refused: the subscriber goes degraded, polls and publishes over HTTP, receives
 * everything, and goes back to the WebSocket once upgrades work again, without loss or duplicate.
 */
export async function degradedOverHttp(s: Scenario, rate = 50): Promise<{ states: ConnectionState[] }> {
  const topic = s.target.topic('degraded');
  const proxy = await s.proxy();
  proxy.refuse = true;
  const subscriber = s.client('subscriber', {
    url: proxy.url(s.target.wsUrl),
    httpUrl: s.target.httpUrl,
    degraded: { afterFailures: 2, pollIntervalMs: 200 },
    reconnect: { minDelayMs: 100, maxDelayMs: 400 },
  });
  const states: ConnectionState[] = [];
  subscriber.on('state', ({ state }) => states.push(state));
  const { received, ready } = s.listen(subscriber, topic);
  await waitFor(() => subscriber.state === 'degraded', 'degraded');
  await ready; // subscribed by polling
  const ownAcks: number[] = [];
  const published = await s.stream(topic, rate, 3000, async () => {
    await sleep(1000);
    // its own publishes go over HTTP, in order, with seq and mid in the ack
    for (let n = 0; n < 5; n++) {
      const ack = (await subscriber.publish(topic, { p: 9, n })) as { seq: number; mid: string };
      expect(typeof ack.mid).toBe('string');
      ownAcks.push(ack.seq);
    }
    expect(subscriber.state).toBe('degraded');
    await sleep(500);
    proxy.refuse = false;
    await waitFor(() => subscriber.state === 'open', 'back on the WebSocket', 10_000);
  });
  const all = [...published, ...ownAcks.map((seq, n) => ({ seq, p: 9, n }))];
  await expectExactlyOnceInOrder(received, all);
  expect(states).toEqual(expect.arrayContaining(['degraded', 'open']));
  expect(states.indexOf('open')).toBeGreaterThan(states.indexOf('degraded'));
  expect(subscriber.stats.connections).toBe(1);
  return { states };
}

/** Two publishers and a server that delivers out of order: the subscriber hands them out in seq order. */
export async function outOfOrder(s: Scenario, rate = 50): Promise<{ outOfOrderOnTheWire: number }> {
  const topic = s.target.topic('order');
  const subscriber = s.client('subscriber');
  const wire: number[] = [];
  subscriber.on('frame', ({ direction, text }) => {
    if (direction !== 'in') return;
    const frame = JSON.parse(text) as { type: string; seq?: number; topic?: string };
    if (frame.type === 'message' && frame.topic === topic) wire.push(frame.seq!);
  });
  const { received, ready } = s.listen(subscriber, topic);
  await ready;
  s.target.scramble!(true);
  try {
    const published = await s.stream(topic, rate, 2000);
    await expectExactlyOnceInOrder(received, published);
  } finally {
    s.target.scramble!(false);
  }
  const outOfOrderOnTheWire = wire.filter((seq, i) => i > 0 && seq < wire[i - 1]!).length;
  expect(outOfOrderOnTheWire).toBeGreaterThan(0); // the scenario did reorder something
  return { outOfOrderOnTheWire };
}
