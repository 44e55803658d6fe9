/**
 * Rate limits that hold across Lambda instances: a fixed-window counter per key (a
 * connection's frames, a user's publishes) in the wskit table,
 *
 *   pk = rate#<key>, sk = w#<window number>, n = units taken, expiresAt = window end + 1 h
 *
 * taken with a conditional `ADD n :k` that never lets n pass the limit. A client cannot
 * dodge it by landing on other instances: they all count in the same item.
 *
 * To keep the cost per frame low, an instance takes units in leases: the first frame of a
 * window takes 1; while frames keep coming in the same window it takes 2, 4, ... up to
 * `maxLease` units per write and spends them locally. Units an instance leased and did not
 * use are lost when the window ends (the limit is then a little stricter, never looser).
 * Once the limit is reached, the instance remembers it until the window ends, so a flood
 * costs one write per instance per window, not one per frame. The lease cache is bounded;
 * evicting an entry only costs that key a write.
 *
 * A failure to reach the table lets the request through (and says so): the limits protect
 * the service from a client, not the client from an outage.
 */
import { TableAccess, isConditionalCheckFailed, type TableAccessOptions } from './table-access';

export interface RateRule {
  /** Units per window; 0 = no limit. */
  limit: number;
  windowSeconds: number;
}

export type RateDecision = { allowed: true; degraded?: true } | { allowed: false; retryAfterMs: number };

export interface RateLimiterOptions extends TableAccessOptions {
  /** Most units one write takes. Default 16. */
  maxLease?: number;
  /** Keys whose leases are kept in memory. Default 10,000. */
  maxKeys?: number;
  now?: () => number;
  /** Called when the table could not be reached and the request was let through. */
  onError?: (error: unknown) => void;
}

interface Lease {
  window: number;
  /** Units leased and not yet spent. */
  remaining: number;
  /** Units the next write asks for. */
  next: number;
  /** The limit was reached in this window. */
  exhausted: boolean;
}

export class RateLimiter {
  private readonly table: TableAccess;
  private readonly maxLease: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly onError: ((error: unknown) => void) | undefined;
  private readonly leases = new Map<string, Lease>();
  /** Writes made so far (for measurements). */
  writes = 0;

  constructor(options: RateLimiterOptions) {
    this.table = new TableAccess(options);
    this.maxLease = Math.max(1, options.maxLease ?? 16);
    this.maxKeys = Math.max(1, options.maxKeys ?? 10_000);
    this.now = options.now ?? Date.now;
    this.onError = options.onError;
  }

  /** Takes one unit for `key` under `rule`. */
  async take(key: string, rule: RateRule): Promise<RateDecision> {
    if (rule.limit <= 0) return { allowed: true };
    const windowMs = rule.windowSeconds * 1000;
    const nowMs = this.now();
    const window = Math.floor(nowMs / windowMs);
    const retryAfterMs = (window + 1) * windowMs - nowMs;
    let lease = this.leases.get(key);
    if (!lease || lease.window !== window) lease = { window, remaining: 0, next: 1, exhausted: false };
    // Most recently used last, so eviction drops the least recently used key.
    this.leases.delete(key);
    this.leases.set(key, lease);
    if (this.leases.size > this.maxKeys) this.leases.delete(this.leases.keys().next().value as string);

    if (lease.remaining > 0) {
      lease.remaining--;
      return { allowed: true };
    }
    if (lease.exhausted) return { allowed: false, retryAfterMs };
    const wanted = Math.min(lease.next, this.maxLease, rule.limit);
    try {
      let granted = await this.lease(key, window, windowMs, wanted, rule.limit);
      // Fewer than `wanted` may be left: take the last ones one at a time.
      if (granted === 0 && wanted > 1) granted = await this.lease(key, window, windowMs, 1, rule.limit);
      if (granted === 0) {
        lease.exhausted = true;
        return { allowed: false, retryAfterMs };
      }
      lease.remaining += granted - 1;
      lease.next = Math.min(this.maxLease, granted * 2);
      return { allowed: true };
    } catch (error) {
      this.onError?.(error);
      return { allowed: true, degraded: true };
    }
  }

  private async lease(key: string, window: number, windowMs: number, units: number, limit: number): Promise<number> {
    const { UpdateCommand } = await this.table.commands();
    const client = await this.table.client();
    this.writes++;
    try {
      await client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk: `rate#${key}`, sk: `w#${window}` },
          UpdateExpression: 'ADD n :units SET expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(n) OR n <= :most',
          ExpressionAttributeValues: {
            ':units': units,
            ':most': limit - units,
            ':expires': Math.ceil(((window + 1) * windowMs) / 1000) + 3600,
          },
        }),
      );
      return units;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 0;
      throw error;
    }
  }
}
