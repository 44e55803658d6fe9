/**
 * $connect: records the connection (the authorizer's userId, source IP, user agent,
 * connectedAt, TTL) and enforces the per-user connection cap.
 *
 * 200: connected. 401: no authorizer context. 429: the user is at the cap (nothing written).
 * 500: unexpected failure (logged with the request id). Never throws.
 */
import {
  ConnectionStore,
  createLogger,
  maxConnectionsPerUserFromEnv,
  requestContextOf,
  sessionFromEvent,
  stringField,
  tableNameFromEnv,
  type LambdaContextLike,
  type Logger,
  type WebSocketResult,
} from '@wskit/shared';

let logger: Logger | undefined;
let store: ConnectionStore | undefined;

function getLogger(): Logger {
  return (logger ??= createLogger('wskit-connect'));
}

function getStore(): ConnectionStore {
  const tableName = tableNameFromEnv();
  if (store?.tableName !== tableName) store = new ConnectionStore({ tableName, logger: getLogger() });
  return store;
}

const reply = (statusCode: number, body?: string): WebSocketResult => (body === undefined ? { statusCode } : { statusCode, body });

export async function handler(event: unknown, context?: LambdaContextLike): Promise<WebSocketResult> {
  const requestContext = requestContextOf(event);
  const requestId = stringField(requestContext.requestId, 128) ?? context?.awsRequestId;
  const connectionId = stringField(requestContext.connectionId, 128);
  let log = getLogger();
  try {
    log = log.child({ requestId, connectionId });
    if (!connectionId) {
      log.warn('refused: the event has no requestContext.connectionId');
      return reply(400, 'Bad Request: not an API Gateway WebSocket $connect event');
    }
    const session = sessionFromEvent(event);
    if (!session) {
      log.warn('refused: no authorizer context (userId); is the authorizer attached to $connect?');
      return reply(401, 'Unauthorized');
    }
    log = log.child({ userId: session.userId });

    const cap = maxConnectionsPerUserFromEnv();
    const connections = getStore();
    if (cap > 0) {
      const open = await connections.countConnectionsOfUser(session.userId);
      if (open >= cap) {
        log.warn('refused: per-user connection cap reached', { open, cap });
        return reply(
          429,
          `Too Many Connections: this user already has ${open} open connections, the limit is ${cap}; close one and retry`,
        );
      }
    }

    const connectedAt = Number.isFinite(requestContext.connectedAt)
      ? Number(requestContext.connectedAt)
      : Number.isFinite(requestContext.requestTimeEpoch)
        ? Number(requestContext.requestTimeEpoch)
        : Date.now();
    const stored = await connections.putConnection({
      connectionId,
      userId: session.userId,
      connectedAt,
      sourceIp: stringField(requestContext.identity?.sourceIp, 64),
      userAgent: stringField(requestContext.identity?.userAgent, 512),
    });
    log.info('connected', { expiresAt: stored.expiresAt });
    return reply(200);
  } catch (error) {
    log.error('connect failed', { error });
    return reply(500, `Internal Server Error (request id ${requestId ?? 'unknown'})`);
  }
}
