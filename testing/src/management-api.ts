/**
 * Test support (never bundled): a local stand-in for the API Gateway management API, since
 * the real one cannot run here. It speaks the same HTTP as `execute-api` does for
 * `/<stage>/@connections/{id}`: POST (200), GET (200 + JSON), DELETE (204), AWS status
 * codes and the `x-amzn-ErrorType` header, so the real SDK client raises real
 * GoneException / LimitExceededException / ... errors against it.
 *
 * With `verifySignature`, every request must carry a SigV4 signature for those credentials
 * (checked by signing it again with the SDK's signer); others get API Gateway's 403.
 *
 * Faults can be queued per connection: a status (with or without the error-type header),
 * a connection reset, or a delay; each queued fault answers one request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Problem, type ExpectedSigner } from './sigv4';

export type Fault =
  | { kind: 'status'; status: number; errorType?: string; message?: string }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number };

export const faults = {
  gone: (): Fault => ({ kind: 'status', status: 410, errorType: 'GoneException' }),
  /** A 410 without the x-amzn-ErrorType header (the SDK names it `Unknown`). */
  bareGone: (): Fault => ({ kind: 'status', status: 410 }),
  throttled: (): Fault => ({ kind: 'status', status: 429, errorType: 'LimitExceededException' }),
  internal: (): Fault => ({ kind: 'status', status: 500, errorType: 'InternalServerErrorException' }),
  unavailable: (): Fault => ({ kind: 'status', status: 503 }),
  forbidden: (): Fault => ({ kind: 'status', status: 403, errorType: 'ForbiddenException' }),
  payloadTooLarge: (): Fault => ({ kind: 'status', status: 413, errorType: 'PayloadTooLargeException' }),
  reset: (): Fault => ({ kind: 'reset' }),
  delay: (ms: number): Fault => ({ kind: 'delay', ms }),
};

export interface ManagementRequest {
  method: string;
  connectionId: string;
  /** What the server answered (0 for a reset). */
  status: number;
  at: number;
}

export interface ManagementApiServer {
  /** Base URL including the stage, e.g. http://127.0.0.1:1234/local (the SDK endpoint). */
  url: string;
  stage: string;
  /** Registers a live connection: POSTs to it succeed. Unknown ids answer 410 GoneException. */
  connect(connectionId: string, info?: { sourceIp?: string; userAgent?: string }): void;
  disconnect(connectionId: string): void;
  isConnected(connectionId: string): boolean;
  /** Queues faults for a connection; each answers one request, in order. */
  inject(connectionId: string, ...faults: Fault[]): void;
  /** Payloads delivered to a connection, in order. */
  delivered(connectionId: string): string[];
  /** Every request seen, in order. */
  requests: ManagementRequest[];
  /** Adds a delay to every request (0 to turn off). */
  setLatency(ms: number): void;
  /** Most requests in flight at once. */
  maxInFlight(): number;
  reset(): void;
  stop(): Promise<void>;
}

const CONNECTIONS_PATH = /^\/([^/]+)\/@connections\/([^/?]+)$/;

export interface ManagementApiOptions {
  stage?: string;
  /** Refuse requests not signed (SigV4, execute-api) with these credentials. */
  verifySignature?: ExpectedSigner;
}

export async function startManagementApi(options: ManagementApiOptions = {}): Promise<ManagementApiServer> {
  const stage = options.stage ?? 'local';
  const connections = new Map<string, { connectedAt: number; lastActiveAt: number; sourceIp: string; userAgent: string }>();
  const faultQueues = new Map<string, Fault[]>();
  const deliveries = new Map<string, string[]>();
  const requests: ManagementRequest[] = [];
  let latencyMs = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  // reset() starts a new generation: a request still held from an earlier test (a delay
  // fault outlives the client that gave up on it) does not count against the next one.
  let generation = 0;

  const sendError = (res: ServerResponse, status: number, errorType: string | undefined, message: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(JSON.stringify({ message }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer, born: number) => {
    const match = CONNECTIONS_PATH.exec(req.url ?? '');
    const method = req.method ?? 'GET';
    if (!match || match[1] !== stage) {
      sendError(res, 404, 'NotFoundException', `no route for ${method} ${req.url}`);
      return;
    }
    const connectionId = decodeURIComponent(match[2]!);
    // A request that outlived a reset() is answered but not recorded in the next test.
    const record = (status: number) => {
      if (born === generation) requests.push({ method, connectionId, status, at: Date.now() });
    };
    if (options.verifySignature) {
      const problem = await sigV4Problem({ method, url: req.url ?? '', headers: req.headers, body }, options.verifySignature);
      if (problem) {
        record(403);
        sendError(res, 403, problem.errorType, problem.message);
        return;
      }
    }

    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs).unref());
    const fault = faultQueues.get(connectionId)?.shift();
    if (fault?.kind === 'reset') {
      record(0);
      req.socket.destroy();
      return;
    }
    // unref: a test that is done does not wait for a delayed answer nobody reads.
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms).unref());
    if (fault?.kind === 'status') {
      record(fault.status);
      sendError(res, fault.status, fault.errorType, fault.message ?? `injected ${fault.status}`);
      return;
    }

    const connection = connections.get(connectionId);
    if (!connection) {
      record(410);
      sendError(res, 410, 'GoneException', `connection ${connectionId} is gone`);
      return;
    }
    if (method === 'POST') {
      if (body.byteLength > 131072) {
        record(413);
        sendError(res, 413, 'PayloadTooLargeException', 'Message too long');
        return;
      }
      connection.lastActiveAt = Date.now();
      const list = deliveries.get(connectionId) ?? [];
      list.push(body.toString('utf8'));
      deliveries.set(connectionId, list);
      record(200);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end();
    } else if (method === 'GET') {
      record(200);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        }),
      );
    } else if (method === 'DELETE') {
      connections.delete(connectionId);
      record(204);
      res.writeHead(204);
      res.end();
    } else {
      record(405);
      sendError(res, 405, 'MethodNotAllowedException', `${method} is not supported`);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const started = generation;
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      handle(req, res, Buffer.concat(chunks), started)
        .catch((error: unknown) => sendError(res, 500, 'InternalServerErrorException', String(error)))
        .finally(() => {
          if (started === generation) inFlight--;
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/${stage}`,
    stage,
    connect(connectionId, info = {}) {
      const now = Date.now();
      connections.set(connectionId, {
        connectedAt: now,
        lastActiveAt: now,
        sourceIp: info.sourceIp ?? '127.0.0.1',
        userAgent: info.userAgent ?? 'test',
      });
    },
    disconnect(connectionId) {
      connections.delete(connectionId);
    },
    isConnected: (connectionId) => connections.has(connectionId),
    inject(connectionId, ...queued) {
      faultQueues.set(connectionId, [...(faultQueues.get(connectionId) ?? []), ...queued]);
    },
    delivered: (connectionId) => [...(deliveries.get(connectionId) ?? [])],
    requests,
    maxInFlight: () => peakInFlight,
    setLatency(ms) {
      latencyMs = ms;
    },
    reset() {
      connections.clear();
      faultQueues.clear();
      deliveries.clear();
      requests.length = 0;
      peakInFlight = 0;
      inFlight = 0;
      generation++;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
