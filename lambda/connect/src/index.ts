/**
 * $connect: records the connection (the authorizer's userId verbatim, its token expiry,
 * source IP, user agent, connectedAt, TTL) and enforces the per-user connection cap exactly.
 *
 * 200: connected. 401: no usable identity in the authorizer context. 429: the user is at the
 * cap (nothing kept). 500: unexpected failure (logged with the request id, counted as
 * `Faults`). Never throws.
 */
import {
  ConnectionStore,
  MessageSender,
  defineHandler,
  emitMetrics,
  lazy,
  maxConnectionsPerUserFromEnv,
  slotSettleSecondsFromEnv,
  serviceScope,
  sessionFromEvent,
  stringField,
  tableNameFromEnv,
  type Invocation,
  type WebSocketResult,
} from '@wskit/shared';

const SERVICE = 'wskit-connect';
const scope = serviceScope(SERVICE);
const settings = lazy(() => ({ tableName: tableNameFromEnv(), cap: maxConnectionsPerUserFromEnv(), settleMs: slotSettleSecondsFromEnv() * 1000 }));
const store = lazy(() => new ConnectionStore({ tableName: settings().tableName, logger: scope.logger() }));

const reply = (statusCode: number, body?: string): WebSocketResult => (body === undefined ? { statusCode } : { statusCode, body });

export const handler = defineHandler<WebSocketResult>({
  service: SERVICE,
  async run(invocation) {
    const { requestContext, connectionId } = invocation;
    if (!connectionId) {
      invocation.log.warn('refused: the event has no requestContext.connectionId');
      return reply(400, 'Bad Request: not an API Gateway WebSocket $connect event');
    }
    const session = sessionFromEvent(invocation.event);
    if (!session) {
      invocation.log.warn('refused: no usable identity in the authorizer context (userId); is the authorizer attached to $connect?');
      emitMetrics(scope.metrics(), { Refused: 1 }, { properties: { reason: 'no identity' } });
      return reply(401, 'Unauthorized');
    }
    invocation.annotate({ userId: session.userId });

    const { cap, settleMs } = settings();
    const connectedAt = Number.isFinite(requestContext.connectedAt)
      ? Number(requestContext.connectedAt)
      : Number.isFinite(requestContext.requestTimeEpoch)
        ? Number(requestContext.requestTimeEpoch)
        : Date.now();
    const admission = await store().admitConnection(
      {
        connectionId,
        userId: session.userId,
        connectedAt,
        sourceIp: stringField(requestContext.identity?.sourceIp, 64),
        userAgent: stringField(requestContext.identity?.userAgent, 512),
        tokenExp: session.exp,
      },
      { cap, settleMs, isGone: (id) => isGone(invocation, id) },
    );
    if (!admission.admitted) {
      invocation.log.warn('refused: per-user connection cap reached', { open: admission.open, cap });
      emitMetrics(scope.metrics(), { Refused: 1 }, { properties: { reason: 'connection cap' } });
      return reply(429, `Too Many Connections: this user already has ${admission.open} open connections, the limit is ${cap}; close one and retry`);
    }
    invocation.log.info('connected', { expiresAt: admission.record.expiresAt });
    emitMetrics(scope.metrics(), { Connected: 1 });
    return reply(200);
  },
  fault: (invocation) => reply(500, `Internal Server Error (request id ${invocation.requestId ?? 'unknown'})`),
});

/**
 * Asks API Gateway (GetConnection) whether a connection holding one of the user's slots is
 * gone: a lost $disconnect must not lock a user out. Needs `execute-api:ManageConnections`
 * (GET) on the stage. Without a callback endpoint it cannot tell (undefined).
 */
async function isGone(invocation: Invocation, connectionId: string): Promise<boolean | undefined> {
  let sender: MessageSender;
  try {
    sender = MessageSender.forApi(
      { apiId: stringField(invocation.requestContext.apiId, 128), stage: stringField(invocation.requestContext.stage, 128) },
      { requestTimeoutMs: 1000, context: invocation.remaining },
    );
  } catch (error) {
    invocation.log.debug('cannot check for gone connections: no callback endpoint', { error });
    return undefined;
  }
  return (await sender.connectionInfo(connectionId)) === undefined;
}
