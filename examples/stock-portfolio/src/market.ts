/**
 * The price simulator's arithmetic, apart from any I/O: a random walk per symbol (log-normal
 * steps, pulled gently back toward the open so a long demo does not drift away), and the alert
 * rule (a move of at least `thresholdPct` from the reference price; the reference then moves to
 * the alerted price, so the next alert needs another move of that size).
 */
export type Random = () => number;

/** A standard normal draw (Box-Muller). */
export function gaussian(random: Random): number {
  let u = 0;
  while (u === 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface WalkOptions {
  /** Standard deviation of one step's log return (default 0.002: 0.2 %). */
  volatility: number;
  /** Fraction of the distance to the open closed per step (default 0.002). */
  reversion: number;
}

export function nextPrice(price: number, open: number, random: Random, { volatility, reversion }: WalkOptions): number {
  const drift = reversion * Math.log(open / price);
  const next = price * Math.exp(drift + volatility * gaussian(random));
  return Math.max(0.01, Math.round(next * 100) / 100);
}

export interface AlertCheck {
  direction: 'up' | 'down';
  changePct: number;
}

/** A move from `reference` to `price` of at least `thresholdPct` percent, or undefined. */
export function crossed(reference: number, price: number, thresholdPct: number): AlertCheck | undefined {
  const changePct = ((price - reference) / reference) * 100;
  if (Math.abs(changePct) < thresholdPct) return undefined;
  return { direction: changePct > 0 ? 'up' : 'down', changePct: Math.round(changePct * 100) / 100 };
}

/** A seeded generator (mulberry32) for reproducible runs and tests. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
