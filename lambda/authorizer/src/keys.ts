import { JwksClient } from 'jwks-rsa';
import { Denial } from './denial';

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
 * JWKS through jwks-rsa's token-bucket limiter, so a storm of made-up `kid`s costs at most
 * `requestsPerMinute` fetches a minute.
 *
 * The limiter is shared: while a storm has drained it, a legitimate key whose cache entry
 * expires would be refused. So every key that verified once is remembered, and served
 * again when the refetch is rate-limited or the JWKS endpoint is down (stale-if-error, up
 * to a day). It is forgotten as soon as a successful fetch no longer lists it (rotation
 * or revocation).
 */
export class KeyResolver {
  private readonly client: JwksClient;
  private readonly remembered = new Map<string, ResolvedKey & { at: number }>();

  constructor(options: KeyResolverOptions) {
    this.client = new JwksClient({
      jwksUri: options.jwksUri,
      cache: true,
      cacheMaxEntries: 20,
      cacheMaxAge: options.cacheMaxAgeSeconds * 1000,
      rateLimit: true,
      jwksRequestsPerMinute: options.requestsPerMinute,
      timeout: options.timeoutMs,
    });
  }

  async resolve(kid: string | undefined): Promise<ResolvedKey> {
    const memo = kid ?? '';
    try {
      const key = await this.client.getSigningKey(kid);
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
      if (stale && Date.now() - stale.at < STALE_KEY_MAX_AGE_MS) {
        return stale.alg ? { pem: stale.pem, alg: stale.alg } : { pem: stale.pem };
      }
      if (name === 'JwksRateLimitError') throw new Denial('unknown kid (jwks refetch rate-limited)');
      throw new Denial('jwks unavailable');
    }
  }

  private remember(memo: string, key: ResolvedKey): void {
    this.remembered.delete(memo);
    this.remembered.set(memo, { ...key, at: Date.now() });
    if (this.remembered.size > MAX_REMEMBERED_KEYS) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
  }
}
