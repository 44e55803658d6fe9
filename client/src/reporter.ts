/**
 * An opt-in metrics reporter: every `intervalMs` it sends a compact `ClientReport` over the
 * client's WebSocket as the `report` action. Reports made while no connection is open wait,
 * at most `maxPending` of them (the oldest is dropped first); a report the server refuses
 * (RATE_LIMITED or otherwise) is dropped, never retried forever. An app that does not import
 * it does not ship it.
 */
import type { ClientReport, ReportCounter } from '@wskit/protocol';
import type { WskitError } from './errors';
import { qualityMonitor, type QualityMonitor } from './quality';
import type { ClientExtension, ClientStats } from './types';
import { CLIENT_VERSION } from './version';

export interface ReporterOptions {
  /** How often a report is made. Default 60 000 ms. */
  intervalMs?: number;
  /** Reports kept while offline; beyond, the oldest is dropped. Default 10. */
  maxPending?: number;
  /** The quality monitor whose measurements go in the reports (pass the one in `extensions`); default: one of its own. */
  quality?: QualityMonitor;
}

export interface MetricsReporter extends ClientExtension {
  /** Reports waiting for a connection. */
  readonly pending: number;
  /** Reports the server acknowledged, and reports dropped (overflow or refused). */
  readonly sent: number;
  readonly dropped: number;
}

const COUNTERS: Array<[ReportCounter, keyof ClientStats]> = [
  ['reconnects', 'reconnects'],
  ['failedConnects', 'failedConnects'],
  ['messagesReceived', 'messagesDelivered'],
  ['recoveredGaps', 'recoveredGaps'],
  ['unrecoveredGaps', 'unrecoveredGaps'],
];

export function metricsReporter(options: ReporterOptions = {}): MetricsReporter {
  const intervalMs = options.intervalMs ?? 60_000;
  const maxPending = options.maxPending ?? 10;
  if (!(intervalMs >= 1 && intervalMs <= 3_600_000)) throw new RangeError(`metricsReporter({ intervalMs }): expected 1 to 3 600 000, got ${intervalMs}`);
  const quality = options.quality ?? qualityMonitor();
  const queue: ClientReport[] = [];
  let sent = 0;
  let dropped = 0;
  let sending = false;

  const reporter: MetricsReporter = {
    get pending() {
      return queue.length;
    },
    get sent() {
      return sent;
    },
    get dropped() {
      return dropped;
    },
    attach(host) {
      const client = host.client;
      const detachQuality = options.quality ? undefined : quality.attach(host);
      let last = client.stats;
      let periodStart = Date.now();

      const send = () => {
        if (sending || queue.length === 0 || client.state !== 'open') return;
        sending = true;
        client.request('report', { report: queue[0] }, { queue: false }).then(
          () => {
            queue.shift();
            sent++;
            sending = false;
            send();
          },
          (error: WskitError) => {
            sending = false;
            if (error.code === 'NOT_CONNECTED' || error.code === 'CONNECTION_LOST' || error.code === 'TIMEOUT') return; // again once open
            if (error.code === 'CLOSED') return;
            // Refused (RATE_LIMITED, BAD_REQUEST...): this report is dropped, not retried.
            queue.shift();
            dropped++;
            send();
          },
        );
      };

      const report = () => {
        const now = Date.now();
        const stats = client.stats;
        const counters: ClientReport['counters'] = {};
        for (const [name, stat] of COUNTERS) counters[name] = (stats[stat] as number) - (last[stat] as number);
        last = stats;
        const { rttMs, qualityMs } = quality.takePeriod();
        const entry: ClientReport = { clientVersion: CLIENT_VERSION, periodMs: Math.max(1, now - periodStart), counters, qualityMs };
        if (rttMs) entry.rttMs = rttMs;
        periodStart = now;
        if (queue.push(entry) > maxPending) {
          queue.shift();
          dropped++;
        }
        send();
      };

      const timer = setInterval(report, intervalMs);
      host.observe({ state: (state) => state === 'open' && send() });
      return () => {
        clearInterval(timer);
        detachQuality?.();
      };
    },
  };
  return reporter;
}
