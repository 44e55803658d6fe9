/**
 * Wire protocol v1: the frames both sides exchange, and the hand-written validation of every
 * client frame. Client frames are UTF-8 JSON objects `{"action": ..., "id"?: ..., ...fields}`.
 * Validation never throws: it returns either a typed frame or an error with a protocol
 * code, plus the request id when the frame carried a valid one (so the reply can echo it).
 */
import { type ErrorCode } from './codes';
import { FORBIDDEN_KEYS, LIMITS, MAX_JSON_DEPTH, MAX_REQUEST_ID_LENGTH, utf8Bytes } from './limits';
import { topicProblem } from './topics';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Every action a client may send; each is also an API Gateway route key. */
export const ACTIONS = ['hello', 'ping', 'subscribe', 'unsubscribe', 'publish', 'sendmessage', 'history', 'report'] as const;
export type Action = (typeof ACTIONS)[number];

/** `history`: messages per page when the frame gives no `limit`, and the most it may ask for. */
export const HISTORY_DEFAULT_LIMIT = 100;
export const HISTORY_MAX_LIMIT = 1000;

/** W3C Trace Context `traceparent` (version 00): a frame may carry one for tracing. */
export const TRACEPARENT_PATTERN = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

interface FrameBase {
  id?: string;
  /** A valid W3C `traceparent`, when the frame carried one (an invalid one is ignored). */
  traceparent?: string;
}
export interface HelloFrame extends FrameBase {
  action: 'hello';
}
export interface PingFrame extends FrameBase {
  action: 'ping';
  ts?: number;
}
export interface SubscribeFrame extends FrameBase {
  action: 'subscribe';
  topic: string;
  /** Resume point: the last sequence number the client has of this topic. */
  since?: number;
}
export interface UnsubscribeFrame extends FrameBase {
  action: 'unsubscribe';
  topic: string;
}
export interface PublishFrame extends FrameBase {
  action: 'publish' | 'sendmessage';
  topic: string;
  data: JsonValue;
}
export interface HistoryFrame extends FrameBase {
  action: 'history';
  topic: string;
  /** Messages with a seq greater than this; default 0 (all that is retained). */
  since?: number;
  /** At most this many messages (1-1000); default 100. */
  limit?: number;
}
export interface ReportFrame extends FrameBase {
  action: 'report';
  report: ClientReport;
}
export type ClientFrame = HelloFrame | PingFrame | SubscribeFrame | UnsubscribeFrame | PublishFrame | HistoryFrame | ReportFrame;

/** Counters a client report may carry (each a whole number for the report's period). */
export const REPORT_COUNTERS = ['reconnects', 'failedConnects', 'messagesReceived', 'recoveredGaps', 'unrecoveredGaps'] as const;
export type ReportCounter = (typeof REPORT_COUNTERS)[number];
/** Connection quality states, in the order a report lists their time shares. */
export const QUALITY_STATES = ['good', 'degraded', 'poor'] as const;
export type QualityState = (typeof QUALITY_STATES)[number];

/** A client's summary of what its user experienced over `periodMs` (see the client SDK's reporter). */
export interface ClientReport {
  /** The SDK's version, e.g. `0.1.0` (a bounded metric dimension). */
  clientVersion: string;
  periodMs: number;
  counters: Partial<Record<ReportCounter, number>>;
  /** Round-trip times measured in the period. */
  rttMs?: { p50: number; p95: number; count: number };
  /** Milliseconds spent in each quality state during the period. */
  qualityMs?: Partial<Record<QualityState, number>>;
}
export const CLIENT_VERSION_PATTERN = /^[0-9A-Za-z.+-]{1,32}$/;
const REPORT_MAX_PERIOD_MS = 3_600_000;
const REPORT_MAX_COUNT = 1_000_000_000;

