import { subjectProblem } from '@wskit/protocol';
import type * as jwt from 'jsonwebtoken';
import type { AuthorizerConfig } from './config';
import { Denial, type DenialReason } from './denial';
import type { JwksCache, VerificationKey } from './keys';
import { loadJsonwebtoken } from './libs';
import { inspectToken } from './token';

export interface VerifiedIdentity {
  sub: string;
  /** Space-separated scopes, "" when the token has none. */
  scope: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const EC_CURVE_OF = new Map([['ES256', 'P-256'], ['ES384', 'P-384'], ['ES512', 'P-521']]);

/** RS and PS need an RSA key; ES256/384/512 an EC key on P-256/384/521 (RFC 7518 3.1). */
function keyFits(alg: string, key: VerificationKey): boolean {
  // A JWK that names its algorithm is only good for that algorithm (RFC 7517 4.4).
  if (key.alg !== undefined && key.alg !== alg) return false;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return key.kty === 'RSA';
  if (alg.startsWith('ES')) return key.kty === 'EC' && key.crv !== undefined && key.crv === EC_CURVE_OF.get(alg);
  return false;
}

/** Maps jsonwebtoken's errors to fixed reasons; its messages are never logged as such. */
function reasonOf(error: unknown): DenialReason {
  if (!(error instanceof Error)) return 'invalid token';
  if (error.name === 'TokenExpiredError') return 'jwt expired';
  if (error.name === 'NotBeforeError') return 'jwt not active';
  const message = error.message;
  if (message === 'invalid signature') return 'invalid signature';
  if (message === 'invalid exp value') return 'missing or invalid exp';
  if (message.startsWith('jwt audience invalid')) return 'wrong audience';
  if (message.startsWith('jwt issuer invalid')) return 'wrong issuer';
  if (message === 'invalid algorithm') return 'algorithm not allowed';
  if (message === 'jwt malformed' || message === 'invalid token') return 'malformed token';
  return 'invalid token';
}

function scopeOf(payload: jwt.JwtPayload): string {
  // `scope` (RFC 8693, OAuth) is a space-separated string; some issuers send `scp` or arrays.
  const claim: unknown = payload.scope ?? payload.scp;
  if (claim === undefined || claim === null) return '';
  const parts = typeof claim === 'string' ? claim.split(' ') : claim;
  if (!Array.isArray(parts) || !parts.every((part) => typeof part === 'string' && !CONTROL_CHARS.test(part))) {
    throw new Denial('invalid scope');
  }
  const scope = (parts as string[]).filter((part) => part.length > 0).join(' ');
  if (scope.length > 4096) throw new Denial('invalid scope');
  return scope;
}

export class TokenVerifier {
  /** jsonwebtoken is loaded on the first verification, not at module init. */
  private jwt: Promise<typeof jwt> | undefined;

  constructor(
    private readonly config: AuthorizerConfig,
    private readonly keys: JwksCache,
  ) {}

  async verify(token: string): Promise<VerifiedIdentity> {
    const header = inspectToken(token, this.config.algorithms);
    const key = await this.keys.resolve(header.kid);
    if (!keyFits(header.alg, key)) throw new Denial('algorithm does not match key');

    this.jwt ??= loadJsonwebtoken();
    const { verify } = await this.jwt;
    let payload: string | jwt.JwtPayload;
    try {
      payload = verify(token, key.key, {
        algorithms: this.config.algorithms,
        issuer: this.config.issuer,
        audience: this.config.audience as [string, ...string[]],
        clockTolerance: this.config.clockToleranceSeconds,
      });
    } catch (error) {
      throw new Denial(reasonOf(error));
    }
    if (typeof payload === 'string') throw new Denial('invalid token');

    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw new Denial('missing or invalid exp');
    if (payload.iat !== undefined) {
      if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw new Denial('invalid iat');
      if (payload.iat > Math.floor(Date.now() / 1000) + this.config.clockToleranceSeconds) throw new Denial('issued in the future');
    }
    // The identity is the verified sub, verbatim: never trimmed or normalised. One that the
    // protocol's subject grammar refuses is refused here, with its fixed phrase as the reason.
    const sub: unknown = payload.sub;
    const problem = subjectProblem(sub);
    if (problem !== undefined || typeof sub !== 'string') throw new Denial(problem ?? 'missing or empty sub', 'subject');
    return { sub, scope: scopeOf(payload), exp: payload.exp };
  }
}
