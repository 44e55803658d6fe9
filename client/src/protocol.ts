/** Wire protocol v1 frames as the client sees them. */

export interface ServerLimits {
  maxMessageBytes?: number;
  maxFrameBytes?: number;
  idleTimeoutSeconds?: number;
  maxConnectionSeconds?: number;
}

export interface WelcomeReply {
  type: 'welcome';
  id?: string;
  connectionId: string;
  userId?: string;
  limits?: ServerLimits;
}

export interface AckReply {
  type: 'ack';
  id?: string;
  [field: string]: unknown;
}

export interface PongReply {
  type: 'pong';
  id?: string;
  ts?: number;
}

export interface ErrorReply {
  type: 'error';
  id?: string;
  code: string;
  message?: string;
}

/** A message the server pushes to a subscriber. */
export interface PushedMessage<T = unknown> {
  type: 'message';
  topic: string;
  data: T;
  /** Unique id of the message: the client drops a copy whose mid it has already delivered. */
  mid?: string;
  ts?: number;
  seq?: number;
}

/** Any reply frame; `request()` resolves with the reply (never with an error reply). */
export type Reply = WelcomeReply | AckReply | PongReply | { type: string; id?: string; [field: string]: unknown };

export { TOPIC_PATTERN } from '@wskit/protocol';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
