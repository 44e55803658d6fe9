/**
 * A real WebSocket server on 127.0.0.1 that speaks wire protocol v1 the way API Gateway +
 * the wskit handlers do, with the knobs the client tests need and the local gateway lacks:
 * a server that stops answering pings, freezes entirely, or hides nothing about what frames
 * it received (to prove a subscription is never sent twice).
 *
 * It speaks the recovery contract too: every message gets `seq` (per topic, from 1) and
 * `mid`; `subscribe {since}` answers `ack {seq, recovered}`; `history` pages the retained
 * messages (the last `retain` per topic); publish acks carry `seq` and `mid`; and the same
 * history and publish are served over HTTP at `httpUrl` (`GET`/`POST
 * /topics/{topic}/messages`, `Authorization: Bearer`). Knobs: a per-delivery delay (to
 * deliver out of order, as concurrent publishers do), HTTP 429s, `report` answers.
 *
 * Tokens are unsigned JWT-shaped strings (`header.payload.test`): this server is not the
 * authorizer under test, it only needs `sub` and `exp` to refuse (401) or expire a token.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HTTP_STATUS_OF, parseClientReport, topicFromMessagesPath, type ClientReport, type ErrorCode } from '@wskit/protocol';
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
  /** Messages retained per topic for `history` and resume. Default 1000. */
  retain?: number;
}

interface TopicLog {
  seq: number;
  messages: Array<Record<string, unknown> & { seq: number }>;
}

export interface ServerConnection {
  id: string;
  userId: string;
  exp: number;
  socket: WebSocket;
  topics: Set<string>;
  /** Every frame's action, in arrival order. */
  actions: string[];
  /** Every frame, parsed, in arrival order. */
  frames: Array<Record<string, unknown>>;
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
  /** `<topic>\n<seq>` of messages numbered and not stored yet (numberOnly). */
  private readonly beingWritten = new Set<string>();
  /** Upgrades refused with 401. */
  refused = 0;
  answerPings: boolean;
  /** When true the server reads frames but answers nothing (a half-open connection). */
  frozen = false;
  /** When set, every upgrade is refused with this HTTP status (e.g. 503 during an outage). */
  refuseUpgradesWith: number | undefined;
  /** Delay of one delivery of a message to one subscriber (ms); vary it to deliver out of order. */
  deliveryDelayMs: ((seq: number) => number) | undefined;
  /** The next N HTTP requests are answered 429 with `Retry-After: 1`. */
  httpRateLimited = 0;
  /** Answer `report` with this error code instead of an ack. */
  reportError: ErrorCode | undefined;
  /** Reports received, in order. */
  readonly reports: Array<{ report: ClientReport; at: number; traceparent?: string }> = [];
  /** HTTP requests served: method, path and query. */
  readonly httpRequests: string[] = [];
  readonly retain: number;
  private readonly logs = new Map<string, TopicLog>();
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<Socket>();
  private serial = 0;

  private constructor(private readonly options: TestServerOptions) {
    this.answerPings = options.answerPings ?? true;
    this.retain = options.retain ?? 1000;
  }

