/**
 * Why a request was refused. `reason` is a fixed, token-free phrase that goes into the
 * log line; the caller only ever sees `Unauthorized`.
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
  | 'unknown kid (jwks refetch rate-limited)'
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
  | 'missing or invalid sub'
  | 'invalid scope'
  | 'invalid token';

export class Denial extends Error {
  override readonly name = 'Denial';
  constructor(readonly reason: DenialReason) {
    super(reason);
  }
}
