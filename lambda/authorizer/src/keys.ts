import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Denial } from './denial';
import { fetchJwks } from './jwks-fetch';

/** A verification key built from one JWK of the set. */
export interface VerificationKey {
  key: KeyObject;
  kty: 'RSA' | 'EC';
  /** EC only: `P-256`, `P-384` or `P-521`. */
  crv?: string;
  /** The JWK's own `alg`, when the set declares one (RFC 7517 4.4). */
  alg?: string;
}

/** What one successful fetch gave: the whole set, replacing the previous one. */
interface KeySet {
  byKid: Map<string, VerificationKey>;
  /** Every usable key, with or without a `kid` (a token without `kid` needs exactly one). */
  all: VerificationKey[];
  /** When the fetch that produced it started (ages count from there). */
  fetchedAt: number;
}

export interface JwksCacheOptions {
  jwksUri: string;
  /** A set is fresh this long after its fetch started. */
  maxAgeMs: number;
  /** Least time between the starts of two fetches, whoever asks. */
  minRefreshIntervalMs: number;
  /** After `maxAgeMs`, a set whose refresh fails keeps serving its keys this long. */
  staleGraceMs: number;
  timeoutMs: number;
  maxBytes?: number;
  /** Clock (epoch ms); tests drive it. */
  now?: () => number;
  /** Told when a fetch fails (the error is ours or node's, never token data). */
  onRefreshError?: (error: unknown) => void;
}

const CURVES = new Set(['P-256', 'P-384', 'P-521']);
const MAX_KEYS = 100;
const MAX_KID_LENGTH = 256;
const MIN_RSA_BITS = 2048;

/**
 * One JWK to a verification key, or undefined when the set lists something this authorizer
 * must not or cannot use: another `use` than `sig`, a private key, a symmetric or OKP key,
 * key operations without `verify`, an RSA key under 2048 bits, a malformed key. Only the public members reach
 * `createPublicKey`, so a stray field cannot change what is built.
 */
function toKey(jwk: unknown): { kid?: string; key: VerificationKey } | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return undefined;
  const entry = jwk as Record<string, unknown>;
  const own = (name: string): unknown => (Object.hasOwn(entry, name) ? entry[name] : undefined);
  if (own('use') !== undefined && own('use') !== 'sig') return undefined;
  const ops = own('key_ops');
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return undefined;
  if (own('d') !== undefined) return undefined; // a private key has no place in a JWKS
  const kid = own('kid');
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) return undefined;
  const alg = own('alg');
  if (alg !== undefined && typeof alg !== 'string') return undefined;
  const kty = own('kty');
  let material: JsonWebKey;
  let crv: string | undefined;
  if (kty === 'RSA') {
    const n = own('n');
    const e = own('e');
    if (typeof n !== 'string' || typeof e !== 'string') return undefined;
    material = { kty, n, e };
  } else if (kty === 'EC') {
    const x = own('x');
    const y = own('y');
    crv = own('crv') as string;
    if (typeof x !== 'string' || typeof y !== 'string' || !CURVES.has(crv)) return undefined;
    material = { kty, crv, x, y };
  } else {
    return undefined;
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: material, format: 'jwk' });
  } catch {
    return undefined;
  }
  // RFC 7518 3.3: RS* and PS* keys are 2048 bits or larger (a garbled `n` also ends here).
  if (kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return undefined;
  const built: VerificationKey = { key, kty };
  if (crv !== undefined) built.crv = crv;
  if (alg !== undefined) built.alg = alg;
  return kid === undefined ? { key: built } : { kid, key: built };
}

function toKeySet(keys: unknown[], fetchedAt: number): KeySet {
  const byKid = new Map<string, VerificationKey>();
  const all: VerificationKey[] = [];
  for (const jwk of keys.slice(0, MAX_KEYS)) {
    const built = toKey(jwk);
    if (built === undefined) continue;
    if (built.kid !== undefined) {
      // Two keys under one kid: the first listed wins, as the IdP's own order says.
      if (byKid.has(built.kid)) continue;
      byKid.set(built.kid, built.key);
    }
    all.push(built.key);
  }
  return { byKid, all, fetchedAt };
}

