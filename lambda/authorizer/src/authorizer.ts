import type { Logger } from '@wskit/shared/logger';
import type { AuthorizerConfig, TokenSource } from './config';
import { Denial } from './denial';
import { JwksCache } from './keys';
import { metricsLine, type MetricsWriter, type Outcome, writeStdout } from './metrics';
import { extractToken, type WebSocketAuthorizerEvent } from './token';
import { TokenVerifier, type VerifiedIdentity } from './verify';

export interface AuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: [{ Action: 'execute-api:Invoke'; Effect: 'Allow'; Resource: string }];
  };
  context: { userId: string; scope: string; exp: number };
}

/** The answer to an HTTP API (payload 2.0) authorizer request: a simple response. */
export interface HttpAuthorizerResult {
  isAuthorized: boolean;
  context?: { userId: string; scope: string; exp: number };
}

export interface Authorizer {
  /** A WebSocket `$connect` REQUEST event: an Allow policy, or `Unauthorized` (401). */
  authorize(event: unknown): Promise<AuthorizerResult>;
  /**
   * An HTTP API request (payload 2.0, simple responses): the Authorization header's Bearer
   * token; `isAuthorized: false` is API Gateway's 403.
   */
  authorizeHttp(event: unknown): Promise<HttpAuthorizerResult>;
  /** JWKS fetches started so far by this instance. */
  readonly jwksFetches: number;
}

export interface AuthorizerDeps {
  logger: Logger;
  /** Where the EMF metrics line goes (one per invocation); stdout by default. */
  writeMetrics?: MetricsWriter;
  /** Clock of the JWKS cache (epoch ms); tests drive it. Token times use the real clock. */
  now?: () => number;
}

const METHOD_ARN = /^arn:[a-z-]+:execute-api:[^\s]{1,2000}$/;

/** Whether an event is an HTTP API authorizer request (payload 2.0). */
export function isHttpAuthorizerEvent(event: unknown): boolean {
  const e = event as { version?: unknown; type?: unknown; routeArn?: unknown } | null;
  return typeof e === 'object' && e !== null && e.version === '2.0' && e.type === 'REQUEST' && typeof e.routeArn === 'string';
}
const HTTP_TOKEN_SOURCES: TokenSource[] = [{ kind: 'header', name: 'authorization' }];

/** Request identifiers for the log line (never headers or the query string). */
function describe(event: unknown): Record<string, string> {
  if (typeof event !== 'object' || event === null) return {};
  const context = (event as WebSocketAuthorizerEvent).requestContext;
  const described: Record<string, string> = {};
  const add = (key: string, value: unknown): void => {
    if (typeof value === 'string' && value.length > 0 && value.length <= 128) described[key] = value;
  };
  add('connectionId', context?.connectionId);
  add('requestId', context?.requestId);
  // WebSocket events carry the caller's address in identity, HTTP API (payload 2.0) ones in http.
  const http = (context as { http?: { sourceIp?: unknown } } | undefined)?.http;
  add('sourceIp', context?.identity?.sourceIp ?? http?.sourceIp);
  return described;
}

/**
 * The $connect REQUEST authorizer: Allow for the methodArn with {userId, scope, exp}, or
 * `Unauthorized` for anything else. A denial is logged with its reason and never with
 * the token, a claim, or a parser's error message. Every invocation writes one EMF line.
 */
export function createAuthorizer(config: AuthorizerConfig, deps: AuthorizerDeps): Authorizer {
  const { logger } = deps;
  const writeMetrics = deps.writeMetrics ?? writeStdout;
  const keys = new JwksCache({
    jwksUri: config.jwksUri,
    maxAgeMs: config.jwksCacheMaxAgeSeconds * 1000,
    minRefreshIntervalMs: config.jwksMinRefreshIntervalSeconds * 1000,
    staleGraceMs: config.jwksStaleGraceSeconds * 1000,
    timeoutMs: config.jwksTimeoutMs,
    ...(deps.now ? { now: deps.now } : {}),
    // Our fetcher's messages are fixed phrases; node's name the host and the errno.
    onRefreshError: (error) => logger.warn('jwks refresh failed', { error: error instanceof Error ? error.message : typeof error }),
  });
  const verifier = new TokenVerifier(config, keys);

  const record = (outcome: Outcome): void => {
    try {
      writeMetrics(metricsLine(config.metricsNamespace, outcome));
    } catch {
      // Metrics must never change the answer.
    }
  };

  /** The verified identity, or undefined when refused (logged and counted either way). */
  const check = async (event: unknown, sources: TokenSource[], wellFormed: () => boolean): Promise<VerifiedIdentity | undefined> => {
    const started = performance.now();
    let source: string | undefined;
    try {
      if (typeof event !== 'object' || event === null || !wellFormed()) throw new Denial('malformed event');
      const found = extractToken(event as WebSocketAuthorizerEvent, sources);
      source = found.source;
      const identity = await verifier.verify(found.token);
      logger.debug('access allowed', { ...describe(event), source, durationMs: Math.round(performance.now() - started) });
      record({ kind: 'allowed' });
      return identity;
    } catch (error) {
      const fields = { ...describe(event), source, durationMs: Math.round(performance.now() - started) };
      if (error instanceof Denial) {
        logger.warn('authorization denied', { reason: error.reason, ...fields });
        record({ kind: error.jwksUnavailable ? 'jwks-unavailable' : 'refused', reason: error.reason });
      } else {
        // Unexpected: log only the error's class, its message could quote token bytes.
        logger.error('authorization denied', { reason: 'internal error', error: error instanceof Error ? error.name : typeof error, ...fields });
        record({ kind: 'fault', reason: 'internal error' });
      }
      return undefined;
    }
  };

  return {
    get jwksFetches() {
      return keys.fetches;
    },

    async authorize(event: unknown): Promise<AuthorizerResult> {
      const { methodArn } = (typeof event === 'object' && event !== null ? event : {}) as WebSocketAuthorizerEvent;
      const identity = await check(event, config.tokenSources, () => typeof methodArn === 'string' && METHOD_ARN.test(methodArn));
      if (!identity) throw new Error('Unauthorized');
      return {
        principalId: identity.sub,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn as string }],
        },
        context: { userId: identity.sub, scope: identity.scope, exp: identity.exp },
      };
    },

    async authorizeHttp(event: unknown): Promise<HttpAuthorizerResult> {
      const identity = await check(event, HTTP_TOKEN_SOURCES, () => isHttpAuthorizerEvent(event));
      return identity ? { isAuthorized: true, context: { userId: identity.sub, scope: identity.scope, exp: identity.exp } } : { isAuthorized: false };
    },
  };
}
