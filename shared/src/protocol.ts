/**
 * Wire protocol v1: frame types and the hand-written validation of every client frame.
 *
 * Client frames are UTF-8 JSON objects `{"action": ..., "id"?: ..., ...fields}`. Validation
 * never throws: it returns either a typed frame or an error with a protocol code, plus the
 * request id when the frame carried a valid one (so the reply can echo it).
 */
import type { ErrorCode } from './errors';
import { LIMITS } from './limits';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const ACTIONS = ['hello', 'ping', 'subscribe', 'unsubscribe', 'publish', 'sendmessage'] as const;
export type Action = (typeof ACTIONS)[number];

export const TOPIC_PATTERN = /^[A-Za-z0-9_.:/-]{1,128}$/;
export const MAX_REQUEST_ID_LENGTH = 128;
/** Deepest nesting accepted in a frame (objects and arrays). */
export const MAX_JSON_DEPTH = 32;
/** Keys refused anywhere in a frame: they can reach an object's prototype when copied. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

interface FrameBase {
  id?: string;
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
  /** Resume point (a sequence number); accepted and validated, replay arrives with a later issue. */
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
export type ClientFrame = HelloFrame | PingFrame | SubscribeFrame | UnsubscribeFrame | PublishFrame;

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
export interface AckFrame {
  type: 'ack';
  id?: string;
  action: Action;
  topic?: string;
  [extra: string]: JsonValue | undefined;
}
export interface ErrorFrame {
  type: 'error';
  id?: string;
  code: ErrorCode;
  message: string;
}
export interface MessageFrame {
  type: 'message';
  topic: string;
  data: JsonValue;
  mid: string;
  ts: number;
  seq?: number;
}
export type ServerFrame = WelcomeFrame | PongFrame | AckFrame | ErrorFrame | MessageFrame;

export interface FrameError {
  code: ErrorCode;
  message: string;
}
export type FrameResult =
  | { ok: true; frame: ClientFrame }
  | { ok: false; error: FrameError; id?: string };

export function isValidTopic(value: unknown): value is string {
  return typeof value === 'string' && TOPIC_PATTERN.test(value);
}

export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_REQUEST_ID_LENGTH;
}

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

/** UTF-8 byte length of a string. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
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

/** Parses and validates the body of a MESSAGE event. Never throws. */
export function parseClientFrame(body: unknown, maxBytes: number = LIMITS.maxMessageBytes): FrameResult {
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
  return validateClientFrame(parsed);
}

/** Validates an already parsed frame. Never throws; unknown extra fields are ignored. */
export function validateClientFrame(value: unknown): FrameResult {
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

  const action = frame.action;
  if (!Object.hasOwn(frame, 'action') || typeof action !== 'string') {
    return fail('BAD_REQUEST', `"action" must be a string, one of: ${ACTIONS.join(', ')}`, id);
  }
  if (!isAction(action)) {
    return fail('UNKNOWN_ACTION', `unknown action ${preview(action)}: use one of ${ACTIONS.join(', ')}`, id);
  }
  const withId = <T extends ClientFrame>(f: T): FrameResult => ({ ok: true, frame: id === undefined ? f : { ...f, id } });

  switch (action) {
    case 'hello':
      return withId({ action });
    case 'ping': {
      if (!Object.hasOwn(frame, 'ts')) return withId({ action });
      const ts = frame.ts;
      if (typeof ts !== 'number' || !Number.isFinite(ts)) {
        return fail('BAD_REQUEST', '"ts" must be a finite number (for example Date.now())', id);
      }
      return withId({ action, ts });
    }
    case 'subscribe':
    case 'unsubscribe': {
      const topicError = checkTopic(frame);
      if (topicError) return fail('BAD_REQUEST', topicError, id);
      const topic = frame.topic as string;
      if (action === 'unsubscribe') return withId({ action, topic });
      if (!Object.hasOwn(frame, 'since')) return withId({ action, topic });
      const since = frame.since;
      if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
        return fail('BAD_REQUEST', '"since" must be a whole number >= 0 (a sequence number)', id);
      }
      return withId({ action, topic, since });
    }
    case 'publish':
    case 'sendmessage': {
      const topicError = checkTopic(frame);
      if (topicError) return fail('BAD_REQUEST', topicError, id);
      if (!Object.hasOwn(frame, 'data') || frame.data === undefined) {
        return fail('BAD_REQUEST', '"data" is required: any JSON value to deliver to the subscribers', id);
      }
      return withId({ action, topic: frame.topic as string, data: frame.data as JsonValue });
    }
  }
}

function checkTopic(frame: Record<string, unknown>): string | undefined {
  if (!Object.hasOwn(frame, 'topic')) return '"topic" is required';
  if (!isValidTopic(frame.topic)) {
    return `"topic" must match ${TOPIC_PATTERN.source} (1-128 of letters, digits and _ . : / -)`;
  }
  return undefined;
}

/** An error reply; the id is echoed when given. */
export function errorFrame(code: ErrorCode, message: string, id?: string): ErrorFrame {
  return id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message };
}
