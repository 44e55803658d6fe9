// The demo page's only WebSocket code: a thin request/response wrapper over the wire
// protocol v1. Swap this module for @wskit/client when it lands; app.js only uses
// connect(), request(), close() and the four callbacks below.

/**
 * @typedef {{ type: string, id?: string, [key: string]: unknown }} ServerFrame
 * @typedef {{
 *   onState?: (state: 'connecting' | 'open' | 'closed', detail?: { code: number, reason: string }) => void,
 *   onMessage?: (frame: ServerFrame) => void,
 *   onFrame?: (direction: 'in' | 'out', text: string) => void,
 * }} Callbacks
 */

export class DemoConnection {
  /** @param {Callbacks} callbacks */
  constructor(callbacks = {}) {
    this.callbacks = callbacks;
    /** @type {WebSocket | undefined} */
    this.socket = undefined;
    /** @type {Map<string, { resolve: (f: ServerFrame) => void, reject: (e: Error) => void, timer: number }>} */
    this.pending = new Map();
    this.nextId = 1;
  }

  /**
   * Opens the socket; resolves once it is open, rejects when the upgrade is refused
   * (browsers do not expose the HTTP status: 401/403 both look like a close with 1006).
   * @param {string} url ws(s)://host:port/  @param {string} token
   */
  connect(url, token) {
    this.close();
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
      this.socket = socket;
      let opened = false;
      this.callbacks.onState?.('connecting');
      socket.addEventListener('open', () => {
        opened = true;
        this.callbacks.onState?.('open');
        resolve(undefined);
      });
      socket.addEventListener('message', (event) => {
        const text = String(event.data);
        this.callbacks.onFrame?.('in', text);
        /** @type {ServerFrame} */
        let frame;
        try {
          frame = JSON.parse(text);
        } catch {
          return;
        }
        const waiter = frame.id === undefined ? undefined : this.pending.get(frame.id);
        if (waiter) {
          this.pending.delete(/** @type {string} */ (frame.id));
          clearTimeout(waiter.timer);
          waiter.resolve(frame);
        } else {
          this.callbacks.onMessage?.(frame);
        }
      });
      socket.addEventListener('close', (event) => {
        if (this.socket === socket) this.socket = undefined;
        for (const [, waiter] of this.pending) waiter.reject(new Error('connection closed'));
        this.pending.clear();
        this.callbacks.onState?.('closed', { code: event.code, reason: event.reason });
        if (!opened) reject(new Error('the gateway refused the connection (bad or expired token?)'));
      });
    });
  }

  /**
   * Sends `{action, id, ...fields}` and resolves with the reply carrying the same id.
   * @param {string} action  @param {Record<string, unknown>} [fields]
   * @returns {Promise<ServerFrame>}
   */
  request(action, fields = {}) {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
    const id = `r${this.nextId++}`;
    const text = JSON.stringify({ action, id, ...fields });
    return new Promise((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${action} within 10 s`));
      }, 10_000);
      this.pending.set(id, { resolve, reject, timer });
      this.callbacks.onFrame?.('out', text);
      socket.send(text);
    });
  }

  close() {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000, 'bye');
    this.socket = undefined;
  }
}
