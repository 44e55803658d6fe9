import { LIMITS } from '@wskit/protocol';

/** Seconds a connection row outlives the 2 h connection maximum before TTL may remove it. */
export const TTL_MARGIN_SECONDS = 300;

/** TTL (epoch seconds) of a connection and its subscriptions: floor(connectedAt/1000) + 7200 + 300. */
export function connectionExpiresAt(connectedAtMs: number): number {
  return Math.floor(connectedAtMs / 1000) + LIMITS.maxConnectionSeconds + TTL_MARGIN_SECONDS;
}
