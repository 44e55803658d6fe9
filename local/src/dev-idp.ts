import { createHash, createPrivateKey, createPublicKey, createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, linkSync, unlinkSync } from 'node:fs';
import * as path from 'node:path';
import { defaultStateDir } from './paths';

/** Fixed dev values: tokens minted before the gateway starts (or on another port) stay valid. */
export const DEV_ISSUER = 'https://wskit.local/dev-idp';
export const DEV_AUDIENCE = 'wskit-local';
const KEY_FILE = 'dev-signing-key.pem';

export interface MintOptions {
  sub: string;
  /** Space-separated scopes, e.g. `topics:team. publish:news.` */
  scope?: string;
  ttlSeconds?: number;
}

export interface Jwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

/**
 * The local identity provider: one RSA key generated on first use and kept in the state
 * directory (`<repo>/.wskit/` or the data directory), its JWKS for the authorizer, and
 * RS256 tokens for `npm run token` and the demo page.
 */
export class DevIdentityProvider {
  readonly keyFile: string;
  readonly jwk: Jwk;
  private readonly privateKey: KeyObject;

  private constructor(keyFile: string, privateKey: KeyObject) {
    this.keyFile = keyFile;
    this.privateKey = privateKey;
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as { n: string; e: string };
    // RFC 7638 thumbprint as the kid: stable for a key, different for a new one.
    const thumbprint = createHash('sha256')
      .update(JSON.stringify({ e: publicJwk.e, kty: 'RSA', n: publicJwk.n }))
      .digest('base64url');
    this.jwk = { kty: 'RSA', n: publicJwk.n, e: publicJwk.e, kid: thumbprint, alg: 'RS256', use: 'sig' };
  }

  /** Loads the key from `stateDir`, generating it on first use (safe when two processes race). */
  static open(stateDir: string = defaultStateDir): DevIdentityProvider {
    const keyFile = path.join(stateDir, KEY_FILE);
    let pem: string;
    try {
      pem = readFileSync(keyFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const tmp = `${keyFile}.${process.pid}.${randomUUID()}.tmp`;
      writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      try {
        linkSync(tmp, keyFile); // atomic; fails when another process won the race
      } catch (linkErr) {
        if ((linkErr as NodeJS.ErrnoException).code !== 'EEXIST') throw linkErr;
      } finally {
        unlinkSync(tmp);
      }
      pem = readFileSync(keyFile, 'utf8');
    }
    return new DevIdentityProvider(keyFile, createPrivateKey(pem));
  }

  jwks(): { keys: Jwk[] } {
    return { keys: [this.jwk] };
  }

  mint({ sub, scope, ttlSeconds = 3600 }: MintOptions): string {
    if (typeof sub !== 'string' || sub.length === 0) throw new Error('mint: sub (the user id) is required');
    if (!Number.isFinite(ttlSeconds)) throw new Error('mint: ttlSeconds must be a number of seconds');
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid: this.jwk.kid };
    const payload: Record<string, unknown> = {
      iss: DEV_ISSUER,
      aud: DEV_AUDIENCE,
      sub,
      iat: now,
      nbf: now,
      exp: now + Math.trunc(ttlSeconds),
      jti: randomUUID(),
    };
    if (scope !== undefined && scope !== '') payload.scope = scope;
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const signingInput = `${encode(header)}.${encode(payload)}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(this.privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
  }
}