export interface ServerLimits {
  maxMessageBytes: number;
  maxFrameBytes: number;
  idleTimeoutSeconds: number;
  maxConnectionSeconds: number;
}
export interface WelcomeFrame {
  type: 'welcome';
  id?: string;
  connectionId: string;
  userId: string;
  limits: ServerLimits;
}
export interface PongFrame {
  type: 'pong';
  id?: string;
  ts?: number;
}
/** The reply to subscribe, unsubscribe, publish and report. */
export interface AckFrame {
  type: 'ack';
  id?: string;
  action: Action;
  topic?: string;
  /** subscribe: the topic's latest seq (0 when never published); publish: the seq assigned. */
  seq?: number;
  /** subscribe with `since`: whether every message after `since` is still retained. */
  recovered?: boolean;
  /** publish: the message id. */
  mid?: string;
  /** publish: the fan-out was handed off and runs after this ack. */
  queued?: boolean;
  /** publish: how the fan-out went (absent when queued). */
  delivered?: number;
  gone?: number;
  failed?: number;
}
/** The reply to `history` (and the body of the HTTP history endpoint). */
export interface HistoryReplyFrame {
  type: 'history';
  id?: string;
  topic: string;
  /** Message frames with seq > since, ascending. */
  messages: MessageFrame[];
  /** The topic's latest seq. */
  seq: number;
  /** Nothing newer than the last message of this page remains. */
  complete: boolean;
  /** Every message after `since` was still retained. */
  recovered: boolean;
}
export interface ErrorFrame {
  type: 'error';
  id?: string;
  code: ErrorCode;
  message: string;
  /** RATE_LIMITED: when to try again. */
  retryAfterMs?: number;
}
/** A message pushed to a topic's subscribers. */
export interface MessageFrame<T = JsonValue> {
  type: 'message';
  topic: string;
  data: T;
  /** Unique per publish: a client drops a copy whose mid it has already seen. */
  mid: string;
  /** Publish time, epoch milliseconds. */
  ts: number;
  /** Per topic, consecutive from 1. */
  seq?: number;
}
export type ServerFrame = WelcomeFrame | PongFrame | AckFrame | ErrorFrame | MessageFrame | HistoryReplyFrame;
export type ServerFrameType = ServerFrame['type'];

export interface FrameError {
  code: ErrorCode;
  message: string;
}
export type FrameResult = { ok: true; frame: ClientFrame } | { ok: false; error: FrameError; id?: string };

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_REQUEST_ID_LENGTH;
}

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

/** A short, safe rendering of untrusted input for an error message. */
function preview(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? typeof value);
  } catch {
    text = typeof value;
  }
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

const fail = (code: ErrorCode, message: string, id?: string): FrameResult =>
  id === undefined ? { ok: false, error: { code, message } } : { ok: false, error: { code, message }, id };

/**
 * Walks a parsed JSON value without recursion: refuses nesting deeper than MAX_JSON_DEPTH
 * and any FORBIDDEN_KEYS key. Returns a message describing the first problem, or undefined.
 */
