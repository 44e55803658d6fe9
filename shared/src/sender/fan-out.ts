/**
 * Fan-out: one payload to many connections, as many requests in flight as the management
 * API takes (AIMD on its 429s), gone connections removed in batches, one metrics line.
 */
import type { Logger } from '../logger';
import { emitMetrics } from '../metrics';
import type { ConnectionStore } from '../store';
import type { FanOutMetricsOptions, FanOutOptions, FanOutSummary, SendOptions, SendResult } from './types';

export interface AttemptHooks {
  /** A request is about to start; returns its ticket (a sequence number). */
  started(): number;
  succeeded(): void;
  throttled(ticket: number): void;
  /** Gone connections are handed over for batched removal instead of removed one by one. */
  gone?: (connectionId: string) => void;
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

/**
 * A token bucket whose rate halves on a throttle (once per second at most) and climbs back
 * to `perSecond` by a tenth of it per second.
 */
export class Pace {
  private tokens: number;
  private rate: number;
  private last: number;
  private lastCut = -Infinity;
  lowestRate: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.rate = perSecond;
    this.lowestRate = perSecond;
    this.tokens = burst;
    this.last = now();
  }

  /** Milliseconds to wait before the next request may start (0: now, and its token is taken). */
  take(): number {
    this.refresh();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, ((1 - this.tokens) / this.rate) * 1000);
  }

  /** Brings the rate (climbing back) and the tokens up to now. */
  private refresh(): void {
    const t = this.now();
    const elapsed = (t - this.last) / 1000;
    this.last = t;
    this.rate = Math.min(this.perSecond, this.rate + elapsed * this.perSecond * 0.1);
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
  }

  throttled(): void {
    this.refresh();
    const t = this.last;
    if (t - this.lastCut < 1000) return;
    this.lastCut = t;
    this.rate = Math.max(this.perSecond / 64, this.rate / 2);
    this.tokens = Math.min(this.tokens, 0);
    this.lowestRate = Math.min(this.lowestRate, this.rate);
  }
}

/** Collects gone connection ids during a fan-out and removes them in batches. */
export class GoneRemover {
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


/** What a fan-out needs from its sender. */
export interface FanOutSender {
  /** Sends to one connection, reporting each attempt through the hooks; resolves every outcome. */
  attempt(connectionId: string, options: SendOptions, hooks: AttemptHooks): Promise<SendResult>;
  concurrency: number;
  store: ConnectionStore | undefined;
  logger: Logger | undefined;
  metrics: FanOutMetricsOptions | undefined;
}

/**
 * Runs a fan-out. The ids may come from an array or an async iterable (for example pages of
 * a subscribers Query, flattened), so the whole audience never has to sit in memory.
 * Duplicate ids are sent once.
 */
export async function runFanOut(
  sender: FanOutSender,
  connectionIds: Iterable<string> | AsyncIterable<string>,
  options: FanOutOptions,
): Promise<FanOutSummary> {
  const started = performance.now();
  const ceiling = Math.max(1, Math.floor(options.concurrency ?? sender.concurrency));
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
  const pace = options.pace && options.pace.perSecond > 0 ? new Pace(options.pace.perSecond, Math.max(1, options.pace.burst)) : undefined;
  const remover = new GoneRemover(sender.store, options.topic, sender.logger);
  const hooks: AttemptHooks = {
    started: () => limiter.ticket(),
    succeeded: () => limiter.onSuccess(),
    throttled: (ticket) => {
      summary.throttled++;
      limiter.onThrottle(ticket);
      pace?.throttled();
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
      if (pace) {
        for (let wait = pace.take(); wait > 0; wait = pace.take()) await new Promise<void>((resolve) => setTimeout(resolve, wait));
      }
      inFlight++;
      const task: Promise<void> = sender.attempt(connectionId, options, hooks).then(
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
          // attempt() resolves every outcome; this is a bug or an SDK load failure.
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
  if (sender.metrics) writeFanOutMetrics(sender.metrics, summary, options);
  return summary;
}

/** The fan-out summary as metric values. */
export function fanOutMetricValues(summary: FanOutSummary): Record<string, number> {
  return {
    Recipients: summary.total,
    Delivered: summary.delivered,
    Gone: summary.gone,
    Failed: summary.failed,
    Retried: summary.retried,
    Retries: summary.retries,
    Throttled: summary.throttled,
    FanOutDuration: summary.durationMs,
    FinalConcurrency: summary.concurrency.final,
  };
}

function writeFanOutMetrics(metrics: FanOutMetricsOptions, summary: FanOutSummary, options: FanOutOptions): void {
  const properties: Record<string, unknown> = { ...options.metricProperties };
  if (options.topic) properties.topic = options.topic;
  emitMetrics(metrics, fanOutMetricValues(summary), { units: { FanOutDuration: 'Milliseconds' }, properties });
}
