/**
 * The frames of wire protocol v1 as the client names them. The shapes come from
 * @wskit/protocol; what is here is only the client's own view of them.
 */
import type { AckFrame, ErrorFrame, HistoryReplyFrame, MessageFrame, PongFrame, ServerLimits, WelcomeFrame } from '@wskit/protocol';

export type { ServerLimits };
export type WelcomeReply = WelcomeFrame;
export type AckReply = AckFrame;
export type PongReply = PongFrame;
export type ErrorReply = ErrorFrame;
export type HistoryReply = HistoryReplyFrame;

/** A message the server pushes to a subscriber (`seq` is absent on servers without recovery). */
export type PushedMessage<T = unknown> = MessageFrame<T>;

/** Any reply frame; `request()` resolves with the reply (never with an error reply). */
export type Reply = WelcomeReply | AckReply | PongReply | HistoryReply | { type: string; id?: string; [field: string]: unknown };

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
