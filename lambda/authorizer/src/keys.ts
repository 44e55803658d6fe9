import { createPublicKey } from 'node:crypto';
import type { JwksClient } from 'jwks-rsa';
import { Denial } from './denial';
import { createJwksFetcher, JwksRefetchRateLimited } from './jwks-fetch';
import { loadJwksRsa } from './libs';

export interface ResolvedKey {
  /** SPKI PEM of the public key. */
  pem: string;
  /** The JWK's own `alg`, when the key set declares one. */
  alg?: string;
}

export interface KeyResolverOptions {
  jwksUri: string;
  requestsPerMinute: number;
  cacheMaxAgeSeconds: number;
  timeoutMs: number;
}

/** How long a key that was good stays usable while the JWKS cannot be asked again. */
const STALE_KEY_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const MAX_REMEMBERED_KEYS = 50;

/**
 * Signing keys from a JWKS, cached per `kid` in module scope by jwks-rsa (LRU with a max
 * age). A cache miss (an unknown `kid`, or a known one whose entry expired) refetches the
 * JWKS through our fetcher, which allows at most `requestsPerMinute` fetches in any
 * minute and refuses beyond that at once. jwks-rsa's own `rateLimit` is not used: its
 * token bucket queues a concurrent burst for up to a minute instead of refusing it.
 *
 * The budget is shared: while a storm has spent it, a legitimate key whose cache entry
 * expires could not be refetched. So every key that resolved once is remembered. When its
 * refetch is refused, the JWKS is asked again on a small budget of its own (`confirm`):
 * still listed with the same key material, it is served; gone, it is forgotten and refused,
 * so a storm can hide neither a rotation nor a revocation. When the endpoint is down (or
 * even the confirmation budget is spent) the remembered key is served for up to a day
 * (stale-if-error).
 */
export class KeyResolver {
  private client: Promise<JwksClient> | undefined;
  private readonly fetcher: ReturnType<typeof createJwksFetcher>;
  private readonly remembered = new Map<string, ResolvedKey & { at: number }>();

  constructor(private readonly options: KeyResolverOptions) {
    this.fetcher = createJwksFetcher({ requestsPerMinute: options.requestsPerMinute, timeoutMs: options.timeoutMs });

  }

  /** jwks-rsa (with jose, lru-memoizer, debug) is loaded on the first key lookup. */
  private jwksClient(): Promise<JwksClient> {
    this.client ??= loadJwksRsa().then(
      ({ JwksClient: Client }) =>
        new Client({
          jwksUri: this.options.jwksUri,
          fetcher: this.fetcher,
          cache: true,
          cacheMaxEntries: 20,
          cacheMaxAge: this.options.cacheMaxAgeSeconds * 1000,
          rateLimit: false,
        }),
    );
    return this.client;
  }

  /** JWKS requests made so far (for logs and tests). */
  get fetches(): number {
    return this.fetcher.fetches;
  }

  async resolve(kid: string | undefined): Promise<ResolvedKey> {
    const memo = kid ?? '';
    const client = await this.jwksClient();
    try {
      const key = await client.getSigningKey(kid);
      const resolved: ResolvedKey = key.alg ? { pem: key.getPublicKey(), alg: key.alg } : { pem: key.getPublicKey() };
      this.remember(memo, resolved);
      return resolved;
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'SigningKeyNotFoundError') {
        this.remembered.delete(memo);
        throw new Denial(kid === undefined ? 'no kid and several keys' : 'unknown kid');
      }
      const stale = this.remembered.get(memo);
      if (stale && kid !== undefined && error instanceof JwksRefetchRateLimited) {
        const listed = await this.confirm(kid, stale.pem);
        if (listed === false) {
          this.remembered.delete(memo);
          throw new Denial('unknown kid');
        }
        if (listed === true) {
          this.remember(memo, stale);
          return stale.alg ? { pem: stale.pem, alg: stale.alg } : { pem: stale.pem };
        }
      }
      if (stale && Date.now() - stale.at < STALE_KEY_MAX_AGE_MS) {
        return stale.alg ? { pem: stale.pem, alg: stale.alg } : { pem: stale.pem };
      }
      if (error instanceof JwksRefetchRateLimited) throw new Denial('unknown kid (jwks refetch rate-limited)');
      throw new Denial('jwks unavailable');
    }
  }

  /** Is `kid` still in the JWKS with the same key? `undefined` when the JWKS cannot tell. */
  private async confirm(kid: string, pem: string): Promise<boolean | undefined> {
    let keys: unknown[];
    try {
      ({ keys } = await this.fetcher.confirm(this.options.jwksUri));
    } catch {
      return undefined;
    }
    const jwk = keys.find((candidate) => (candidate as { kid?: unknown } | null)?.kid === kid);
    if (jwk === undefined) return false;
    try {
      const listedPem = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      return listedPem.toString() === pem;
    } catch {
      return false;
    }
  }

  private remember(memo: string, key: ResolvedKey): void {
    this.remembered.delete(memo);
    this.remembered.set(memo, key.alg ? { pem: key.pem, alg: key.alg, at: Date.now() } : { pem: key.pem, at: Date.now() });
    if (this.remembered.size > MAX_REMEMBERED_KEYS) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
  }
}
