/**
 * A token bucket: `ratePerSecond` tokens flow in, at most `burst` are kept, each request
 * takes one. API Gateway throttles an account's requests (the @connections callbacks
 * included) this way: 10,000 requests per second with a bucket of 5,000.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new Error(`a token bucket needs a positive rate and a burst of at least 1 (got ${ratePerSecond}/s, ${burst})`);
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty (the request is throttled). */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
