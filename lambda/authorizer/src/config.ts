/**
 * Authorizer configuration, read from the environment once (at first invocation) and
 * validated. Every error is a `ConfigError` that names the variable and says what to set.
 */
import { JWT_ALGORITHMS, type JwtAlgorithm } from '@wskit/protocol';
import { ConfigError, metricsNamespaceFromEnv, requireEnv } from '@wskit/shared/config';

/** A JWT longer than this is refused before it is parsed. */
export const MAX_TOKEN_BYTES = 8192;

export type TokenSource = { kind: 'query'; name: string } | { kind: 'header'; name: string };

export interface AuthorizerConfig {
  jwksUri: string;
  issuer: string;
  audience: string[];
  /** A subset of `JWT_ALGORITHMS` from @wskit/protocol. */
  algorithms: JwtAlgorithm[];
  tokenSources: TokenSource[];
  clockToleranceSeconds: number;
  /** A fetched JWKS is fresh this long; then the next request that needs a key refreshes it. */
  jwksCacheMaxAgeSeconds: number;
  /**
   * Least time between two JWKS fetches (attempts, successful or not), whatever asks for
   * them. Not an environment variable: the default holds both bounds of the README (at
   * most 6 fetches a minute, a new key accepted within 10 s of its first use); tests set it
   * smaller.
   */
  jwksMinRefreshIntervalSeconds: number;
  /** After its max age, a set whose refresh fails keeps serving its keys this long. */
  jwksStaleGraceSeconds: number;
  jwksTimeoutMs: number;
  /** CloudWatch namespace of the EMF metrics. */
  metricsNamespace: string;
}

export const DEFAULT_JWKS_MIN_REFRESH_INTERVAL_SECONDS = 10;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const QUERY_NAME = /^[A-Za-z0-9_.~-]{1,64}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const ALLOWED_TEXT = JWT_ALGORITHMS.join(', ');

function list(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

function integer(env: NodeJS.ProcessEnv, variable: string, fallback: number, min: number, max: number, what: string): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(variable, `${variable} is "${raw}": set it to a whole number from ${min} to ${max} (${what}), or leave it unset for ${fallback}`);
  }
  return Number(raw);
}

function parseJwksUri(env: NodeJS.ProcessEnv): string {
  const variable = 'WSKIT_JWKS_URI';
  const raw = requireEnv(variable, "your identity provider's JWKS URL, e.g. https://issuer.example.com/.well-known/jwks.json", env);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `${variable} is "${raw}", not a valid URL: set it to your identity provider's JWKS URL`);
  }
  if (!isAllowedJwksUrl(url)) {
    throw new ConfigError(variable, `${variable} is "${raw}": it must be an https:// URL (http:// only for localhost/127.0.0.1)`);
  }
  if (url.username || url.password) {
    throw new ConfigError(variable, `${variable} must not carry credentials in the URL`);
  }
  return url.toString();
}

/** https, or http on loopback only (the local gateway's dev JWKS, tests). */
export function isAllowedJwksUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

function parseAlgorithms(env: NodeJS.ProcessEnv): JwtAlgorithm[] {
  const variable = 'WSKIT_JWT_ALGORITHMS';
  const names = list(env[variable] ?? 'RS256');
  if (names.length === 0) throw new ConfigError(variable, `${variable} is empty: leave it unset for RS256 or list any of ${ALLOWED_TEXT}`);
  for (const name of names) {
    if ((JWT_ALGORITHMS as readonly string[]).includes(name)) continue;
    const why =
      name.toLowerCase() === 'none'
        ? 'unsigned tokens are never accepted'
        : /^HS\d+$/i.test(name)
          ? 'keys come from a JWKS, so only asymmetric algorithms can be verified'
          : /^eddsa$/i.test(name)
            ? 'EdDSA is not supported'
            : 'it is not a known algorithm';
    throw new ConfigError(variable, `${variable} must not contain "${name}" (${why}): use any of ${ALLOWED_TEXT}`);
  }
  return [...new Set(names)] as JwtAlgorithm[];
}

function parseTokenSources(env: NodeJS.ProcessEnv): TokenSource[] {
  const variable = 'WSKIT_TOKEN_SOURCES';
  const items = list(env[variable] ?? 'query:token');
  if (items.length === 0) throw new ConfigError(variable, `${variable} is empty: leave it unset for "query:token" or list sources like "query:token,header:Authorization"`);
  return items.map((item): TokenSource => {
    const colon = item.indexOf(':');
    const kind = colon > 0 ? item.slice(0, colon).toLowerCase() : '';
    const name = item.slice(colon + 1);
    if (kind === 'query' && QUERY_NAME.test(name)) return { kind, name };
    if (kind === 'header' && HEADER_NAME.test(name)) return { kind, name: name.toLowerCase() };
    throw new ConfigError(variable, `${variable} lists "${item}", which is not a token source: use query:<parameter> or header:<name>, e.g. "query:token,header:Authorization"`);
  });
}

export function loadConfig(env: NodeJS.ProcessEnv): AuthorizerConfig {
  const jwksUri = parseJwksUri(env);
  const issuer = requireEnv('WSKIT_JWT_ISSUER', 'the exact "iss" value of your tokens, e.g. https://issuer.example.com/', env);
  const audience = list(requireEnv('WSKIT_JWT_AUDIENCE', 'the "aud" value your tokens carry (comma-separated when several are accepted)', env));
  if (audience.length === 0) throw new ConfigError('WSKIT_JWT_AUDIENCE', 'WSKIT_JWT_AUDIENCE lists no audience: set at least one "aud" value');
  const jwksCacheMaxAgeSeconds = integer(env, 'WSKIT_JWKS_CACHE_MAX_AGE_SECONDS', 600, DEFAULT_JWKS_MIN_REFRESH_INTERVAL_SECONDS, 86400, 'how long a fetched JWKS is fresh');
  return {
    jwksUri,
    issuer,
    audience,
    algorithms: parseAlgorithms(env),
    tokenSources: parseTokenSources(env),
    clockToleranceSeconds: integer(env, 'WSKIT_JWT_CLOCK_TOLERANCE_SECONDS', 5, 0, 300, 'leeway for exp, nbf and iat'),
    jwksCacheMaxAgeSeconds,
    jwksMinRefreshIntervalSeconds: DEFAULT_JWKS_MIN_REFRESH_INTERVAL_SECONDS,
    jwksStaleGraceSeconds: integer(env, 'WSKIT_JWKS_STALE_GRACE_SECONDS', 3600, 0, 86400, 'how long a stale JWKS keeps serving while it cannot be refreshed'),
    jwksTimeoutMs: integer(env, 'WSKIT_JWKS_TIMEOUT_MS', 3000, 100, 30000, 'deadline of one JWKS request in ms'),
    metricsNamespace: metricsNamespaceFromEnv(env),
  };
}
