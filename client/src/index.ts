export { connect, WskitClient } from './client';
export type {
  ClientEvents,
  ClientExtension,
  ClientObserver,
  ClientStats,
  CloseReason,
  ConnectOptions,
  ConnectionState,
  ExtensionHost,
  MessageHandler,
  Quality,
  QualitySnapshot,
  RequestOptions,
  RotationReason,
  SubscribeOptions,
  Unsubscribe,
  WebSocketConstructor,
  WebSocketLike,
} from './types';
export { WskitError } from './errors';
export type { ClientErrorCode, ServerErrorCode, WskitErrorCode } from './errors';
export type { Environment, EnvironmentEvent } from './environment';
export type { AckReply, ErrorReply, HistoryReply, PongReply, PushedMessage, Reply, ServerLimits, WelcomeReply } from './protocol';
export type { TokenProvider, TokenRefreshReason } from './token';
export type { BackoffOptions } from './backoff';
export { qualityMonitor } from './quality';
export type { QualityMonitor, QualityOptions } from './quality';
export { metricsReporter } from './reporter';
export type { MetricsReporter, ReporterOptions } from './reporter';
export { newTraceparent } from './trace';
export { CLIENT_VERSION } from './version';
