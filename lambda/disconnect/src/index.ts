/**
 * $disconnect: removes the connection item, its subscriptions and its user slot. Best effort
 * by nature (API Gateway may never send it; slots are reclaimed at the cap and TTL removes
 * rows then), and idempotent: a duplicate or late event, or a row already gone, answers 200.
 * Never throws.
 */
import { ConnectionStore, defineHandler, lazy, serviceScope, stringField, tableNameFromEnv, type WebSocketResult } from '@wskit/shared';

const SERVICE = 'wskit-disconnect';
const scope = serviceScope(SERVICE);
const store = lazy(() => new ConnectionStore({ tableName: tableNameFromEnv(), logger: scope.logger() }));

export const handler = defineHandler<WebSocketResult>({
  service: SERVICE,
  async run(invocation) {
    const { requestContext, connectionId } = invocation;
    if (!connectionId) {
      invocation.log.warn('ignored: the event has no requestContext.connectionId');
      return { statusCode: 400, body: 'Bad Request: not an API Gateway WebSocket $disconnect event' };
    }
    const result = await store().deleteConnection(connectionId);
    invocation.log.info('disconnected', {
      ...result,
      disconnectStatusCode: requestContext.disconnectStatusCode,
      disconnectReason: stringField(requestContext.disconnectReason, 256),
    });
    return { statusCode: 200 };
  },
  // The rows expire with their TTL and the slot is reclaimed at the cap.
  fault: (invocation) => ({ statusCode: 500, body: `Internal Server Error (request id ${invocation.requestId ?? 'unknown'})` }),
});