export function checkJsonStructure(root: unknown): string | undefined {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return `frame is nested deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `key "${key}" is not allowed anywhere in a frame`;
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return undefined;
}

export interface FrameOptions {
  /** Largest body accepted (UTF-8 bytes); default 128 KB. */
  maxBytes?: number;
  /** Application routes that stand for a protocol action (e.g. `chat_message` -> `publish`). */
  aliases?: ReadonlyMap<string, Action>;
}

/** Parses and validates the body of a MESSAGE event. Never throws. */
export function parseClientFrame(body: unknown, options: FrameOptions = {}): FrameResult {
  const maxBytes = options.maxBytes ?? LIMITS.maxMessageBytes;
  if (body === null || body === undefined || body === '') {
    return fail('BAD_REQUEST', 'empty frame: send a JSON object such as {"action":"ping"}');
  }
  if (typeof body !== 'string') {
    return fail('BAD_REQUEST', 'frame must be a UTF-8 JSON text frame');
  }
  // Cheap bound first (a UTF-8 byte is at least one UTF-16 unit), exact count only when close.
  if (body.length > maxBytes || (body.length * 3 > maxBytes && utf8Bytes(body) > maxBytes)) {
    return fail('PAYLOAD_TOO_LARGE', `frame is over ${maxBytes} bytes: send less data per message`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return fail('BAD_REQUEST', 'frame is not valid JSON: send a JSON object such as {"action":"ping"}');
  }
  return validateClientFrame(parsed, options);
}

/** Validates an already parsed frame. Never throws; unknown extra fields are ignored. */
export function validateClientFrame(value: unknown, options: Pick<FrameOptions, 'aliases'> = {}): FrameResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('BAD_REQUEST', 'frame must be a JSON object with an "action" field');
  }
  const frame = value as Record<string, unknown>;

  let id: string | undefined;
  if (Object.hasOwn(frame, 'id')) {
    if (!isValidRequestId(frame.id)) {
      return fail('BAD_REQUEST', `"id" must be a string of at most ${MAX_REQUEST_ID_LENGTH} characters`);
    }
    id = frame.id;
  }

  const structureProblem = checkJsonStructure(frame);
  if (structureProblem) return fail('BAD_REQUEST', structureProblem, id);

  const named = Object.hasOwn(frame, 'action') ? frame.action : undefined;
  if (typeof named !== 'string') {
    return fail('BAD_REQUEST', `"action" must be a string, one of: ${ACTIONS.join(', ')}`, id);
  }
  const action = isAction(named) ? named : (options.aliases?.get(named) ?? named);
  if (!isAction(action)) {
    return fail('UNKNOWN_ACTION', `unknown action ${preview(action)}: use one of ${ACTIONS.join(', ')}`, id);
  }
  const field = (name: string): unknown => (Object.hasOwn(frame, name) ? frame[name] : undefined);
  const traceparent = field('traceparent');
  const traced = typeof traceparent === 'string' && TRACEPARENT_PATTERN.test(traceparent) ? traceparent : undefined;
  const withId = <T extends ClientFrame>(f: T): FrameResult => {
    const out: T = id === undefined ? f : { ...f, id };
    if (traced !== undefined) out.traceparent = traced;
    return { ok: true, frame: out };
  };
  const sequence = (name: string, what: string): number | string | undefined => {
    const value = field(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return `"${name}" must be a whole number >= 0 (${what})`;
    return value;
  };

  switch (action) {
    case 'hello':
      return withId({ action });
    case 'ping': {
      const ts = field('ts');
      if (ts === undefined) return withId({ action });
      if (typeof ts !== 'number' || !Number.isFinite(ts)) {
        return fail('BAD_REQUEST', '"ts" must be a finite number (for example Date.now())', id);
      }
      return withId({ action, ts });
    }
    case 'subscribe':
    case 'unsubscribe': {
      const topic = field('topic');
      const problem = topicProblem(topic);
      if (problem) return fail('BAD_REQUEST', problem, id);
      if (action === 'unsubscribe') return withId({ action, topic: topic as string });
      const since = sequence('since', 'a sequence number');
      if (typeof since === 'string') return fail('BAD_REQUEST', since, id);
      return withId(since === undefined ? { action, topic: topic as string } : { action, topic: topic as string, since });
    }
    case 'history': {
      const topic = field('topic');
      const problem = topicProblem(topic);
      if (problem) return fail('BAD_REQUEST', problem, id);
      const since = sequence('since', 'a sequence number');
      if (typeof since === 'string') return fail('BAD_REQUEST', since, id);
      const limit = field('limit');
      if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > HISTORY_MAX_LIMIT)) {
        return fail('BAD_REQUEST', `"limit" must be a whole number from 1 to ${HISTORY_MAX_LIMIT}`, id);
      }
      const history: HistoryFrame = { action, topic: topic as string };
      if (since !== undefined) history.since = since;
      if (limit !== undefined) history.limit = limit as number;
      return withId(history);
    }
    case 'report': {
      const report = parseClientReport(field('report'));
      if (typeof report === 'string') return fail('BAD_REQUEST', report, id);
      return withId({ action, report });
    }
    case 'publish':
    case 'sendmessage': {
      const topic = field('topic');
      const problem = topicProblem(topic);
      if (problem) return fail('BAD_REQUEST', problem, id);
      const data = field('data');
      if (data === undefined) {
        return fail('BAD_REQUEST', '"data" is required: any JSON value to deliver to the subscribers', id);
      }
      return withId({ action, topic: topic as string, data: data as JsonValue });
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function wholeNumber(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
}

/** Validates a client report: known fields only, bounded numbers. Returns the report or why not. */
export function parseClientReport(value: unknown): ClientReport | string {
  const usage = '"report" must be {clientVersion, periodMs, counters: {...}, rttMs?: {p50, p95, count}, qualityMs?: {good, degraded, poor}}';
  if (!isRecord(value)) return usage;
  const own = (record: Record<string, unknown>, key: string): unknown => (Object.hasOwn(record, key) ? record[key] : undefined);
  const clientVersion = own(value, 'clientVersion');
  if (typeof clientVersion !== 'string' || !CLIENT_VERSION_PATTERN.test(clientVersion)) {
    return '"report.clientVersion" must be 1-32 characters of letters, digits and . + -';
  }
  const periodMs = own(value, 'periodMs');
  if (!wholeNumber(periodMs, REPORT_MAX_PERIOD_MS) || periodMs === 0) return `"report.periodMs" must be a whole number from 1 to ${REPORT_MAX_PERIOD_MS}`;
  const rawCounters = own(value, 'counters');
  if (!isRecord(rawCounters)) return usage;
  const counters: ClientReport['counters'] = {};
  for (const name of REPORT_COUNTERS) {
    const count = own(rawCounters, name);
    if (count === undefined) continue;
    if (!wholeNumber(count, REPORT_MAX_COUNT)) return `"report.counters.${name}" must be a whole number >= 0`;
    counters[name] = count;
  }
  const report: ClientReport = { clientVersion, periodMs, counters };
  const rtt = own(value, 'rttMs');
  if (rtt !== undefined) {
    if (!isRecord(rtt)) return usage;
    const p50 = own(rtt, 'p50');
    const p95 = own(rtt, 'p95');
    const count = own(rtt, 'count');
    if (!wholeNumber(p50, REPORT_MAX_PERIOD_MS) || !wholeNumber(p95, REPORT_MAX_PERIOD_MS) || !wholeNumber(count, REPORT_MAX_COUNT) || p95 < p50) {
      return '"report.rttMs" must be {p50, p95, count}: whole milliseconds, p95 >= p50';
    }
    report.rttMs = { p50, p95, count };
  }
  const quality = own(value, 'qualityMs');
  if (quality !== undefined) {
    if (!isRecord(quality)) return usage;
    const shares: NonNullable<ClientReport['qualityMs']> = {};
    for (const state of QUALITY_STATES) {
      const ms = own(quality, state);
      if (ms === undefined) continue;
      if (!wholeNumber(ms, REPORT_MAX_PERIOD_MS)) return `"report.qualityMs.${state}" must be whole milliseconds within the period`;
      shares[state] = ms;
    }
    report.qualityMs = shares;
  }
  return report;
}

/** An error reply; the id is echoed when given. */
export function errorFrame(code: ErrorCode, message: string, id?: string, extra: { retryAfterMs?: number } = {}): ErrorFrame {
  const frame: ErrorFrame = id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message };
  if (extra.retryAfterMs !== undefined) frame.retryAfterMs = extra.retryAfterMs;
  return frame;
}

/** The frame pushed to subscribers; the one way every sender builds it. */
export function messageFrame<T = JsonValue>(message: { topic: string; data: T; mid: string; ts: number; seq?: number }): MessageFrame<T> {
  const frame: MessageFrame<T> = { type: 'message', topic: message.topic, data: message.data, mid: message.mid, ts: message.ts };
  if (message.seq !== undefined) frame.seq = message.seq;
  return frame;
}

/** The server's limits as the welcome frame states them. */
export function serverLimits(): ServerLimits {
  return {
    maxMessageBytes: LIMITS.maxMessageBytes,
    maxFrameBytes: LIMITS.maxFrameBytes,
    idleTimeoutSeconds: LIMITS.idleTimeoutSeconds,
    maxConnectionSeconds: LIMITS.maxConnectionSeconds,
  };
}
