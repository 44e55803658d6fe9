/**
 * One WebSocket and what rides on it: the requests waiting for a reply, the heartbeat, the
 * topics subscribed on it. The coordinator (client.ts) decides what the link is for.
 */
import type { MessageFrame, ServerLimits } from '@wskit/protocol';
import { WskitError } from './errors';
import { isObject, type Reply } from './protocol';
import type { CloseReason, WebSocketLike } from './types';

export interface Pending {
  action: string;
  resolve: (reply: Reply) => void;
  reject: (error: WskitError) => void;
  timer?: ReturnType<typeof setTimeout>;
  sentAt?: number;
  /** The user's send, so it can be sent again after a token refresh. Absent for internal frames. */
  send?: unknown;
}

export type TopicState = 'subscribing' | 'subscribed' | 'unsubscribing';

/** What a link tells the coordinator. */
export interface LinkHost {
  /** Debug hook: every frame in and out (only called when someone listens). */
  frame?(link: Link, direction: 'in' | 'out', text: string): void;
  message(link: Link, frame: MessageFrame<unknown>): void;
  /** An error reply to a pending request; the host rejects or retries it. */
  errorReply(link: Link, pending: Pending, frame: Record<string, unknown>): void;
  /** An error frame that answers nothing, or a frame that is not JSON. */
  problem(error: WskitError): void;
  sent(): void;
  reply(rttMs: number): void;
  received(): void;
  /** The link is dead (after its pending requests were rejected, before `onDown`). */
  dead(link: Link): void;
}

const OPEN = 1;
let serial = 0;

/** One WebSocket and what the server knows about it. */
export class Link {
  role: 'opening' | 'active' | 'draining' | 'dead' = 'opening';
  connectionId = '';
  userId: string | undefined;
  limits: Partial<ServerLimits> = {};
  openedAt = 0;
  /** False once the server said TOKEN_EXPIRED on it: sends wait for the next connection. */
  acceptsSends = true;
  /** Set when `close()` was called on the socket and its close event is awaited. */
  closing = false;
  /** A draining link has stayed open for the rotation overlap. */
  overlapDone = false;
  readonly pending = new Map<string, Pending>();
  readonly topics = new Map<string, TopicState>();
  readonly timers = new Set<ReturnType<typeof setTimeout>>();
  heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  pingInFlight = false;
  /** Called once when the socket is gone. */
  onDown: (reason: CloseReason) => void = () => {};
  readonly closed: Promise<void>;
  markClosed: () => void = () => {};

