/**
 * Connection quality, measured from what the client already does: the round-trip time of
 * every reply (heartbeat pings and requests) and how long the oldest unanswered request has
 * waited. Opt-in: `connect({ extensions: [qualityMonitor()] })`; an app that does not import
 * it does not ship it.
 */
import type { ClientExtension, ExtensionHost, Quality, QualitySnapshot } from './types';

export interface QualityOptions {
  /** p95 round trip or silence above this is `poor`. Default 2 000 ms. */
  poorMs?: number;
  /** p95 round trip or silence above this is `degraded`. Default 500 ms. */
  degradedMs?: number;
  /** Replies in the rolling window. Default 20. */
  windowSize?: number;
  /** Replies older than this leave the window. Default 60 000 ms. */
  windowMs?: number;
}

export interface QualityMonitor extends ClientExtension {
  /** The measurements now. */
  snapshot(): QualitySnapshot;
  /** What happened since the last call (for the metrics reporter): round trips and time per state. */
  takePeriod(): { rttMs?: { p50: number; p95: number; count: number }; qualityMs: Record<Quality, number> };
}

/** The value at fraction `p` of sorted values (nearest rank). */
const rank = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: Math.round(rank(sorted, 0.5)), p95: Math.round(rank(sorted, 0.95)), count: sorted.length };
};

/**
 * `good`, `degraded` or `poor` from the p95 round trip of the last replies and the silence of
 * the oldest unanswered request, whichever is worse; `poor` while no WebSocket is open.
 * Emits `quality` on the client once per change.
 */
export function qualityMonitor(options: QualityOptions = {}): QualityMonitor {
  const poorMs = options.poorMs ?? 2000;
  const degradedMs = options.degradedMs ?? 500;
  const windowSize = options.windowSize ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  if (!(degradedMs > 0 && poorMs > degradedMs)) {
    throw new RangeError(`qualityMonitor(): need 0 < degradedMs < poorMs (got ${degradedMs}, ${poorMs})`);
  }
  const window: Array<[at: number, ms: number]> = [];
  let period: number[] = [];
  let times: Record<Quality, number> = { good: 0, degraded: 0, poor: 0 };
  let current: Quality = 'poor';
  let changedAt = Date.now();
  let open = false;
  let lastFrame: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let host: ExtensionHost | undefined;

  const account = (now: number) => {
    times[current] += now - changedAt;
    changedAt = now;
  };

  const snapshot = (): QualitySnapshot => {
    const now = Date.now();
    while (window.length > 0 && window[0]![0] < now - windowMs) window.shift();
    const oldest = host?.oldestPendingAt();
    const snap: QualitySnapshot = { quality: current, silenceMs: oldest === undefined ? 0 : Math.max(0, now - oldest) };
    if (window.length > 0) snap.rttMs = summary(window.map(([, ms]) => ms));
    if (lastFrame !== undefined) snap.sinceLastFrameMs = now - lastFrame;
    return snap;
  };

  const evaluate = () => {
    clearTimeout(timer);
    timer = undefined;
    const snap = snapshot();
    const worst = Math.max(snap.rttMs?.p95 ?? 0, snap.silenceMs);
    const next: Quality = !open || worst > poorMs ? 'poor' : worst > degradedMs ? 'degraded' : 'good';
    if (next !== current) {
      const previous = current;
      account(Date.now());
      current = next;
      host?.emit('quality', { ...snap, quality: next, previous });
    }
    // Look again when the silence crosses the next threshold, or when the oldest reply leaves the window.
    const waits: number[] = [];
    if (host?.oldestPendingAt() !== undefined) {
      for (const threshold of [degradedMs, poorMs]) if (snap.silenceMs <= threshold) waits.push(threshold - snap.silenceMs + 1);
    }
    if (current !== 'good' && window.length > 0) waits.push(window[0]![0] + windowMs - Date.now() + 1);
    if (open && waits.length > 0) timer = setTimeout(evaluate, Math.max(1, Math.min(...waits)));
  };

  return {
    attach(h) {
      host = h;
      h.provideQuality(snapshot);
      h.observe({
        sent: evaluate,
        reply(ms) {
          window.push([Date.now(), ms]);
          if (window.length > windowSize) window.shift();
          period.push(ms);
          evaluate();
        },
        frame() {
          lastFrame = Date.now();
        },
        state(state) {
          open = state === 'open';
          evaluate();
        },
      });
      return () => clearTimeout(timer);
    },
    snapshot,
    takePeriod() {
      account(Date.now());
      const taken = { qualityMs: times, ...(period.length > 0 ? { rttMs: summary(period) } : {}) };
      times = { good: 0, degraded: 0, poor: 0 };
      period = [];
      return taken;
    },
  };
}
