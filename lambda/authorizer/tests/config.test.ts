import { JWT_ALGORITHMS } from '@wskit/protocol';
import { ConfigError } from '@wskit/shared/config';
import { loadConfig } from '../src/config';

const base = {
  WSKIT_JWKS_URI: 'https://issuer.example.com/.well-known/jwks.json',
  WSKIT_JWT_ISSUER: 'https://issuer.example.com/',
  WSKIT_JWT_AUDIENCE: 'wskit',
};

function errorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted the environment');
}

test('defaults: RS256, ?token=, 5 s tolerance, a 10-minute JWKS cache refreshed at most every 10 s, namespace wskit', () => {
  expect(loadConfig(base)).toEqual({
    jwksUri: base.WSKIT_JWKS_URI,
    issuer: base.WSKIT_JWT_ISSUER,
    audience: ['wskit'],
    algorithms: ['RS256'],
    tokenSources: [{ kind: 'query', name: 'token' }],
    clockToleranceSeconds: 5,
    jwksCacheMaxAgeSeconds: 600,
    jwksMinRefreshIntervalSeconds: 10,
    jwksStaleGraceSeconds: 3600,
    jwksTimeoutMs: 3000,
    metricsNamespace: 'wskit',
  });
});

test('lists and numbers are parsed', () => {
  const config = loadConfig({
    ...base,
    WSKIT_JWT_AUDIENCE: ' a , b,,c ',
    WSKIT_JWT_ALGORITHMS: 'RS256, ES256,RS256',
    WSKIT_TOKEN_SOURCES: 'header:Authorization, query:access_token',
    WSKIT_JWT_CLOCK_TOLERANCE_SECONDS: '0',
    WSKIT_JWKS_CACHE_MAX_AGE_SECONDS: '3600',
    WSKIT_JWKS_STALE_GRACE_SECONDS: '0',
    WSKIT_JWKS_TIMEOUT_MS: '500',
    WSKIT_METRICS_NAMESPACE: 'wskit/prod',
  });
  expect(config.audience).toEqual(['a', 'b', 'c']);
  expect(config.algorithms).toEqual(['RS256', 'ES256']);
  expect(config.tokenSources).toEqual([{ kind: 'header', name: 'authorization' }, { kind: 'query', name: 'access_token' }]);
  expect([config.clockToleranceSeconds, config.jwksCacheMaxAgeSeconds, config.jwksStaleGraceSeconds, config.jwksTimeoutMs]).toEqual([0, 3600, 0, 500]);
  expect(config.metricsNamespace).toBe('wskit/prod');
});

test('every algorithm of @wskit/protocol JWT_ALGORITHMS is accepted, and only those', () => {
  expect(loadConfig({ ...base, WSKIT_JWT_ALGORITHMS: JWT_ALGORITHMS.join(',') }).algorithms).toEqual([...JWT_ALGORITHMS]);
  for (const refused of ['none', 'HS256', 'HS384', 'HS512', 'EdDSA', 'ES256K', 'rs256']) {
    const error = errorOf({ ...base, WSKIT_JWT_ALGORITHMS: `RS256,${refused}` });
    expect(error.variable).toBe('WSKIT_JWT_ALGORITHMS');
    // The message names what is allowed.
    expect(error.message).toContain(`use any of ${JWT_ALGORITHMS.join(', ')}`);
  }
});

test('http:// is accepted for loopback only', () => {
  expect(loadConfig({ ...base, WSKIT_JWKS_URI: 'http://127.0.0.1:8080/.well-known/jwks.json' }).jwksUri).toBe('http://127.0.0.1:8080/.well-known/jwks.json');
  expect(loadConfig({ ...base, WSKIT_JWKS_URI: 'http://localhost:8080/jwks' }).jwksUri).toBe('http://localhost:8080/jwks');
  expect(errorOf({ ...base, WSKIT_JWKS_URI: 'http://issuer.example.com/jwks' }).variable).toBe('WSKIT_JWKS_URI');
});

test.each([
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: undefined }, /WSKIT_JWKS_URI is not set: set it to your identity provider's JWKS URL/],
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: '   ' }, /is not set/],
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: 'not a url' }, /not a valid URL/],
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: 'ftp://issuer.example.com/jwks' }, /must be an https:\/\/ URL/],
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: 'https://user:pw@issuer.example.com/jwks' }, /credentials/],
  ['WSKIT_JWT_ISSUER', { WSKIT_JWT_ISSUER: undefined }, /WSKIT_JWT_ISSUER is not set/],
  ['WSKIT_JWT_AUDIENCE', { WSKIT_JWT_AUDIENCE: undefined }, /WSKIT_JWT_AUDIENCE is not set/],
  ['WSKIT_JWT_AUDIENCE', { WSKIT_JWT_AUDIENCE: ' , ' }, /lists no audience/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'none' }, /must not contain "none" \(unsigned tokens are never accepted\)/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'RS256,HS256' }, /must not contain "HS256" \(keys come from a JWKS/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'hs512' }, /must not contain "hs512"/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'EdDSA' }, /must not contain "EdDSA" \(EdDSA is not supported\)/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'RS257' }, /must not contain "RS257" \(it is not a known algorithm\)/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: ',' }, /is empty/],
  ['WSKIT_TOKEN_SOURCES', { WSKIT_TOKEN_SOURCES: 'cookie:token' }, /lists "cookie:token", which is not a token source/],
  ['WSKIT_TOKEN_SOURCES', { WSKIT_TOKEN_SOURCES: 'query:' }, /which is not a token source/],
  ['WSKIT_TOKEN_SOURCES', { WSKIT_TOKEN_SOURCES: 'header:Bad Header' }, /is not a token source/],
  ['WSKIT_JWT_CLOCK_TOLERANCE_SECONDS', { WSKIT_JWT_CLOCK_TOLERANCE_SECONDS: '3600' }, /from 0 to 300/],
  ['WSKIT_JWT_CLOCK_TOLERANCE_SECONDS', { WSKIT_JWT_CLOCK_TOLERANCE_SECONDS: '-1' }, /whole number/],
  // Shorter than the least refresh interval would make the cache age meaningless.
  ['WSKIT_JWKS_CACHE_MAX_AGE_SECONDS', { WSKIT_JWKS_CACHE_MAX_AGE_SECONDS: '5' }, /from 10 to 86400/],
  ['WSKIT_JWKS_CACHE_MAX_AGE_SECONDS', { WSKIT_JWKS_CACHE_MAX_AGE_SECONDS: '1.5' }, /whole number/],
  ['WSKIT_JWKS_STALE_GRACE_SECONDS', { WSKIT_JWKS_STALE_GRACE_SECONDS: '86401' }, /from 0 to 86400/],
  ['WSKIT_JWKS_TIMEOUT_MS', { WSKIT_JWKS_TIMEOUT_MS: 'fast' }, /whole number/],
  ['WSKIT_METRICS_NAMESPACE', { WSKIT_METRICS_NAMESPACE: 'AWS/Lambda' }, /CloudWatch namespace/],
])('%s is validated: %j', (variable, overrides, message) => {
  const error = errorOf({ ...base, ...overrides });
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.variable).toBe(variable);
  // Every message starts with the variable's name and says what to set.
  expect(error.message.startsWith(`${variable} `)).toBe(true);
  expect(error.message).toMatch(message);
});