  constructor(
    readonly socket: WebSocketLike,
    private readonly host: LinkHost,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  timer(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  clearTimers(): void {
    clearTimeout(this.heartbeatTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  get usable(): boolean {
    return this.role === 'active' && this.acceptsSends && this.socket.readyState === OPEN;
  }

  /** Sends a request frame the link answers itself (hello, subscribe, ping...). */
  request(action: string, fields: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    return new Promise((resolve, reject) => this.send(action, fields, timeoutMs, { action, resolve, reject }));
  }

  /** Sends `{...fields, action, id}`; `pending` settles with the reply, a timeout or the link's end. */
  send(action: string, fields: Record<string, unknown>, timeoutMs: number, pending: Pending): void {
    const id = `r${(++serial).toString(36)}`;
    let text: string;
    try {
      text = JSON.stringify({ ...fields, action, id });
    } catch (err) {
      pending.reject(new WskitError('BAD_REQUEST', `${action}: the fields cannot be serialised as JSON (${String(err)})`));
      return;
    }
    const maxFrameBytes = this.limits.maxFrameBytes;
    if (typeof maxFrameBytes === 'number' && text.length > maxFrameBytes / 3) {
      const bytes = new TextEncoder().encode(text).length;
      if (bytes > maxFrameBytes) {
        // The server would close the whole connection (1009): refuse this one send instead.
        pending.reject(new WskitError('PAYLOAD_TOO_LARGE', `${action}: the frame is ${bytes} bytes, the server accepts at most ${maxFrameBytes}`));
        return;
      }
    }
    pending.timer = setTimeout(() => {
      if (this.pending.get(id) !== pending) return;
      this.pending.delete(id);
      pending.reject(new WskitError('TIMEOUT', `no reply to ${action} within ${timeoutMs} ms`));
      this.maybeFinishDrain();
    }, timeoutMs);
    pending.sentAt = Date.now();
    this.pending.set(id, pending);
    try {
      this.socket.send(text);
      this.host.frame?.(this, 'out', text);
      this.host.sent();
    } catch (err) {
      this.kill({ kind: 'network-error', message: err instanceof Error ? err.message : String(err) }, 'CONNECTION_LOST');
    }
  }

  /** A frame arrived on the socket. */
  receive(raw: unknown): void {
    const text = typeof raw === 'string' ? raw : String(raw);
    this.host.frame?.(this, 'in', text);
    this.host.received();
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.host.problem(new WskitError('BAD_FRAME', 'the server sent a frame that is not JSON; ignored'));
      return;
    }
    if (!isObject(frame)) return;
    if (frame.type === 'message' && typeof frame.topic === 'string') {
      this.host.message(this, frame as unknown as MessageFrame<unknown>);
      return;
    }
    const id = frame.id;
    const pending = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (pending && typeof id === 'string') {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      if (pending.sentAt !== undefined) this.host.reply(Date.now() - pending.sentAt);
      if (frame.type === 'error') this.host.errorReply(this, pending, frame);
      else pending.resolve(frame as Reply);
      this.maybeFinishDrain();
      return;
    }
    if (frame.type === 'error') {
      const code = typeof frame.code === 'string' ? frame.code : 'INTERNAL';
      this.host.problem(new WskitError(code, String(frame.message ?? code), frame));
    }
  }

  /** Pings every `intervalMs` (capped at half the server's idle timeout); no pong in `timeoutMs` kills the link. */
  startHeartbeat(intervalMs: number | undefined, timeoutMs: number): void {
    if (intervalMs === undefined) return;
    clearTimeout(this.heartbeatTimer);
    const idle = this.limits.idleTimeoutSeconds;
    const interval = Math.min(intervalMs, typeof idle === 'number' && idle > 0 ? (idle * 1000) / 2 : Infinity);
    this.heartbeatTimer = setTimeout(() => this.ping(intervalMs, timeoutMs), interval);
  }

  /** Sends a ping now; no reply within `timeoutMs` declares the connection dead. */
  ping(intervalMs: number | undefined, timeoutMs: number): void {
    if (this.role !== 'active' || this.pingInFlight) return;
    clearTimeout(this.heartbeatTimer);
    this.pingInFlight = true;
    this.request('ping', { ts: Date.now() }, timeoutMs).then(
      () => {
        this.pingInFlight = false;
        if (this.role === 'active') this.startHeartbeat(intervalMs, timeoutMs);
      },
      (err: WskitError) => {
        this.pingInFlight = false;
        if (err.code === 'TIMEOUT') {
          this.kill({ kind: 'heartbeat-timeout', message: `no pong within ${timeoutMs} ms` }, 'CONNECTION_LOST');
        } else if (this.role === 'active') {
          // Any reply, even an error, proves the connection is alive.
          this.startHeartbeat(intervalMs, timeoutMs);
        }
      },
    );
  }

  /** Rejects what waits on this link with `code` (and a message saying why). */
  rejectPending(code: 'CONNECTION_LOST' | 'CLOSED', detail: string): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(new WskitError(code, `${detail} before a reply to ${pending.action} arrived`));
    }
  }

  /**
   * Marks the link dead, stops its timers, rejects what waits on it and tells its owner.
   * `code` is what its pending requests reject with.
   */
  kill(reason: CloseReason, code: 'CONNECTION_LOST' | 'CLOSED'): void {
    if (this.role === 'dead') return;
    this.role = 'dead';
    this.clearTimers();
    this.rejectPending(code, reason.kind === 'client' ? 'the client was closed' : `the connection closed (${reason.kind})`);
    if (this.socket.readyState <= OPEN && !this.closing) {
      // A dead socket may never finish a close handshake: terminate it when the runtime can.
      const terminate = (this.socket as { terminate?: () => void }).terminate;
      try {
        if (typeof terminate === 'function') terminate.call(this.socket);
        else this.socket.close(4000, reason.kind);
      } catch {
        // already closing
      }
    }
    this.host.dead(this);
    this.onDown(reason);
  }

  /** Closes the link politely; its messages still count until the close completes. */
  close(code: number, why: string): void {
    if (this.role === 'dead' || this.closing) return;
    this.closing = true;
    this.acceptsSends = false;
    clearTimeout(this.heartbeatTimer);
    try {
      this.socket.close(code, why);
    } catch {
      this.kill({ kind: 'client', code, message: why }, 'CONNECTION_LOST');
      return;
    }
    // If the close handshake never completes, do not wait forever.
    this.timer(() => this.kill({ kind: 'client', code, message: why }, 'CONNECTION_LOST'), 3000);
  }

  /** A draining link closes once its overlap is over and its requests are answered. */
  maybeFinishDrain(): void {
    if (this.role === 'draining' && this.overlapDone && this.pending.size === 0) this.close(1000, 'rotated');
  }

  /** The old connection of a rotation: no new sends; closed after the overlap, once its requests are answered. */
  drain(overlapMs: number, drainTimeoutMs: number): void {
    if (this.role === 'dead') return;
    this.role = 'draining';
    this.acceptsSends = false;
    this.clearTimers();
    this.onDown = () => {};
    this.timer(() => {
      this.overlapDone = true;
      this.maybeFinishDrain();
    }, overlapMs);
    this.timer(() => this.close(1000, 'rotated'), Math.max(overlapMs, drainTimeoutMs));
  }
}

/** Why a socket closed, read from its close event and the error before it. */
export function closeReason(event: { code?: number; reason?: string }, errorDetail: string | undefined): CloseReason {
  const status = errorDetail ? /Unexpected server response: (\d{3})/.exec(errorDetail)?.[1] : undefined;
  if (status === '401' || status === '403') {
    return { kind: 'unauthorized', status: Number(status), code: event.code ?? 1006, message: errorDetail };
  }
  if (event.code === 1006 || event.code === undefined) {
    const reason: CloseReason = { kind: 'network-error', code: 1006, ...(errorDetail ? { message: errorDetail } : {}) };
    if (status) reason.status = Number(status);
    return reason;
  }
  return { kind: 'server-close', code: event.code, message: event.reason ?? '' };
}

export function errorMessage(event: unknown): string | undefined {
  if (!isObject(event)) return undefined;
  if (typeof event.message === 'string' && event.message) return event.message;
  const error = event.error;
  if (error instanceof Error) return error.message;
  return undefined;
}

export class LinkFailure extends Error {
  constructor(
    readonly reason: CloseReason,
    /** The failure happened before the socket opened. */
    readonly beforeOpen: boolean,
    /** The runtime said why (Node's `ws` does, a browser does not). */
    readonly detailed: boolean,
    /** The runtime refused to create the socket at all (a policy, a missing feature). */
    readonly blocked = false,
  ) {
    super(reason.message ?? reason.kind);
  }
}
