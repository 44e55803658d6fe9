/**
 * The management API on the gateway's port, `/<stage>/@connections/{connectionId}`, as
 * `execute-api` serves it: SigV4 on every request (403 MissingAuthenticationTokenException,
 * InvalidSignatureException, ...), the account-level throttle (429 LimitExceededException),
 * then POST (the raw body as one text frame, 200), GET (200 + JSON), DELETE (204), with
 * GoneException 410, PayloadTooLargeException 413 and ForbiddenException 403 otherwise.
 */
import type * as http from 'node:http';
import type { Connections } from './connections';
import { awsError, delay, jsonResponse, readBody, safeDecode } from './http-util';
import { lambdaRequestId } from './ids';
import type { GatewayLimits } from './limits';
import { checkSignature, type AcceptedCredentials } from './sigv4-check';
import type { SimulatedConnections } from './simulated-connections';
import type { TokenBucket } from './token-bucket';

export interface ManagementApiOptions {
  stage: string;
  region: string;
  limits: GatewayLimits;
  connections: Connections;
  /** Added before each answer (fan-out benchmarks, reordering tests); read per request. */
  callbackDelayMs: () => number;
  /** Requests must be signed with one of these; empty = no signature check. */
  credentials: readonly AcceptedCredentials[];
  /** The account-level throttle, or undefined for none. */
  rateLimiter: TokenBucket | undefined;
  /** Socketless connections a POST is counted for (benchmarks). */
  simulated: SimulatedConnections;
}

/** Bodies up to this are read whole so their signature can be checked; a bigger one is 413 at once. */
const MAX_VERIFIED_BODY_BYTES = 1024 * 1024;

/** `/<stage>/@connections/<id>` ('@' may arrive percent-encoded): the stage and raw id, or undefined. */
export function matchConnectionsPath(path: string): { stage: string; rawId: string } | undefined {
  const segments = path.split('/');
  if (segments.length !== 4 || segments[0] !== '') return undefined;
  if (segments[2] !== '@connections' && safeDecode(segments[2]!) !== '@connections') return undefined;
  return { stage: segments[1]!, rawId: segments[3]! };
}

export function createManagementApi(o: ManagementApiOptions) {
  return async function handleManagement(req: http.IncomingMessage, res: http.ServerResponse, target: { stage: string; rawId: string }): Promise<void> {
    const { body, tooLarge, size } = await readBody(req, MAX_VERIFIED_BODY_BYTES);
    if (o.credentials.length > 0) {
      if (tooLarge && req.headers.authorization) {
        return awsError(res, 413, 'PayloadTooLargeException', `Request entity too large: ${size} bytes`);
      }
      const refusal = await checkSignature({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }, o.credentials, o.region);
      if (refusal) return awsError(res, 403, refusal.errorType, refusal.message);
    }
    if (o.rateLimiter && !o.rateLimiter.take()) {
      return awsError(res, 429, 'LimitExceededException', 'Too Many Requests');
    }
    const wait = o.callbackDelayMs();
    if (wait > 0) await delay(wait);
    if (target.stage !== o.stage) return awsError(res, 403, 'ForbiddenException', 'Forbidden');
    const method = req.method ?? 'GET';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') return awsError(res, 403, 'ForbiddenException', 'Forbidden');
    const connectionId = safeDecode(target.rawId);
    if (connectionId === undefined) return awsError(res, 400, 'BadRequestException', 'Invalid connectionId');
    if (method === 'POST' && (tooLarge || body.length > o.limits.maxMessageBytes)) {
      return awsError(res, 413, 'PayloadTooLargeException', `Request entity too large: the limit is ${o.limits.maxMessageBytes} bytes`);
    }
    if (method === 'POST' && o.simulated.has(connectionId)) {
      o.simulated.deliver(connectionId, body.toString('utf8'));
      return jsonResponse(res, 200, undefined);
    }
    const conn = o.connections.get(connectionId);
    if (!conn || !o.connections.isAlive(conn)) {
      if (conn) o.connections.foundGone(conn);
      return awsError(res, 410, 'GoneException', `Connection ${connectionId} is gone`);
    }
    switch (method) {
      case 'POST':
        o.connections.send(conn, body.toString('utf8'));
        return jsonResponse(res, 200, undefined);
      case 'GET':
        return jsonResponse(res, 200, {
          connectedAt: new Date(conn.connectedAt).toISOString(),
          identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent ?? '' },
          lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
        });
      default:
        o.connections.closeByServer(conn, 1000, 'Connection Closed Normally', '');
        res.writeHead(204, { 'x-amzn-RequestId': lambdaRequestId() });
        res.end();
    }
  };
}
