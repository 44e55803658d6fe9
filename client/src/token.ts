import { readTokenTimes } from './jwt';

/** Why the client asks its token provider for a token. */
export type TokenRefreshReason =
  /** The first token of this client. */
  | 'initial'
  /** The current token's `exp` is near: refreshed ahead of time. */
  | 'expiring'
  /** The server replied `TOKEN_EXPIRED`. */
  | 'expired'
  /** The server refused the upgrade with 401/403. */
  | 'unauthorized'
  /**
   * Several connection attempts in a row failed before the socket opened, with no detail
   * (a browser reports a refused upgrade as error + close 1006): the token may be the cause.
   */
  | 'connect-failures';

export type TokenProvider = (context: { reason: TokenRefreshReason }) => string | Promise<string>;

/** Holds the current token, decides when to refresh it, and shares one refresh at a time. */
export class TokenSource {
  #token: string | undefined;
  #expMs: number | undefined;
  #refreshAtMs: number | undefined;
  #staleReason: TokenRefreshReason | undefined = 'initial';
  #inflight: Promise<string> | undefined;

  constructor(
    private readonly source: string | TokenProvider,
    /** `false`: no refresh ahead of `exp`. */
    private readonly refreshBeforeExpiryMs: number | false,
    private readonly onRefreshed: (reason: TokenRefreshReason, expiresAt: number | undefined) => void,
  ) {
    if (typeof source === 'string') {
      if (source.length === 0) throw new TypeError('connect({ token }): the token is an empty string');
      this.#accept(source);
      this.#staleReason = undefined;
    } else if (typeof source !== 'function') {
      throw new TypeError('connect({ token }): pass a string or a function that returns (a promise of) a string');
    }
  }

  /** True when a new token can be obtained (a provider function, not a fixed string). */
  get refreshable(): boolean {
    return typeof this.source === 'function';
  }

  /** When the current token should be replaced (epoch ms), if it carries an `exp`. */
  get refreshAt(): number | undefined {
    return this.refreshable ? this.#refreshAtMs : undefined;
  }

  /** The next `get()` asks the provider for a new token. */
  invalidate(reason: TokenRefreshReason): void {
    if (this.refreshable && !this.#staleReason) this.#staleReason = reason;
  }

  async get(): Promise<string> {
    const provider = this.source;
    if (typeof provider !== 'function') return provider;
    if (this.#token && !this.#staleReason && !(this.#refreshAtMs !== undefined && Date.now() >= this.#refreshAtMs)) {
      return this.#token;
    }
    if (!this.#inflight) {
      const reason = this.#staleReason ?? 'expiring';
      this.#inflight = (async () => {
        const token = await provider({ reason });
        if (typeof token !== 'string' || token.length === 0) {
          throw new TypeError('the token provider must return a non-empty string');
        }
        this.#accept(token);
        this.#staleReason = undefined;
        this.onRefreshed(reason, this.#expMs);
        return token;
      })().finally(() => {
        this.#inflight = undefined;
      });
    }
    return this.#inflight;
  }

  #accept(token: string): void {
    this.#token = token;
    const times = readTokenTimes(token);
    this.#expMs = times?.expMs;
    if (!times || this.refreshBeforeExpiryMs === false) {
      this.#refreshAtMs = undefined;
      return;
    }
    // Refresh `refreshBeforeExpiryMs` ahead of exp, but never earlier than 3/4 of the
    // token's life: a short-lived token would otherwise be refreshed as soon as it arrives.
    const lifetime = Math.max(0, times.expMs - (times.iatMs ?? Date.now()));
    this.#refreshAtMs = times.expMs - Math.min(this.refreshBeforeExpiryMs, lifetime / 4);
  }
}
