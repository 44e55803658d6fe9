/**
 * Client reports as the local gateway sees them. A client's `report` frame reaches the
 * message function, which turns it into one CloudWatch EMF line on its stdout (metrics
 * `ClientReports`, `ClientReconnects`, `ClientRttP95`, ..., dimension `ClientVersion`). In
 * AWS, CloudWatch reads those lines; here the gateway reads them from the function's output:
 * parsed into a short entry, kept in a bounded list (`GET /dev/reports`), and handed to a
 * callback (`npm start` prints one human line per report).
 *
 * The line is JSON a function wrote, and its numbers came from a client: it is parsed
 * defensively (bounded length, own properties only, numbers range-checked, the version
 * checked against the protocol's pattern) and whatever is printed is escaped.
 */
import type * as http from 'node:http';
import { CLIENT_VERSION_PATTERN, QUALITY_STATES, REPORT_COUNTERS, type QualityState, type ReportCounter } from '@wskit/protocol';
import { discardBody, jsonResponse } from './http-util';
import type { FunctionLogSink } from './lambda-host';
import { escapeLogText } from './log-escape';

/** One client report, as the gateway read it from the function's metrics line. */
export interface ClientReportEntry {
  /** When the gateway read the line (ISO 8601). */
  receivedAt: string;
  /** The client's `clientVersion` (the metric dimension). */
  clientVersion: string;
  /** The period the report covers. */
  periodMs?: number;
  /** The counters the report carried (deltas over the period). */
  counters: Partial<Record<ReportCounter, number>>;
  /** Round trips measured in the period. */
  rttMs?: { p50?: number; p95?: number };
  /** Milliseconds spent in each quality state during the period. */
  qualityMs?: Partial<Record<QualityState, number>>;
}

/** Longest line looked at: a report's metrics line is under 1 KB. */
export const MAX_REPORT_LINE_CHARS = 16 * 1024;
/** Reports kept for `GET /dev/reports`. */
export const REPORTS_KEPT = 50;
/** Larger than any count or duration a valid report can hold (the protocol caps them at 1e9). */
const MAX_VALUE = 1_000_000_000;

const own = (record: Record<string, unknown>, key: string): unknown => (Object.hasOwn(record, key) ? record[key] : undefined);
const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_VALUE ? Math.round(value) : undefined;
const capitalized = (name: string) => `${name[0]!.toUpperCase()}${name.slice(1)}`;

/** True when the EMF directive of `line` declares the `ClientReports` metric. */
function declaresClientReports(line: Record<string, unknown>): boolean {
  const aws = own(line, '_aws');
  if (!isRecord(aws)) return false;
  const directives = own(aws, 'CloudWatchMetrics');
  if (!Array.isArray(directives)) return false;
  return directives.slice(0, 10).some((directive) => {
    if (!isRecord(directive)) return false;
    const metrics = own(directive, 'Metrics');
    return Array.isArray(metrics) && metrics.slice(0, 100).some((metric) => isRecord(metric) && own(metric, 'Name') === 'ClientReports');
  });
}

/**
 * The report in one line of a function's output, or undefined when the line is not a client
 * report's metrics line (any other log line, or one that does not hold together).
 */
