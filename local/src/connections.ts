/**
 * The WebSocket side: the upgrade (identity sources, the authorizer, the `$connect`
 * integration), connection state, routing of frames to functions (`$request.body.action`),
 * the idle and maximum-duration timers, and close handling down to `$disconnect`.
 * The management API and `stop()` act on connections through this module only.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { apiGatewayId } from './ids';
import {
  authorizerEvent,
  connectEvent,
  connectHeaders,
  disconnectEvent,
  messageEvent,
  methodArn,
  queryMaps,
  type ApiFacts,
  type ConnectionFacts,
} from './events';
import { decideAuthorization } from './authorizer-result';
import { enforceFrameLimit } from './frame-limits';
import type { FunctionPool } from './functions';
import type { InvokeOutcome } from './lambda-host';
import type { GatewayLimits } from './limits';
import { isSafeHeader, rejectUpgrade, sourceIpOf, splitTarget } from './http-util';
import type { LogEntry } from './log-escape';

export type ConnectionState = 'open' | 'closing' | 'dropped' | 'closed';

export interface ConnectionInfo {
  connectionId: string;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string | undefined;
  authorizer: Record<string, unknown> | undefined;
  state: ConnectionState;
}

export interface Connection extends ConnectionFacts {
  ws: WebSocket;
  lastActiveAt: number;
  state: ConnectionState;
  /** Set when the gateway closes the socket itself; wins over the code the client echoes. */
  serverClose?: { code: number; reason: string };
  idleTimer?: NodeJS.Timeout;
  maxTimer?: NodeJS.Timeout;
  dropTimer?: NodeJS.Timeout;
}

export interface ConnectionsOptions {
  api: ApiFacts;
  limits: GatewayLimits;
  /** Route key -> function. */
  routes: ReadonlyMap<string, string>;
  authorizer: string | null;
  identitySources: readonly string[];
  functions: FunctionPool;
  abnormalCloseDetectionMs: number;
  /** The access log (entries are escaped by the caller's sink). */
  log: (entry: LogEntry) => void;
  /** The port the server listens on (for X-Forwarded-Port and a Host-less request). */
  port: () => number;
}

/** Reasons API Gateway reports in `disconnectReason` when the client gave none. */
export function defaultDisconnectReason(code: number): string {
  switch (code) {
    case 1000:
      return 'Connection Closed Normally';
    case 1001:
      return 'Going away';
    case 1005:
      return 'Client-side close frame status not set';
    case 1006:
      return 'Connection was closed abnormally';
    default:
      return '';
  }
}

function identitySourcePresent(source: string, req: http.IncomingMessage, query: URLSearchParams): boolean {
  const queryMatch = /^route\.request\.querystring\.(.+)$/.exec(source);
  if (queryMatch) return (query.get(queryMatch[1]!) ?? '') !== '';
  const headerMatch = /^route\.request\.header\.(.+)$/.exec(source);
  if (headerMatch) {
    const name = headerMatch[1]!.toLowerCase();
    const value = Object.hasOwn(req.headers, name) ? req.headers[name] : undefined;
    return typeof value === 'string' ? value !== '' : Array.isArray(value) && value.length > 0;
  }
  return true;
}

/** The frame API Gateway sends for a message it could not hand to the integration. */
function gatewayFrame(message: string, connectionId: string, requestId: string): string {
  return JSON.stringify({ message, connectionId, requestId });
}

/** A handshake status from the `$connect` integration: a 2xx-5xx integer, or 500. */
function integrationStatus(value: unknown): number {
  if (value === undefined || value === null) return 200;
  return typeof value === 'number' && Number.isInteger(value) && value >= 200 && value <= 599 ? value : 500;
}

export class Connections {
  private readonly connections = new Map<string, Connection>();
  private readonly wss: WebSocketServer;
  private readonly selectedProtocols = new WeakMap<http.IncomingMessage, string>();
  private readonly extraUpgradeHeaders = new WeakMap<http.IncomingMessage, Record<string, string>>();
  private stopping = false;

