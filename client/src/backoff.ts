export interface BackoffOptions {
  /** Base delay of the first retry, in ms. Default 500. */
  minDelayMs?: number;
  /** Upper bound of any delay, in ms. Default 30 000. */
  maxDelayMs?: number;
  /** Growth factor per failed attempt. Default 2. */
  factor?: number;
}

/**
 * Exponential backoff with full jitter: the n-th delay (n from 0) is uniformly random in
 * [0, min(maxDelayMs, minDelayMs * factor^n)]. Full jitter spreads a crowd of clients that
 * lost the same server, so they do not all come back in the same instant.
 */
export class Backoff {
  #attempts = 0;
  readonly #min: number;
  readonly #max: number;
  readonly #factor: number;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.#min = options.minDelayMs ?? 500;
    this.#max = options.maxDelayMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    if (!(this.#min >= 0) || !(this.#max >= this.#min) || !(this.#factor >= 1)) {
      throw new RangeError(
        `reconnect: need 0 <= minDelayMs <= maxDelayMs and factor >= 1 (got ${this.#min}, ${this.#max}, ${this.#factor})`,
      );
    }
  }

  /** How many delays were handed out since the last reset. */
  get attempt(): number {
    return this.#attempts;
  }

  /** The ceiling of the next delay, before jitter. */
  ceiling(): number {
    return Math.min(this.#max, this.#min * Math.pow(this.#factor, this.#attempts));
  }

  next(): number {
    const delay = Math.round(this.random() * this.ceiling());
    this.#attempts += 1;
    return delay;
  }

  reset(): void {
    this.#attempts = 0;
  }
}