export function parseClientReportLine(line: string, receivedAt = new Date()): ClientReportEntry | undefined {
  if (line.length > MAX_REPORT_LINE_CHARS || !line.startsWith('{') || !line.includes('"ClientReports"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || !declaresClientReports(parsed)) return undefined;
  if (!(count(own(parsed, 'ClientReports')) ?? 0)) return undefined;
  const clientVersion = own(parsed, 'ClientVersion');
  if (typeof clientVersion !== 'string' || !CLIENT_VERSION_PATTERN.test(clientVersion)) return undefined;

  const entry: ClientReportEntry = { receivedAt: receivedAt.toISOString(), clientVersion, counters: {} };
  const periodMs = count(own(parsed, 'periodMs'));
  if (periodMs !== undefined && periodMs > 0) entry.periodMs = periodMs;
  for (const name of REPORT_COUNTERS) {
    const value = count(own(parsed, `Client${capitalized(name)}`));
    if (value !== undefined) entry.counters[name] = value;
  }
  const p50 = count(own(parsed, 'ClientRttP50'));
  const p95 = count(own(parsed, 'ClientRttP95'));
  if (p50 !== undefined || p95 !== undefined) entry.rttMs = { ...(p50 !== undefined ? { p50 } : {}), ...(p95 !== undefined ? { p95 } : {}) };
  const qualityMs: Partial<Record<QualityState, number>> = {};
  for (const state of QUALITY_STATES) {
    const value = count(own(parsed, `ClientQuality${capitalized(state)}`));
    if (value !== undefined) qualityMs[state] = value;
  }
  if (Object.keys(qualityMs).length > 0) entry.qualityMs = qualityMs;
  return entry;
}

/** Each quality state's share of the time the report accounts for, in whole percent. */
export function qualityShares(qualityMs: ClientReportEntry['qualityMs']): Partial<Record<QualityState, number>> | undefined {
  if (!qualityMs) return undefined;
  const total = QUALITY_STATES.reduce((sum, state) => sum + (qualityMs[state] ?? 0), 0);
  if (total <= 0) return undefined;
  const shares: Partial<Record<QualityState, number>> = {};
  for (const state of QUALITY_STATES) shares[state] = Math.round(((qualityMs[state] ?? 0) / total) * 100);
  return shares;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * A report as one short line for a terminal, e.g.
 * `client report 0.1.0 over 30 s: 1 reconnect, rtt p95 42 ms (p50 12 ms), quality good 97% degraded 3% poor 0%, 12 messages, gaps 1 recovered 0 lost`.
 */
export function formatClientReport(entry: ClientReportEntry): string {
  const c = entry.counters;
  const parts: string[] = [];
  parts.push(plural(c.reconnects ?? 0, 'reconnect'));
  if (c.failedConnects) parts.push(plural(c.failedConnects, 'failed connect'));
  const rtt = entry.rttMs;
  parts.push(rtt?.p95 !== undefined ? `rtt p95 ${rtt.p95} ms${rtt.p50 !== undefined ? ` (p50 ${rtt.p50} ms)` : ''}` : 'rtt -');
  const shares = qualityShares(entry.qualityMs);
  parts.push(shares ? `quality ${QUALITY_STATES.map((state) => `${state} ${shares[state] ?? 0}%`).join(' ')}` : 'quality -');
  parts.push(plural(c.messagesReceived ?? 0, 'message'));
  if (c.recoveredGaps || c.unrecoveredGaps) parts.push(`gaps ${c.recoveredGaps ?? 0} recovered ${c.unrecoveredGaps ?? 0} lost`);
  const period = entry.periodMs === undefined ? '' : ` over ${Math.round(entry.periodMs / 1000)} s`;
  return escapeLogText(`client report ${entry.clientVersion}${period}: ${parts.join(', ')}`);
}

/** The latest reports, at most `capacity` of them, oldest dropped first. */
export class ClientReportLog {
  private readonly entries: ClientReportEntry[] = [];
  /** Reports read since the gateway started, the dropped ones included. */
  total = 0;

  constructor(readonly capacity = REPORTS_KEPT) {}

  add(entry: ClientReportEntry): void {
    this.total++;
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Newest first. */
  recent(): ClientReportEntry[] {
    return this.entries.slice().reverse();
  }
}

export interface ClientReportTapOptions {
  /** The function whose output carries the reports (the one behind the `report` route). */
  functionName: string;
  log: ClientReportLog;
  /** Called with each report; when given, the report's raw line is not passed on to `next`. */
  onReport?: (entry: ClientReportEntry) => void;
}

/**
 * A function log sink that reads the client reports out of the functions' raw output lines
 * and passes every line (but the reports taken by `onReport`) to `next`. Nothing thrown
 * here or by `onReport` reaches the function host.
 */
export function clientReportTap(o: ClientReportTapOptions, next: FunctionLogSink | undefined): FunctionLogSink {
  return (name, line) => {
    let taken = false;
    if (name === o.functionName) {
      try {
        const entry = parseClientReportLine(line);
        if (entry) {
          o.log.add(entry);
          if (o.onReport) {
            taken = true;
            o.onReport(entry);
          }
        }
      } catch {
        // a report callback's failure is not the gateway's
      }
    }
    if (!taken) next?.(name, line);
  };
}

/** `GET /dev/reports`: the latest client reports, newest first. */
export function createReportsEndpoint(log: ClientReportLog) {
  return async function reports(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    await discardBody(req);
    if (req.method !== 'GET') return jsonResponse(res, 405, { message: 'GET /dev/reports' }, { Allow: 'GET' });
    return jsonResponse(res, 200, { reports: log.recent(), total: log.total, kept: log.capacity }, { 'Cache-Control': 'no-store' });
  };
}
