/**
 * $connect: records the connection (the authorizer's userId, source IP, user agent,
 * connectedAt, TTL) and enforces the per-user connection cap.
 *
 * 200: connected. 401: no authorizer context. 429: the user is at the cap (nothing written).
 * 500: unexpected failure (logged with the request id). Never throws.
 */
import {
  handlerScope,
  ConnectionStore,
  MessageSender,
  maxConnectionsPerUserFromEnv,
  requestContextOf,
  sessionFromEvent,
  stringField,
  type LambdaContextLike,
  type Logger,
  type WebSocketRequestContext,
  type WebSocketResult,
} from '@wskit/shared';

const scope = handlerScope('wskit-connect');
const getLogger = scope.logger;
const getStore = scope.store;

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
      let open = await connections.countConnectionsOfUser(session.userId);
      if (open >= cap) open -= await pruneStaleConnections(connections, session.userId, requestContext, context, log);
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

/**
 * At the cap, asks API Gateway (GetConnection) which of the user's recorded connections
 * still exist, and removes the rows of those that are gone: a lost $disconnect must not
 * lock a user out until the rows expire. Needs `execute-api:ManageConnections` (GET) on
 * the stage; without it, or when no callback endpoint can be built, nothing is pruned and
 * the count stands. Returns how many rows were removed.
 */
async function pruneStaleConnections(
  connections: ConnectionStore,
  userId: string,
  requestContext: WebSocketRequestContext,
  context: LambdaContextLike | undefined,
  log: Logger,
): Promise<number> {
  let sender: MessageSender;
  try {
    sender = MessageSender.forApi(
      { apiId: stringField(requestContext.apiId, 128), stage: stringField(requestContext.stage, 128) },
      {
        requestTimeoutMs: 1000,
        context: typeof context?.getRemainingTimeInMillis === 'function' ? (context as Required<LambdaContextLike>) : undefined,
      },
    );
  } catch (error) {
    log.debug('cannot check for stale connections: no callback endpoint', { error });
    return 0;
  }
  const recorded = await connections.connectionsOfUser(userId);
  const outcomes = await Promise.all(
    recorded.map(async ({ connectionId }) => {
      try {
        if ((await sender.connectionInfo(connectionId)) !== undefined) return 0;
        await connections.deleteConnection(connectionId);
        return 1;
      } catch (error) {
        log.debug('could not check a connection; counting it as open', { staleCandidate: connectionId, error });
        return 0;
      }
    }),
  );
  const removed = outcomes.reduce<number>((sum, n) => sum + n, 0);
  if (removed > 0) log.info('removed stale connections of the user', { removed });
  return removed;
}
