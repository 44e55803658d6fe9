export { connect, WskitClient } from './client';
export type {
  ClientEvents,
  ClientStats,
  CloseReason,
  ConnectOptions,
  ConnectionState,
  MessageHandler,
  RequestOptions,
  RotationReason,
  Unsubscribe,
  WebSocketConstructor,
  WebSocketLike,
} from './client';
export { WskitError } from './errors';
export type { ClientErrorCode, ServerErrorCode, WskitErrorCode } from './errors';
export type { Environment, EnvironmentEvent } from './environment';
export type { AckReply, ErrorReply, PongReply, PushedMessage, Reply, ServerLimits, WelcomeReply } from './protocol';
export type { TokenProvider, TokenRefreshReason } from './token';
export type { BackoffOptions } from './backoff';
