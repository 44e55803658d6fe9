/**
 * $disconnect: removes the connection item and all its subscriptions. Best effort by
 * nature (API Gateway may never send it; TTL cleans up then), and idempotent: a duplicate
 * or late event, or a row already gone, answers 200. Never throws.
 */
import {
  handlerScope,
  requestContextOf,
  stringField,
  type LambdaContextLike,
  type WebSocketResult,
} from '@wskit/shared';

const scope = handlerScope('wskit-disconnect');
const getLogger = scope.logger;
const getStore = scope.store;

export async function handler(event: unknown, context?: LambdaContextLike): Promise<WebSocketResult> {
  const requestContext = requestContextOf(event);
  const requestId = stringField(requestContext.requestId, 128) ?? context?.awsRequestId;
  const connectionId = stringField(requestContext.connectionId, 128);
  let log = getLogger();
  try {
    log = log.child({ requestId, connectionId });
    if (!connectionId) {
      log.warn('ignored: the event has no requestContext.connectionId');
      return { statusCode: 400, body: 'Bad Request: not an API Gateway WebSocket $disconnect event' };
    }
    const result = await getStore().deleteConnection(connectionId);
    log.info('disconnected', {
      ...result,
      disconnectStatusCode: requestContext.disconnectStatusCode,
      disconnectReason: stringField(requestContext.disconnectReason, 256),
    });
    return { statusCode: 200 };
  } catch (error) {
    // The rows expire with their TTL; report the failure without throwing.
    log.error('disconnect cleanup failed', { error });
    return { statusCode: 500, body: `Internal Server Error (request id ${requestId ?? 'unknown'})` };
  }
}
