import { isValidSubject } from '@wskit/protocol';

/**
 * The API Gateway WebSocket event shapes wskit reads, typed loosely on purpose: handlers
 * must survive any event, so every field is checked before use.
 */

export interface WebSocketIdentity {
  sourceIp?: string;
  userAgent?: string | null;
  [key: string]: unknown;
}

export interface WebSocketRequestContext {
  routeKey?: string;
  eventType?: 'CONNECT' | 'MESSAGE' | 'DISCONNECT' | string;
  connectionId?: string;
  requestId?: string;
  messageId?: string;
  extendedRequestId?: string;
  domainName?: string;
  stage?: string;
  apiId?: string;
  /** Epoch milliseconds. */
  connectedAt?: number;
  requestTimeEpoch?: number;
  identity?: WebSocketIdentity;
  /** What the REQUEST authorizer returned as context, plus principalId and integrationLatency. */
  authorizer?: Record<string, unknown> | null;
  disconnectStatusCode?: number;
  disconnectReason?: string;
  [key: string]: unknown;
}

export interface WebSocketEvent {
  requestContext?: WebSocketRequestContext;
  body?: string | null;
  isBase64Encoded?: boolean;
  headers?: Record<string, string | undefined>;
  [key: string]: unknown;
}

/** What a WebSocket route integration returns. */
export interface WebSocketResult {
  statusCode: number;
  body?: string;
}

/** The part of the Lambda context wskit uses. */
export interface LambdaContextLike {
  awsRequestId?: string;
  getRemainingTimeInMillis?: () => number;
}

/** The signed-in user, from `requestContext.authorizer` (the authorizer context described in the repository README). */
export interface Session {
  userId: string;
  /** Space-separated scopes, "" when none. */
  scope: string;
  /** Token expiry, epoch seconds; undefined when the authorizer gave none. */
  exp: number | undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Reads the authorizer context. Values may arrive as strings ("1767225600"), so they are
 * converted. Returns undefined when there is no userId that is a valid subject.
 */
export function sessionFromEvent(event: unknown): Session | undefined {
  const requestContext = asRecord(asRecord(event)?.requestContext);
  return sessionFromContext(asRecord(requestContext?.authorizer));
}

/**
 * The session of an HTTP API request (payload 2.0): the Lambda authorizer's context, which
 * API Gateway puts under `requestContext.authorizer.lambda`.
 */
export function sessionFromHttpEvent(event: unknown): Session | undefined {
  const requestContext = asRecord(asRecord(event)?.requestContext);
  return sessionFromContext(asRecord(asRecord(requestContext?.authorizer)?.lambda));
}

/** The IAM principal (its ARN) of an HTTP API request authorized with AWS_IAM. */
export function iamPrincipalFromHttpEvent(event: unknown): string | undefined {
  const requestContext = asRecord(asRecord(event)?.requestContext);
  const iam = asRecord(asRecord(requestContext?.authorizer)?.iam);
  return stringField(iam?.userArn, 2048);
}

function sessionFromContext(authorizer: Record<string, unknown> | undefined): Session | undefined {
  if (!authorizer) return undefined;
  // The verified subject, verbatim: never trimmed or normalised into someone else's.
  const userId = Object.hasOwn(authorizer, 'userId') ? authorizer.userId : authorizer.principalId;
  if (!isValidSubject(userId)) return undefined;
  const scope = typeof authorizer.scope === 'string' ? authorizer.scope : '';
  const rawExp = authorizer.exp;
  const exp = typeof rawExp === 'number' || (typeof rawExp === 'string' && rawExp.trim() !== '') ? Number(rawExp) : NaN;
  return { userId, scope, exp: Number.isFinite(exp) ? exp : undefined };
}

/** The requestContext when the event has one, else an empty object. */
export function requestContextOf(event: unknown): WebSocketRequestContext {
  return (asRecord(asRecord(event)?.requestContext) ?? {}) as WebSocketRequestContext;
}

export function stringField(value: unknown, maxLength = 1024): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, maxLength) : undefined;
}