/**
 * The JWKS as one cached set, in module scope for the life of the execution environment.
 *
 * - Each successful fetch replaces the whole set: a key the IdP removed is gone after the
 *   next successful refresh, and nothing can bring it back.
 * - One fetch in flight at a time, shared by everyone waiting for it.
 * - Fetches start at least `minRefreshIntervalMs` apart, whatever asks for them (a stale
 *   set, an unknown `kid`, a cold start, a failing endpoint): at the default 10 s, at most
 *   6 in any minute. A request that would need a fetch inside that interval does not wait
 *   for it: it is answered from the set at hand.
 * - A fresh set (younger than `maxAgeMs`) answers known kids without any fetch, so tokens
 *   signed by a listed key never depend on what other tokens do. An unknown kid asks for a
 *   refresh (the IdP may have published a new key); a storm of made-up kids therefore
 *   refreshes the set once per interval, which also brings in a rotated key.
 * - A stale set (older than `maxAgeMs`) is refreshed by the next request that needs a key;
 *   while refreshes fail it keeps serving its keys for `staleGraceMs`, then nothing is
 *   served until a fetch succeeds ("jwks unavailable").
 */
export class JwksCache {
  private set: KeySet | undefined;
  private inFlight: Promise<void> | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastAttemptFailed = false;
  private attempts = 0;
  private readonly now: () => number;

  constructor(private readonly options: JwksCacheOptions) {
    if (!(options.minRefreshIntervalMs > 0) || !(options.maxAgeMs >= options.minRefreshIntervalMs) || !(options.staleGraceMs >= 0)) {
      throw new RangeError('JwksCache: need minRefreshIntervalMs > 0, maxAgeMs >= minRefreshIntervalMs and staleGraceMs >= 0');
    }
    this.now = options.now ?? Date.now;
  }

  /** JWKS fetches started so far (successful or not). */
  get fetches(): number {
    return this.attempts;
  }

  /** The key for a token's `kid` (or the only key, for a token without one), or a Denial. */
  async resolve(kid: string | undefined): Promise<VerificationKey> {
    const current = this.set;
    const stale = current === undefined || this.now() - current.fetchedAt >= this.options.maxAgeMs;
    const unknown = current !== undefined && kid !== undefined && !current.byKid.has(kid);
    if (stale || unknown) await this.refresh();

    const set = this.set;
    if (set === undefined || this.now() - set.fetchedAt >= this.options.maxAgeMs + this.options.staleGraceMs) {
      throw new Denial('jwks unavailable');
    }
    if (kid === undefined) {
      if (set.all.length === 1) return set.all[0] as VerificationKey;
      throw new Denial(set.all.length === 0 ? 'unknown kid' : 'no kid and several keys');
    }
    const key = set.byKid.get(kid);
    if (key !== undefined) return key;
    // Not in the set: when the last fetch failed, the IdP could not be asked; say so in the log.
    throw new Denial(this.lastAttemptFailed ? 'unknown kid (jwks refresh failed)' : 'unknown kid');
  }

  /**
   * Joins the fetch in flight, or starts one when the interval allows. Resolves when that
   * fetch settled, or at once when none may start now; never rejects.
   */
  private refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const startedAt = this.now();
    if (startedAt - this.lastAttemptAt < this.options.minRefreshIntervalMs) return Promise.resolve();
    this.lastAttemptAt = startedAt;
    this.attempts += 1;
    const fetchOptions = this.options.maxBytes === undefined ? { timeoutMs: this.options.timeoutMs } : { timeoutMs: this.options.timeoutMs, maxBytes: this.options.maxBytes };
    this.inFlight = fetchJwks(this.options.jwksUri, fetchOptions)
      .then(
        ({ keys }) => {
          this.set = toKeySet(keys, startedAt);
          this.lastAttemptFailed = false;
        },
        (error: unknown) => {
          this.lastAttemptFailed = true;
          try {
            this.options.onRefreshError?.(error);
          } catch {
            // a reporting failure must not turn into an unhandled rejection
          }
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
