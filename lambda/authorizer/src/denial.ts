/**
 * Why a request was refused. `reason` is a fixed, token-free phrase that goes into the
 * log line and the metrics line; the caller only ever sees `Unauthorized`.
 */
export type DenialReason =
  | 'malformed event'
  | 'missing token'
  | 'empty token'
  | 'ambiguous token'
  | 'token too large'
  | 'malformed token'
  | 'malformed header'
  | 'malformed payload'
  | 'algorithm not allowed'
  | 'algorithm does not match key'
  | 'unsupported critical header'
  | 'invalid kid'
  | 'unknown kid'
  | 'unknown kid (jwks refresh failed)'
  | 'no kid and several keys'
  | 'jwks unavailable'
  | 'invalid signature'
  | 'jwt expired'
  | 'jwt not active'
  | 'issued in the future'
  | 'missing or invalid exp'
  | 'invalid iat'
  | 'wrong issuer'
  | 'wrong audience'
  | 'invalid scope'
  | 'invalid token';

export class Denial extends Error {
  override readonly name = 'Denial';
  readonly reason: string;

  constructor(reason: DenialReason);
  /**
   * A `sub` that `subjectProblem()` from @wskit/protocol refuses: the reason is the fixed
   * phrase it returns (it never quotes the claim).
   */
  constructor(reason: string, kind: 'subject');
  constructor(reason: string, _kind?: 'subject') {
    super(reason);
    this.reason = reason;
  }

  /** The service's fault, not the caller's: no key set could be fetched or served. */
  get jwksUnavailable(): boolean {
    return this.reason === 'jwks unavailable';
  }
}