  static async start(options: TestServerOptions = {}): Promise<TestServer> {
    const server = new TestServer(options);
    await server.listen(options.port ?? 0);
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The latest seq of `topic` (0 when never published). */
  head(topic: string): number {
    return this.logs.get(topic)?.seq ?? 0;
  }

  get live(): ServerConnection[] {
    return this.connections.filter((c) => c.closedAt === undefined);
  }

  /** Live subscribers of `topic` (one entry per connection). */
  subscribers(topic: string): ServerConnection[] {
    return this.live.filter((c) => c.topics.has(topic));
  }

  /** Publishes: assigns the topic's next seq, retains the message, pushes it to every subscriber. */
  publishMessage(topic: string, data: unknown): { seq: number; mid: string; delivered: number } {
    let log = this.logs.get(topic);
    if (!log) this.logs.set(topic, (log = { seq: 0, messages: [] }));
    const mid = randomUUID();
    const seq = ++log.seq;
    const message = { type: 'message', topic, data, mid, ts: Date.now(), seq };
    log.messages.push(message);
    if (log.messages.length > this.retain) log.messages.splice(0, log.messages.length - this.retain);
    const frame = JSON.stringify(message);
    const subscribers = this.subscribers(topic);
    for (const conn of subscribers) {
      const delay = this.deliveryDelayMs?.(seq) ?? 0;
      if (delay <= 0) conn.socket.send(frame);
      else setTimeout(() => conn.socket.readyState === conn.socket.OPEN && conn.socket.send(frame), delay);
    }
    return { seq, mid, delivered: subscribers.length };
  }

  /**
   * A publisher between its two writes (TopicHistory): the topic's next seq is taken, its
   * message not stored yet. `history` stops before it with `complete: false` until `store()`
   * writes it and pushes it, as the real publish path does.
   */
  numberOnly(topic: string, data: unknown): { seq: number; store: () => void } {
    let log = this.logs.get(topic);
    if (!log) this.logs.set(topic, (log = { seq: 0, messages: [] }));
    const seq = ++log.seq;
    this.beingWritten.add(`${topic}\n${seq}`);
    const written = log;
    return {
      seq,
      store: () => {
        this.beingWritten.delete(`${topic}\n${seq}`);
        const message = { type: 'message', topic, data, mid: randomUUID(), ts: Date.now(), seq };
        written.messages.push(message);
        written.messages.sort((a, b) => a.seq - b.seq);
        for (const conn of this.subscribers(topic)) conn.socket.send(JSON.stringify(message));
      },
    };
  }

  /** Pushes a message to every subscriber of `topic`, like the broadcaster; returns its mid. */
  push(topic: string, data: unknown): string {
    return this.publishMessage(topic, data).mid;
  }

  /** A `history` page: retained messages after `since`, ascending, at most `limit`. */
  history(topic: string, since: number, limit: number): { messages: unknown[]; seq: number; complete: boolean; recovered: boolean } {
    const log = this.logs.get(topic) ?? { seq: 0, messages: [] };
    // Like TopicHistory: stop before a message still being written, and say there is more.
    const writing = [...this.beingWritten].filter((key) => key.startsWith(`${topic}\n`)).map((key) => Number(key.split('\n')[1])).filter((seq) => seq > since);
    const stopAt = writing.length > 0 ? Math.min(...writing) : Infinity;
    const after = log.messages.filter((m) => m.seq > since && m.seq < stopAt);
    const messages = after.slice(0, limit);
    return { messages, seq: log.seq, complete: stopAt === Infinity && after.length <= limit, recovered: this.recovered(log, since) };
  }

  /** Every message after `since` is still retained. */
  private recovered(log: TopicLog, since: number): boolean {
    const oldest = log.messages[0]?.seq ?? log.seq + 1;
    return since >= log.seq || since >= oldest - 1;
  }

  private async listen(port: number): Promise<void> {
    const http = createServer((req, res) => this.onHttp(req, res));
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
      frames: [],
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
    conn.frames.push(frame);
    if (this.frozen) return;
    const id = typeof frame.id === 'string' ? { id: frame.id } : {};
    if (conn.exp * 1000 <= Date.now()) {
      return this.reply(conn, { type: 'error', ...id, code: 'TOKEN_EXPIRED', message: 'the token expired; reconnect with a new one' });
    }
    const topic = frame.topic;
    const needsTopic = ['subscribe', 'unsubscribe', 'publish', 'sendmessage', 'history'].includes(action);
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
      case 'subscribe': {
        conn.topics.add(String(topic));
        const log = this.logs.get(String(topic)) ?? { seq: 0, messages: [] };
        const since = frame.since;
        const recovered = typeof since === 'number' ? { recovered: this.recovered(log, since) } : {};
        return this.reply(conn, { type: 'ack', ...id, action, topic, seq: log.seq, ...recovered });
      }
      case 'unsubscribe':
        conn.topics.delete(String(topic));
        return this.reply(conn, { type: 'ack', ...id, action, topic });
      case 'publish':
      case 'sendmessage': {
        const { seq, mid, delivered } = this.publishMessage(String(topic), frame.data);
        return this.reply(conn, { type: 'ack', ...id, action, topic, seq, mid, delivered });
      }
      case 'history': {
        const since = frame.since ?? 0;
        const limit = frame.limit ?? 100;
        if (typeof since !== 'number' || since < 0 || typeof limit !== 'number' || limit < 1 || limit > 1000) {
          return this.reply(conn, { type: 'error', ...id, code: 'BAD_REQUEST', message: 'since >= 0, limit 1-1000' });
        }
        return this.reply(conn, { type: 'history', ...id, topic, ...this.history(String(topic), since, limit) });
      }
      case 'report': {
        const report = parseClientReport(frame.report);
        if (typeof report === 'string') return this.reply(conn, { type: 'error', ...id, code: 'BAD_REQUEST', message: report });
        if (this.reportError) return this.reply(conn, { type: 'error', ...id, code: this.reportError, message: 'refused', retryAfterMs: 1000 });
        this.reports.push({ report, at: Date.now(), ...(typeof frame.traceparent === 'string' ? { traceparent: frame.traceparent } : {}) });
        return this.reply(conn, { type: 'ack', ...id, action });
      }
      default:
        return this.reply(conn, { type: 'error', ...id, code: 'UNKNOWN_ACTION', message: `unknown action ${action}` });
    }
  }

  /** The HTTP API: history and publish of a topic, with the token as a Bearer header. */
  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.httpRequests.push(`${req.method} ${url.pathname}${url.search}`);
    const fail = (code: ErrorCode, message: string, headers: Record<string, string> = {}) =>
      void res.writeHead(HTTP_STATUS_OF[code], { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ type: 'error', code, message }));
    const topic = topicFromMessagesPath(url.pathname);
    if (topic === undefined) return void res.writeHead(404).end('not found');
    const claims = readToken((req.headers.authorization ?? '').replace(/^Bearer /, '') || null);
    if (!claims) return fail('FORBIDDEN', 'a Bearer token is required');
    if (claims.exp * 1000 <= Date.now()) return fail('TOKEN_EXPIRED', 'the token expired');
    if (topic.startsWith('private:')) return fail('FORBIDDEN', 'not allowed');
    if (this.httpRateLimited > 0) {
      this.httpRateLimited--;
      return fail('RATE_LIMITED', 'slow down', { 'retry-after': '1' });
    }
    const json = (body: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      if (!Number.isSafeInteger(since) || since < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
        return fail('BAD_REQUEST', 'since >= 0, limit 1-1000');
      }
      return json({ type: 'history', topic, ...this.history(topic, since, limit) });
    }
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return fail('BAD_REQUEST', 'the body must be JSON {"data": ...}');
        }
        if (typeof parsed !== 'object' || parsed === null || !Object.hasOwn(parsed, 'data')) return fail('BAD_REQUEST', 'the body must be {"data": ...}');
        const { seq, mid, delivered } = this.publishMessage(topic, (parsed as { data: unknown }).data);
        json({ type: 'ack', action: 'publish', topic, seq, mid, delivered });
      });
      return;
    }
    fail('BAD_REQUEST', 'GET or POST');
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
