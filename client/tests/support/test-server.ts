/**
 * A real WebSocket server on 127.0.0.1 that speaks wire protocol v1 the way API Gateway +
 * the wskit handlers do, with the knobs the client tests need and the local gateway lacks:
 * a server that stops answering pings, freezes entirely, or hides nothing about what frames
 * it received (to prove a subscription is never sent twice).
 *
 * Tokens are unsigned JWT-shaped strings (`header.payload.test`): this server is not the
 * authorizer under test, it only needs `sub` and `exp` to refuse (401) or expire a token.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface TestServerOptions {
  port?: number;
  /** Close (1001 "Going away") a connection that sent nothing for this long. */
  idleTimeoutMs?: number;
  /** Close (1001 "Going away") every connection this long after it opened. */
  maxConnectionMs?: number;
  /** Reply to `ping`. Default true. */
  answerPings?: boolean;
  /** Limits reported in `welcome`. */
  welcomeLimits?: Record<string, number>;
}

export interface ServerConnection {
  id: string;
  userId: string;
  exp: number;
  socket: WebSocket;
  topics: Set<string>;
  /** Every frame's action, in arrival order. */
  actions: string[];
  connectedAt: number;
  closedAt?: number;
}

export function makeToken(claims: { sub: string; ttlSeconds?: number; exp?: number }): string {
  const now = Math.floor(Date.now() / 1000);
  const exp = claims.exp ?? now + (claims.ttlSeconds ?? 3600);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: claims.sub, iat: now, exp })}.test`;
}

function readToken(token: string | null): { sub: string; exp: number } | undefined {
  if (!token) return undefined;
  const [, payload, signature] = token.split('.');
  if (!payload || signature !== 'test') return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown; exp?: unknown };
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
    return { sub: claims.sub, exp: claims.exp };
  } catch {
    return undefined;
  }
}

export class TestServer {
  port = 0;
  readonly connections: ServerConnection[] = [];
  /** Upgrades refused with 401. */
  refused = 0;
  answerPings: boolean;
  /** When true the server reads frames but answers nothing (a half-open connection). */
  frozen = false;
  /** When set, every upgrade is refused with this HTTP status (e.g. 503 during an outage). */
  refuseUpgradesWith: number | undefined;
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<Socket>();
  private serial = 0;

  private constructor(private readonly options: TestServerOptions) {
    this.answerPings = options.answerPings ?? true;
  }

  static async start(options: TestServerOptions = {}): Promise<TestServer> {
    const server = new TestServer(options);
    await server.listen(options.port ?? 0);
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get live(): ServerConnection[] {
    return this.connections.filter((c) => c.closedAt === undefined);
  }

  /** Live subscribers of `topic` (one entry per connection). */
  subscribers(topic: string): ServerConnection[] {
    return this.live.filter((c) => c.topics.has(topic));
  }

  /** Pushes a message to every subscriber of `topic`, like the broadcaster. */
  push(topic: string, data: unknown): string {
    const mid = randomUUID();
    const frame = JSON.stringify({ type: 'message', topic, data, mid, ts: Date.now() });
    for (const conn of this.subscribers(topic)) conn.socket.send(frame);
    return mid;
  }

  private async listen(port: number): Promise<void> {
    const http = createServer((_req, res) => {
      res.writeHead(426).end('WebSocket only');
    });
    const wss = new WebSocketServer({ noServer: true });
    http.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    http.on('upgrade', (req: IncomingMessage, socket, head) => {
      if (this.refuseUpgradesWith !== undefined) {
        socket.end(`HTTP/1.1 ${this.refuseUpgradesWith} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
      const claims = readToken(token);
      if (!claims || claims.exp * 1000 <= Date.now()) {
        this.refused += 1;
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, claims));
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => resolve());
    });
    this.http = http;
    this.wss = wss;
    this.port = (http.address() as AddressInfo).port;
  }

  private accept(socket: WebSocket, claims: { sub: string; exp: number }): void {
    const conn: ServerConnection = {
      id: `c${++this.serial}`,
      userId: claims.sub,
      exp: claims.exp,
      socket,
      topics: new Set(),
      actions: [],
      connectedAt: Date.now(),
    };
    this.connections.push(conn);
    let idleTimer: NodeJS.Timeout | undefined;
    const goAway = () => socket.close(1001, 'Going away');
    const touch = () => {
      if (this.options.idleTimeoutMs === undefined) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(goAway, this.options.idleTimeoutMs);
    };
    touch();
    const maxTimer =
      this.options.maxConnectionMs === undefined ? undefined : setTimeout(goAway, this.options.maxConnectionMs);
    socket.on('close', () => {
      conn.closedAt = Date.now();
      conn.topics.clear();
      clearTimeout(idleTimer);
      clearTimeout(maxTimer);
    });
    socket.on('message', (raw) => {
      touch();
      this.onFrame(conn, raw.toString());
    });
  }

  private onFrame(conn: ServerConnection, text: string): void {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return this.reply(conn, { type: 'error', code: 'BAD_REQUEST', message: 'not JSON' });
    }
    const action = String(frame.action);
    conn.actions.push(action);
    if (this.frozen) return;
    const id = typeof frame.id === 'string' ? { id: frame.id } : {};
    if (conn.exp * 1000 <= Date.now()) {
      return this.reply(conn, { type: 'error', ...id, code: 'TOKEN_EXPIRED', message: 'the token expired; reconnect with a new one' });
    }
    const topic = frame.topic;
    const needsTopic = ['subscribe', 'unsubscribe', 'publish', 'sendmessage'].includes(action);
    if (needsTopic && (typeof topic !== 'string' || !/^[A-Za-z0-9_.:/-]{1,128}$/.test(topic))) {
      return this.reply(conn, { type: 'error', ...id, code: 'BAD_REQUEST', message: 'topic required' });
    }
    if (needsTopic && String(topic).startsWith('private:')) {
      return this.reply(conn, { type: 'error', ...id, code: 'FORBIDDEN', message: 'not allowed' });
    }
    switch (action) {
      case 'hello':
        return this.reply(conn, {
          type: 'welcome',
          ...id,
          connectionId: conn.id,
          userId: conn.userId,
          limits: this.options.welcomeLimits ?? {
            maxMessageBytes: 131072,
            maxFrameBytes: 32768,
            idleTimeoutSeconds: 600,
            maxConnectionSeconds: 7200,
          },
        });
      case 'ping':
        if (!this.answerPings) return;
        return this.reply(conn, { type: 'pong', ...id, ...(frame.ts !== undefined ? { ts: frame.ts } : {}) });
      case 'subscribe':
        conn.topics.add(String(topic));
        return this.reply(conn, { type: 'ack', ...id, action });
      case 'unsubscribe':
        conn.topics.delete(String(topic));
        return this.reply(conn, { type: 'ack', ...id, action });
      case 'publish':
      case 'sendmessage':
        this.push(String(topic), frame.data);
        return this.reply(conn, { type: 'ack', ...id, action });
      default:
        return this.reply(conn, { type: 'error', ...id, code: 'UNKNOWN_ACTION', message: `unknown action ${action}` });
    }
  }

  private reply(conn: ServerConnection, frame: Record<string, unknown>): void {
    if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(frame));
  }

  /** Drops every live connection abruptly (no close frame) but keeps listening. */
  dropAll(): void {
    for (const conn of this.live) conn.socket.terminate();
  }

  /** Drops every connection abruptly (no close frame) and stops listening, like a crash. */
  async kill(): Promise<void> {
    for (const conn of this.live) conn.socket.terminate();
    for (const socket of this.sockets) socket.destroy();
    const http = this.http;
    this.http = undefined;
    this.wss?.close();
    if (http) await new Promise<void>((resolve) => http.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}
