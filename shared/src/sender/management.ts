/**
 * The connection to one stage's management API, kept in module scope: the SDK client (for
 * GetConnection and DeleteConnection, and PostToConnection with the `sdk` transport) and the
 * signed-HTTP poster that shares its credentials and keep-alive sockets.
 */
import { httpModules, managementApi, nodeHttpHandler, type ManagementClient } from '../aws';
import { tracingMiddleware } from '../tracing';
import { SignedPoster } from './signed-post';

/** The SDK client, and the signed-HTTP poster that shares its credentials and sockets. */
export interface ManagementConnection {
  client: ManagementClient;
  poster: SignedPoster;
}

/** Module scope: one management client (and keep-alive agent) per endpoint and Region. */
const clients = new Map<string, Promise<ManagementConnection>>();

async function createManagementConnection(
  endpoint: string,
  region: string,
  requestTimeoutMs: number,
  maxSockets: number,
): Promise<ManagementConnection> {
  const [{ ApiGatewayManagementApiClient }, { NodeHttpHandler }, [http, https]] = await Promise.all([
    managementApi(),
    nodeHttpHandler(),
    httpModules(),
  ]);
  const agentOptions = { keepAlive: true, maxSockets, keepAliveMsecs: 10_000 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region,
    // MessageSender owns retries, so it can honour the Lambda deadline.
    maxAttempts: 1,
    // Resolve the middleware stack once per command type, not on every send (fan-out
    // sends thousands of identical commands; this is a large share of the SDK's CPU).
    cacheMiddleware: true,
    requestHandler: new NodeHttpHandler({
      // Without this the SDK only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
      httpAgent,
      httpsAgent,
      connectionTimeout: 1000,
      requestTimeout: requestTimeoutMs,
    }),
  });
  client.middlewareStack.add(tracingMiddleware('ApiGatewayManagementApi'), { step: 'initialize', name: 'wskitTracing' });
  const secure = new URL(endpoint).protocol === 'https:';
  const poster = new SignedPoster({
    endpoint,
    region,
    // The client's resolved provider chain: memoized, refreshed before expiry.
    credentials: () => client.config.credentials(),
    request: secure ? https.request : http.request,
    agent: secure ? httpsAgent : httpAgent,
    requestTimeoutMs,
    userAgent: 'wskit-message-sender',
  });
  return { client, poster };
}

export function managementConnection(endpoint: string, region: string, requestTimeoutMs: number, maxSockets: number): Promise<ManagementConnection> {
  const key = `${region} ${endpoint} ${requestTimeoutMs} ${maxSockets}`;
  let connection = clients.get(key);
  if (!connection) {
    connection = createManagementConnection(endpoint, region, requestTimeoutMs, maxSockets);
    clients.set(key, connection);
    // A failed SDK load is not cached: the next call tries again.
    connection.catch(() => {
      if (clients.get(key) === connection) clients.delete(key);
    });
  }
  return connection;
}

/** Closes the cached management clients and their sockets (tests, graceful shutdown). */
export function destroyManagementClients(): void {
  for (const connection of clients.values()) void connection.then(({ client }) => client.destroy(), () => undefined);
  clients.clear();
}