  constructor(private readonly o: ConnectionsOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.limits.maxMessageBytes,
      perMessageDeflate: false,
      // The $connect integration may pick a subprotocol (Sec-WebSocket-Protocol in its response).
      handleProtocols: (_protocols, req) => this.selectedProtocols.get(req) ?? false,
    });
    this.wss.on('headers', (headers, req) => {
      for (const [name, value] of Object.entries(this.extraUpgradeHeaders.get(req) ?? {})) headers.push(`${name}: ${value}`);
    });
    this.wss.on('error', (err) => this.o.log({ event: 'websocket-server-error', error: err.message }));
  }

  get(connectionId: string): Connection | undefined {
    return this.connections.get(connectionId);
  }

  list(): ConnectionInfo[] {
    return [...this.connections.values()].map((c) => ({
      connectionId: c.connectionId,
      connectedAt: c.connectedAt,
      lastActiveAt: c.lastActiveAt,
      sourceIp: c.sourceIp,
      userAgent: c.userAgent,
      authorizer: c.authorizer,
      state: c.state,
    }));
  }

  /** Open, and its TCP socket still there. */
  isAlive(conn: Connection): boolean {
    const socket = (conn.ws as WebSocket & { _socket?: Socket })._socket;
    return conn.state === 'open' && conn.ws.readyState === WebSocket.OPEN && socket?.destroyed !== true;
  }

  send(conn: Connection, text: string): boolean {
    if (conn.state !== 'open' || conn.ws.readyState !== WebSocket.OPEN) return false;
    conn.ws.send(text);
    this.touch(conn);
    return true;
  }

  private touch(conn: Connection) {
    conn.lastActiveAt = Date.now();
    conn.idleTimer?.refresh();
  }

  closeByServer(conn: Connection, code: number, reason: string, clientReason = reason): void {
    if (conn.state !== 'open') return;
    conn.serverClose = { code, reason };
    conn.state = 'closing';
    try {
      conn.ws.close(code, clientReason);
    } catch {
      conn.ws.terminate();
    }
    // A client that never answers the close frame is cut off, as API Gateway would.
    setTimeout(() => conn.ws.terminate(), 5000).unref();
  }

  /** Sends `$disconnect` once, then forgets the connection. */
  finalize(conn: Connection, code: number, reason: string): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    clearTimeout(conn.idleTimer);
    clearTimeout(conn.maxTimer);
    clearTimeout(conn.dropTimer);
    this.connections.delete(conn.connectionId);
    this.o.log({ event: '$disconnect', connectionId: conn.connectionId, code, reason });
    const route = this.o.routes.get('$disconnect');
    if (route === undefined) return;
    void this.o.functions.invoke(route, disconnectEvent(this.o.api, conn, code, reason, Date.now())).then((outcome) => {
      if (!outcome.ok) this.o.log({ event: '$disconnect-error', connectionId: conn.connectionId, error: outcome.error.errorType });
    });
  }

  /** A connection the gateway has not seen go away is found dead now and gets its `$disconnect`. */
  foundGone(conn: Connection): void {
    if (conn.state === 'dropped' || conn.state === 'open') this.finalize(conn, 1006, defaultDisconnectReason(1006));
  }

  private onSocketClose(conn: Connection, code: number, reasonBuffer: Buffer) {
    if (conn.state === 'closed' || conn.state === 'dropped') return;
    if (conn.serverClose) {
      this.finalize(conn, conn.serverClose.code, conn.serverClose.reason);
      return;
    }
    if (code === 1006 && this.o.abnormalCloseDetectionMs > 0 && !this.stopping) {
      // No close frame: API Gateway finds out later. Until then the id still looks connected.
      conn.state = 'dropped';
      conn.dropTimer = setTimeout(() => this.finalize(conn, 1006, defaultDisconnectReason(1006)), this.o.abnormalCloseDetectionMs);
      conn.dropTimer.unref();
      return;
    }
    const reason = reasonBuffer.toString('utf8');
    this.finalize(conn, code, reason || defaultDisconnectReason(code));
  }

  /** `$request.body.action`, looked up as a route key (own entries only); else `$default`. */
  selectRoute(body: string): string | undefined {
    let action: unknown;
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.hasOwn(parsed, 'action')) {
        action = (parsed as { action?: unknown }).action;
      }
    } catch {
      // not JSON (or nested past what the parser takes): only $default can take it
    }
    if (typeof action === 'string' && action !== '$connect' && action !== '$disconnect' && this.o.routes.has(action)) return action;
    return this.o.routes.has('$default') ? '$default' : undefined;
  }

  private async onText(conn: Connection, body: string) {
    const routeKey = this.selectRoute(body);
    if (routeKey === undefined) {
      // No route and no $default: API Gateway answers with this frame and keeps the connection.
      this.send(conn, gatewayFrame('Forbidden', conn.connectionId, apiGatewayId()));
      return;
    }
    const event = messageEvent(this.o.api, conn, routeKey, body, Date.now());
    const requestId = event.requestContext.requestId;
    const outcome = await this.o.functions.invoke(this.o.routes.get(routeKey)!, event);
    if (!outcome.ok) {
      if (outcome.throttled) {
        // The integration is throttled: API Gateway answers the frame with its 429 message.
        this.o.log({ event: 'message-throttled', connectionId: conn.connectionId, routeKey });
        this.send(conn, gatewayFrame('Too Many Requests', conn.connectionId, requestId));
        return;
      }
      this.o.log({ event: 'message-error', connectionId: conn.connectionId, routeKey, error: outcome.error.errorType, message: outcome.error.errorMessage });
      this.send(conn, gatewayFrame('Internal server error', conn.connectionId, requestId));
      return;
    }
    // Two-way route: the integration response's body is one frame to the client.
    const result = outcome.result;
    if (result === null || result === undefined) return;
    let frame: string | undefined;
    if (typeof result === 'object' && !Array.isArray(result)) {
      const replyBody = Object.hasOwn(result, 'body') ? (result as { body?: unknown }).body : undefined;
      if (replyBody !== undefined && replyBody !== null) frame = typeof replyBody === 'string' ? replyBody : JSON.stringify(replyBody);
    } else {
      frame = typeof result === 'string' ? result : JSON.stringify(result);
    }
    if (frame !== undefined && frame !== '') this.send(conn, frame);
  }

  private attach(conn: Connection) {
    const { ws } = conn;
    enforceFrameLimit(ws, this.o.limits.maxFrameBytes);
    conn.idleTimer = setTimeout(() => this.closeByServer(conn, 1001, 'Going away'), this.o.limits.idleTimeoutMs);
    conn.idleTimer.unref();
    conn.maxTimer = setTimeout(() => this.closeByServer(conn, 1001, 'Going away'), this.o.limits.maxConnectionMs);
    conn.maxTimer.unref();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (conn.state !== 'open') return;
      this.touch(conn);
      if (isBinary) {
        this.closeByServer(conn, 1003, 'Binary frames are not supported');
        return;
      }
      this.onText(conn, data.toString('utf8')).catch((err: unknown) => {
        this.o.log({ event: 'message-error', connectionId: conn.connectionId, error: (err as Error)?.message ?? String(err) });
      });
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws has already started closing; remember why for $disconnect.
      if (conn.serverClose || conn.state !== 'open') return;
      const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 1009 : err.code === 'WS_ERR_INVALID_UTF8' ? 1007 : 1002;
      conn.serverClose = { code, reason: code === 1009 ? 'Message too big' : err.message };
      conn.state = 'closing';
    });
    ws.on('close', (code: number, reason: Buffer) => this.onSocketClose(conn, code, reason));
  }

  /** The upgrade request, from the identity sources through the authorizer and `$connect` to the 101. */
  async handleUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    if (this.stopping) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const { path, query } = splitTarget(req.url);
    const stage = this.o.api.stage;
    if (path !== '/' && path !== `/${stage}` && path !== `/${stage}/`) {
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    // An invalid handshake is refused before any function runs, as API Gateway does.
    const key = req.headers['sec-websocket-key'];
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())) {
      return rejectUpgrade(socket, 400, 'Bad Request');
    }
    if (req.headers['sec-websocket-version'] !== '13') {
      return rejectUpgrade(socket, 426, 'Upgrade Required', { 'Sec-WebSocket-Version': '13' });
    }
    const now = Date.now();
    const port = this.o.port();
    const conn: ConnectionFacts = {
      connectionId: apiGatewayId(),
      connectedAt: now,
      sourceIp: sourceIpOf(socket),
      userAgent: req.headers['user-agent'],
      domainName: req.headers.host ?? `127.0.0.1:${port}`,
    };
    const maps = { ...connectHeaders({ rawHeaders: req.rawHeaders, query, port }, conn, now), ...queryMaps(query) };
    const log = (status: number, detail?: string) =>
      this.o.log({ event: '$connect', connectionId: conn.connectionId, sourceIp: conn.sourceIp, status, ...(detail ? { detail } : {}) });
    const refuseThrottled = (what: string) => {
      log(429, `${what} is throttled (its invocation queue is full)`);
      rejectUpgrade(socket, 429, 'Too Many Requests');
    };

    const authorizerName = this.o.authorizer;
    if (authorizerName) {
      // API Gateway answers 401 without calling the authorizer when an identity source is missing.
      const missing = this.o.identitySources.find((source) => !identitySourcePresent(source, req, query));
      if (missing) {
        log(401, `identity source ${missing} missing`);
        return rejectUpgrade(socket, 401, 'Unauthorized');
      }
      const started = Date.now();
      const outcome = await this.o.functions.invoke(authorizerName, authorizerEvent(this.o.api, conn, maps, now));
      if (!outcome.ok && outcome.throttled) return refuseThrottled('the authorizer');
      const decision = decideAuthorization(outcome, methodArn(this.o.api), Date.now() - started);
      if (!decision.allow) {
        log(decision.statusCode, decision.reason);
        return rejectUpgrade(socket, decision.statusCode, decision.message);
      }
      conn.authorizer = decision.authorizer;
    }

    const connectRoute = this.o.routes.get('$connect');
    let responseHeaders: Array<[string, string]> = [];
    if (connectRoute !== undefined) {
      const outcome: InvokeOutcome = await this.o.functions.invoke(connectRoute, connectEvent(this.o.api, conn, maps, now));
      if (!outcome.ok) {
        if (outcome.throttled) return refuseThrottled('$connect');
        log(500, `${outcome.error.errorType}: ${outcome.error.errorMessage}`);
        return rejectUpgrade(socket, 500, 'Internal server error');
      }
      const result = (outcome.result && typeof outcome.result === 'object' ? outcome.result : {}) as { statusCode?: unknown; headers?: unknown };
      const statusCode = integrationStatus(result.statusCode);
      if (statusCode > 299) {
        log(statusCode, result.statusCode === statusCode ? undefined : `the integration's statusCode ${JSON.stringify(result.statusCode)} is not an HTTP status`);
        // The integration's status reaches the client; its body does not become a frame.
        return rejectUpgrade(socket, statusCode, http.STATUS_CODES[statusCode] ?? 'Error');
      }
      if (result.headers && typeof result.headers === 'object' && !Array.isArray(result.headers)) {
        responseHeaders = Object.entries(result.headers as Record<string, unknown>)
          .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
          .map(([k, v]) => [k, String(v)] as [string, string])
          // Only what can be written as a header line: no CR, LF or other control characters.
          .filter(([k, v]) => isSafeHeader(k, v));
      }
    }

    if (socket.destroyed || this.stopping) {
      // The client left while $connect ran: the connection existed for the backend, so it hears $disconnect.
      const route = this.o.routes.get('$disconnect');
      if (route !== undefined) void this.o.functions.invoke(route, disconnectEvent(this.o.api, conn, 1006, defaultDisconnectReason(1006), Date.now()));
      if (!socket.destroyed) rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    const protocolHeader = responseHeaders.find(([k]) => k.toLowerCase() === 'sec-websocket-protocol');
    if (protocolHeader) this.selectedProtocols.set(req, protocolHeader[1]);
    this.extraUpgradeHeaders.set(
      req,
      Object.fromEntries(responseHeaders.filter(([k]) => !['sec-websocket-protocol', 'connection', 'upgrade', 'content-length', 'sec-websocket-accept'].includes(k.toLowerCase()))),
    );

    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection: Connection = { ...conn, ws, lastActiveAt: Date.now(), state: 'open' };
      this.connections.set(conn.connectionId, connection);
      try {
        this.attach(connection);
      } catch (err) {
        this.connections.delete(conn.connectionId);
        this.o.log({ event: 'upgrade-error', connectionId: conn.connectionId, error: (err as Error).message });
        ws.terminate();
        return;
      }
      log(101);
    });
  }

  /** Closes every connection with 1001 and delivers their `$disconnect`, waiting up to `drainMs` for the functions. */
  async stop(drainMs = 5000): Promise<void> {
    this.stopping = true;
    for (const conn of [...this.connections.values()]) {
      if (conn.state === 'open') this.closeByServer(conn, 1001, 'Going away');
      this.finalize(conn, conn.serverClose?.code ?? 1001, conn.serverClose?.reason ?? 'Going away');
    }
    await this.o.functions.drain(drainMs);
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  get isStopping(): boolean {
    return this.stopping;
  }
}
