import { ConfigError, loadConfig } from '../src/config';

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

test('defaults: RS256, ?token=, 5 s tolerance, 10 refetches a minute', () => {
  expect(loadConfig(base)).toEqual({
    jwksUri: base.WSKIT_JWKS_URI,
    issuer: base.WSKIT_JWT_ISSUER,
    audience: ['wskit'],
    algorithms: ['RS256'],
    tokenSources: [{ kind: 'query', name: 'token' }],
    clockToleranceSeconds: 5,
    jwksRequestsPerMinute: 10,
    jwksCacheMaxAgeSeconds: 600,
    jwksTimeoutMs: 3000,
  });
});

test('lists and numbers are parsed', () => {
  const config = loadConfig({
    ...base,
    WSKIT_JWT_AUDIENCE: ' a , b,,c ',
    WSKIT_JWT_ALGORITHMS: 'RS256, ES256,RS256',
    WSKIT_TOKEN_SOURCES: 'header:Authorization, query:access_token',
    WSKIT_JWT_CLOCK_TOLERANCE_SECONDS: '0',
    WSKIT_JWKS_REQUESTS_PER_MINUTE: '3',
    WSKIT_JWKS_CACHE_MAX_AGE_SECONDS: '3600',
    WSKIT_JWKS_TIMEOUT_MS: '500',
  });
  expect(config.audience).toEqual(['a', 'b', 'c']);
  expect(config.algorithms).toEqual(['RS256', 'ES256']);
  expect(config.tokenSources).toEqual([{ kind: 'header', name: 'authorization' }, { kind: 'query', name: 'access_token' }]);
  expect([config.clockToleranceSeconds, config.jwksRequestsPerMinute, config.jwksCacheMaxAgeSeconds, config.jwksTimeoutMs]).toEqual([0, 3, 3600, 500]);
});

test('http:// is accepted for loopback only', () => {
  expect(loadConfig({ ...base, WSKIT_JWKS_URI: 'http://127.0.0.1:8080/.well-known/jwks.json' }).jwksUri).toBe('http://127.0.0.1:8080/.well-known/jwks.json');
  expect(loadConfig({ ...base, WSKIT_JWKS_URI: 'http://localhost:8080/jwks' }).jwksUri).toBe('http://localhost:8080/jwks');
  expect(errorOf({ ...base, WSKIT_JWKS_URI: 'http://issuer.example.com/jwks' }).variable).toBe('WSKIT_JWKS_URI');
});

test.each([
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: undefined }, /WSKIT_JWKS_URI: is required; set it to/],
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: '   ' }, /is required/],
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: 'not a url' }, /not a valid URL/],
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: 'ftp://issuer.example.com/jwks' }, /must be an https:\/\/ URL/],
  ['WSKIT_JWKS_URI', { WSKIT_JWKS_URI: 'https://user:pw@issuer.example.com/jwks' }, /credentials/],
  ['WSKIT_JWT_ISSUER', { WSKIT_JWT_ISSUER: undefined }, /WSKIT_JWT_ISSUER: is required/],
  ['WSKIT_JWT_AUDIENCE', { WSKIT_JWT_AUDIENCE: undefined }, /WSKIT_JWT_AUDIENCE: is required/],
  ['WSKIT_JWT_AUDIENCE', { WSKIT_JWT_AUDIENCE: ' , ' }, /lists no audience/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'none' }, /must not contain "none"/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'RS256,HS256' }, /must not contain HS256/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'hs512' }, /must not contain hs512/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: 'RS257' }, /unknown algorithm "RS257"/],
  ['WSKIT_JWT_ALGORITHMS', { WSKIT_JWT_ALGORITHMS: ',' }, /is empty/],
  ['WSKIT_TOKEN_SOURCES', { WSKIT_TOKEN_SOURCES: 'cookie:token' }, /"cookie:token" is not a token source/],
  ['WSKIT_TOKEN_SOURCES', { WSKIT_TOKEN_SOURCES: 'query:' }, /is not a token source/],
  ['WSKIT_TOKEN_SOURCES', { WSKIT_TOKEN_SOURCES: 'header:Bad Header' }, /is not a token source/],
  ['WSKIT_JWT_CLOCK_TOLERANCE_SECONDS', { WSKIT_JWT_CLOCK_TOLERANCE_SECONDS: '3600' }, /from 0 to 300/],
  ['WSKIT_JWT_CLOCK_TOLERANCE_SECONDS', { WSKIT_JWT_CLOCK_TOLERANCE_SECONDS: '-1' }, /whole number/],
  ['WSKIT_JWKS_REQUESTS_PER_MINUTE', { WSKIT_JWKS_REQUESTS_PER_MINUTE: '0' }, /from 1 to 600/],
  ['WSKIT_JWKS_CACHE_MAX_AGE_SECONDS', { WSKIT_JWKS_CACHE_MAX_AGE_SECONDS: '1.5' }, /whole number/],
  ['WSKIT_JWKS_TIMEOUT_MS', { WSKIT_JWKS_TIMEOUT_MS: 'fast' }, /whole number/],
])('%s is validated: %j', (variable, overrides, message) => {
  const error = errorOf({ ...base, ...overrides });
  expect(error.variable).toBe(variable);
  expect(error.message.startsWith(`${variable}: `)).toBe(true);
  expect(error.message).toMatch(message);
});
