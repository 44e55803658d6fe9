import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign as cryptoSign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { createLogger, type LogLevel } from '@wskit/shared/logger';
import { type Authorizer, createAuthorizer } from '../src/authorizer';
import type { AuthorizerConfig } from '../src/config';
import { SERVICE } from '../src/metrics';
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

/**
 * How the JWKS endpoint answers: the set, an HTTP 503, a connection reset before any
 * answer (the endpoint unreachable mid-request), or nothing at all until the client gives up.
 */
export type JwksMode = 'ok' | 'status-503' | 'reset' | 'hang';

/** A real JWKS endpoint on 127.0.0.1 that counts the requests it receives. */
export interface JwksServer {
  uri: string;
  /** Requests for the JWKS received so far, whatever the answer. */
  fetches: number;
  /** Arrival times (Date.now()) of those requests. */
  arrivals: number[];
  keys: unknown[];
  mode: JwksMode;
  stop(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  const state = { arrivals: [] as number[], keys: keys.map((key): unknown => key.jwk), mode: 'ok' as JwksMode };
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    state.arrivals.push(Date.now());
    if (state.mode === 'status-503') {
      response.writeHead(503).end('unavailable');
    } else if (state.mode === 'reset') {
      request.socket.destroy();
    } else if (state.mode === 'ok') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
    } // 'hang': never answers; stop() closes the connection
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    uri: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get fetches() {
      return state.arrivals.length;
    },
    get arrivals() {
      return state.arrivals;
    },
    get keys() {
      return state.keys;
    },
    set keys(value) {
      state.keys = value;
    },
    get mode() {
      return state.mode;
    },
    set mode(value) {
      state.mode = value;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** The most requests that arrived in any window of `windowMs` (arrivals as epoch ms). */
export function mostInAnyWindow(arrivals: readonly number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while ((sorted[last] as number) - (sorted[first] as number) >= windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

export function testConfig(jwksUri: string, overrides: Partial<AuthorizerConfig> = {}): AuthorizerConfig {
  return {
    jwksUri,
    issuer: ISSUER,
    audience: [AUDIENCE],
    algorithms: ['RS256'],
    tokenSources: [{ kind: 'query', name: 'token' }],
    clockToleranceSeconds: 5,
    jwksCacheMaxAgeSeconds: 600,
    jwksMinRefreshIntervalSeconds: 10,
    jwksStaleGraceSeconds: 3600,
    jwksTimeoutMs: 2000,
    metricsNamespace: 'wskit-test',
    ...overrides,
  };
}

/** A clock the test moves by hand (epoch ms). */
export class ManualClock {
  constructor(public ms = 1_800_000_000_000) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Collects the EMF lines the authorizer writes. */
export class MetricsCapture {
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
  /** Sum of each metric over the lines so far. */
  totals(): Record<'Allowed' | 'Refused' | 'JwksUnavailable' | 'Faults', number> {
    const totals = { Allowed: 0, Refused: 0, JwksUnavailable: 0, Faults: 0 };
    for (const record of this.records()) {
      for (const name of Object.keys(totals) as (keyof typeof totals)[]) totals[name] += Number(record[name] ?? 0);
    }
    return totals;
  }
  clear(): void {
    this.lines.length = 0;
  }
}

export interface TestAuthorizer {
  authorizer: Authorizer;
  logs: LogCapture;
  metrics: MetricsCapture;
}

/** An authorizer whose log and metrics lines are captured (nothing reaches jest's output). */
export function testAuthorizer(config: AuthorizerConfig, options: { level?: LogLevel; now?: () => number } = {}): TestAuthorizer {
  const logs = new LogCapture();
  const metrics = new MetricsCapture();
  const logger = createLogger(SERVICE, { level: options.level ?? 'DEBUG', write: logs.write });
  const authorizer = createAuthorizer(config, { logger, writeMetrics: metrics.write, ...(options.now ? { now: options.now } : {}) });
  return { authorizer, logs, metrics };
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
