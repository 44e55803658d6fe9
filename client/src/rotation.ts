/**
 * Rotation: before the server's connection cap (API Gateway: 2 h) or the token's `exp`, a
 * second connection is opened, welcomed and subscribed, sends switch to it, and the old one
 * drains. A failed attempt keeps the old connection and tries again with backoff.
 */
import { Backoff } from './backoff';
import { LinkFailure, type Link } from './connection';
import type { RotationReason } from './types';

export interface RotationHost {
  active(): Link | undefined;
  stopped(): boolean;
  /** Opens, welcomes and subscribes a new connection (rejects with a LinkFailure). */
  open(): Promise<Link>;
  /** Makes `link` the connection in use. */
  activate(link: Link, reason: RotationReason): void;
  /** The attempt failed. `retry` is true when the old connection still works. */
  failed(error: unknown, retry: boolean): void;
  /** Epoch ms at which the token should be replaced, if known. */
  tokenRefreshAt(): number | undefined;
  tokenExpiring(): void;
}

export interface RotationOptions {
  maxConnectionMs: number;
  rotateAt: number | undefined;
}

export class Rotation {
  rotating = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #backoff = new Backoff({ minDelayMs: 1000, maxDelayMs: 15_000 });

  constructor(
    private readonly host: RotationHost,
    private readonly options: RotationOptions,
  ) {}

  /** Timers on the active link: rotate before the server's cap and before the token expires. */
  schedule(link: Link): void {
    const now = Date.now();
    const { rotateAt, maxConnectionMs } = this.options;
    if (rotateAt !== undefined) {
      const serverMax = link.limits.maxConnectionSeconds;
      const maxAge = Math.min(maxConnectionMs, typeof serverMax === 'number' && serverMax > 0 ? serverMax * 1000 : Infinity);
      link.timer(() => void this.start('max-age'), Math.max(0, link.openedAt + maxAge * rotateAt - now));
    }
    const refreshAt = this.host.tokenRefreshAt();
    if (refreshAt !== undefined) {
      // At least a second, so a provider that keeps handing out a nearly expired token
      // cannot make the client rotate in a tight loop.
      link.timer(() => {
        this.host.tokenExpiring();
        void this.start('token-expiring');
      }, Math.max(1000, refreshAt - now));
    }
  }

  /**
   * Opens a second connection, says hello, subscribes every topic, then switches sends to it
   * and drains the old one. Messages that arrive on both during the overlap are delivered once.
   */
  async start(reason: RotationReason): Promise<void> {
    const host = this.host;
    if (host.stopped() || this.rotating || !host.active()) return; // not connected: the next connection starts fresh anyway
    this.rotating = true;
    this.stop();
    let link: Link;
    try {
      link = await host.open();
    } catch (err) {
      this.rotating = false;
      if (host.stopped()) return;
      const retry = host.active() !== undefined;
      if (retry) this.#timer = setTimeout(() => void this.start(reason), this.#backoff.next());
      host.failed(err instanceof LinkFailure ? err : new LinkFailure({ kind: 'network-error', message: String(err) }, true, true), retry);
      return;
    }
    this.rotating = false;
    this.#backoff.reset();
    if (host.stopped()) {
      link.close(1000, 'client closed');
      return;
    }
    host.activate(link, reason);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}
