/**
 * Authorizer configuration, read from the environment once (at first invocation) and
 * validated. Every error names the variable and says what to set.
 */

/** Asymmetric algorithms the authorizer can verify with keys from a JWKS. */
export const SUPPORTED_ALGORITHMS = [
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
] as const;
export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** A JWT longer than this is refused before it is parsed. */
export const MAX_TOKEN_BYTES = 8192;

export type TokenSource = { kind: 'query'; name: string } | { kind: 'header'; name: string };

export interface AuthorizerConfig {
  jwksUri: string;
  issuer: string;
  audience: string[];
  algorithms: SupportedAlgorithm[];
  tokenSources: TokenSource[];
  clockToleranceSeconds: number;
  /** Upper bound on JWKS fetches per minute caused by cache misses (unknown `kid`s). */
  jwksRequestsPerMinute: number;
  jwksCacheMaxAgeSeconds: number;
  jwksTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const QUERY_NAME = /^[A-Za-z0-9_.~-]{1,64}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

function required(env: NodeJS.ProcessEnv, variable: string, what: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new ConfigError(variable, `is required; set it to ${what}`);
  return value;
}

function list(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

function integer(
  env: NodeJS.ProcessEnv,
  variable: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(variable, `must be a whole number from ${min} to ${max}; got "${raw}"`);
  }
  return Number(raw);
}

function parseJwksUri(env: NodeJS.ProcessEnv): string {
  const variable = 'WSKIT_JWKS_URI';
  const raw = required(env, variable, "your identity provider's JWKS URL, e.g. https://issuer.example.com/.well-known/jwks.json");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `is not a valid URL: "${raw}"`);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(variable, `must be an https:// URL (http:// only for localhost/127.0.0.1); got "${raw}"`);
  }
  if (url.username || url.password) {
    throw new ConfigError(variable, 'must not carry credentials in the URL');
  }
  return url.toString();
}

function parseAlgorithms(env: NodeJS.ProcessEnv): SupportedAlgorithm[] {
  const variable = 'WSKIT_JWT_ALGORITHMS';
  const names = list(env[variable] ?? 'RS256');
  if (names.length === 0) throw new ConfigError(variable, 'is empty; leave it unset for RS256 or list algorithms like "RS256,ES256"');
  for (const name of names) {
    if (name.toLowerCase() === 'none') {
      throw new ConfigError(variable, 'must not contain "none": unsigned tokens are never accepted');
    }
    if (/^HS\d+$/i.test(name)) {
      throw new ConfigError(variable, `must not contain ${name}: keys come from a JWKS, so only asymmetric algorithms are allowed (${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(name)) {
      throw new ConfigError(variable, `unknown algorithm "${name}"; use any of ${SUPPORTED_ALGORITHMS.join(', ')}`);
    }
  }
  return [...new Set(names)] as SupportedAlgorithm[];
}

function parseTokenSources(env: NodeJS.ProcessEnv): TokenSource[] {
  const variable = 'WSKIT_TOKEN_SOURCES';
  const items = list(env[variable] ?? 'query:token');
  if (items.length === 0) throw new ConfigError(variable, 'is empty; leave it unset for "query:token" or list sources like "query:token,header:Authorization"');
  return items.map((item): TokenSource => {
    const colon = item.indexOf(':');
    const kind = colon > 0 ? item.slice(0, colon).toLowerCase() : '';
    const name = item.slice(colon + 1);
    if (kind === 'query' && QUERY_NAME.test(name)) return { kind, name };
    if (kind === 'header' && HEADER_NAME.test(name)) return { kind, name: name.toLowerCase() };
    throw new ConfigError(variable, `"${item}" is not a token source; use query:<parameter> or header:<name>, e.g. "query:token,header:Authorization"`);
  });
}

export function loadConfig(env: NodeJS.ProcessEnv): AuthorizerConfig {
  const jwksUri = parseJwksUri(env);
  const issuer = required(env, 'WSKIT_JWT_ISSUER', 'the exact "iss" value of your tokens, e.g. https://issuer.example.com/');
  const audience = list(required(env, 'WSKIT_JWT_AUDIENCE', 'the "aud" value your tokens carry (comma-separated when several are accepted)'));
  if (audience.length === 0) throw new ConfigError('WSKIT_JWT_AUDIENCE', 'lists no audience; set at least one "aud" value');
  return {
    jwksUri,
    issuer,
    audience,
    algorithms: parseAlgorithms(env),
    tokenSources: parseTokenSources(env),
    clockToleranceSeconds: integer(env, 'WSKIT_JWT_CLOCK_TOLERANCE_SECONDS', 5, 0, 300),
    jwksRequestsPerMinute: integer(env, 'WSKIT_JWKS_REQUESTS_PER_MINUTE', 10, 1, 600),
    jwksCacheMaxAgeSeconds: integer(env, 'WSKIT_JWKS_CACHE_MAX_AGE_SECONDS', 600, 10, 86400),
    jwksTimeoutMs: integer(env, 'WSKIT_JWKS_TIMEOUT_MS', 3000, 100, 30000),
  };
}
