import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign as cryptoSign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import type { AuthorizerConfig } from '../src/config';
import type { WebSocketAuthorizerEvent } from '../src/token';

export const ISSUER = 'https://issuer.test.wskit/';
export const AUDIENCE = 'wskit-test';
export const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/$connect';

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
  /** The public JWK as a JWKS lists it. */
  jwk: Record<string, unknown>;
}

export function rsaKey(kid: string, jwkExtras: Record<string, unknown> = {}): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    privateKey,
    publicKey,
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', ...jwkExtras },
  };
}

export function ecKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid,
    privateKey,
    publicKey,
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' },
  };
}

/** A real JWKS endpoint on 127.0.0.1 that counts the fetches it answers. */
export interface JwksServer {
  uri: string;
  fetches: number;
  keys: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const state = { fetches: 0, keys: keys.map((key) => key.jwk) };
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    state.fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    uri: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return state.fetches;
    },
    get keys() {
      return state.keys;
    },
    set keys(value) {
      state.keys = value;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export function testConfig(jwksUri: string, overrides: Partial<AuthorizerConfig> = {}): AuthorizerConfig {
  return {
    jwksUri,
    issuer: ISSUER,
    audience: [AUDIENCE],
    algorithms: ['RS256'],
    tokenSources: [{ kind: 'query', name: 'token' }],
    clockToleranceSeconds: 5,
    jwksRequestsPerMinute: 10,
    jwksCacheMaxAgeSeconds: 600,
    jwksTimeoutMs: 2000,
    ...overrides,
  };
}

export const now = (): number => Math.floor(Date.now() / 1000);

export function goodClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: now() - 10, exp: now() + 3600, scope: 'topics:team.', ...extra };
}

/** Signs with jsonwebtoken; `kid: null` leaves the kid out of the header. */
export function signRs(key: TestKey, claims: Record<string, unknown> = goodClaims(), algorithm: jwt.Algorithm = 'RS256', kid: string | null = key.kid): string {
  return jwt.sign(claims, key.privateKey, kid === null ? { algorithm } : { algorithm, keyid: kid });
}

export const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Builds a compact JWS by hand, for the tokens jsonwebtoken refuses to make. */
export function forge(header: unknown, payload: unknown, signature: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signature(input)}`;
}

export const hmac = (algorithm: 'sha256' | 'sha384' | 'sha512', secret: string | Buffer) => (input: string): string =>
  createHmac(algorithm, secret).update(input).digest('base64url');

export const rsaSign = (key: KeyObject) => (input: string): string =>
  cryptoSign('sha256', Buffer.from(input), key).toString('base64url');

export const randomKid = (): string => randomBytes(12).toString('hex');

/** An event shaped like API Gateway's WebSocket REQUEST authorizer event for $connect. */
export function connectEvent(
  options: { query?: Record<string, string | string[]>; headers?: Record<string, string | string[]>; methodArn?: string } = {},
): WebSocketAuthorizerEvent {
  const headers: Record<string, string | string[]> = {
    Host: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
    'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    'User-Agent': 'wskit-test/1.0',
    'X-Amzn-Trace-Id': 'Root=1-65a1b2c3-0123456789abcdef01234567',
    'X-Forwarded-For': '203.0.113.7',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    ...options.headers,
  };
  const single = (map: Record<string, string | string[]>): Record<string, string> =>
    Object.fromEntries(Object.entries(map).map(([key, value]) => [key, Array.isArray(value) ? (value.at(-1) as string) : value]));
  const multi = (map: Record<string, string | string[]>): Record<string, string[]> =>
    Object.fromEntries(Object.entries(map).map(([key, value]) => [key, Array.isArray(value) ? value : [value]]));
  const event: WebSocketAuthorizerEvent = {
    type: 'REQUEST',
    methodArn: options.methodArn ?? METHOD_ARN,
    headers: single(headers),
    multiValueHeaders: multi(headers),
    stageVariables: {},
    requestContext: {
      routeKey: '$connect',
      eventType: 'CONNECT',
      extendedRequestId: 'PZQ2dGv9DoEFQ1w=',
      requestTime: '22/Nov/2026:00:00:00 +0000',
      messageDirection: 'IN',
      stage: 'prod',
      connectedAt: Date.now(),
      requestTimeEpoch: Date.now(),
      identity: { sourceIp: '203.0.113.7', userAgent: 'wskit-test/1.0' },
      requestId: 'PZQ2dGv9DoEFQ1w=',
      domainName: 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com',
      connectionId: 'PZQ2dc6PjoECJqg=',
      apiId: 'a1b2c3d4e5',
    },
  };
  if (options.query) {
    event.queryStringParameters = single(options.query);
    event.multiValueQueryStringParameters = multi(options.query);
  }
  return event;
}

/** Collects log lines written through the authorizer's logger. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly write = (line: string): void => {
    this.lines.push(line);
  };
  records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  last(): Record<string, unknown> | undefined {
    return this.records().at(-1);
  }
  clear(): void {
    this.lines.length = 0;
  }
}

/** Fails when any log line holds the token or one of its segments. */
export function expectNoTokenIn(output: string, token: string): void {
  if (token.length === 0) return;
  const pieces = [token, ...token.split('.').filter((piece) => piece.length >= 8)];
  for (const piece of pieces) {
    if (output.includes(piece)) throw new Error(`log output contains part of a token (${piece.length} chars)`);
  }
}
