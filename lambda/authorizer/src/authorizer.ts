import type { AuthorizerConfig } from './config';
import { Denial } from './denial';
import { KeyResolver } from './keys';
import type { Logger } from './logger';
import { extractToken, type WebSocketAuthorizerEvent } from './token';
import { TokenVerifier } from './verify';

export interface AuthorizerResult {
  principalId: string;
  policyDocument: {
    Version: '2012-10-17';
    Statement: [{ Action: 'execute-api:Invoke'; Effect: 'Allow'; Resource: string }];
  };
  context: { userId: string; scope: string; exp: number };
}

export interface Authorizer {
  authorize(event: unknown): Promise<AuthorizerResult>;
}

const METHOD_ARN = /^arn:[a-z-]+:execute-api:[^\s]{1,2000}$/;

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
  add('sourceIp', context?.identity?.sourceIp);
  return described;
}

/**
 * The $connect REQUEST authorizer: Allow for the methodArn with {userId, scope, exp}, or
 * `Unauthorized` for anything else. A denial is logged with its reason and never with
 * the token, a claim, or a parser's error message.
 */
export function createAuthorizer(config: AuthorizerConfig, logger: Logger): Authorizer {
  const keys = new KeyResolver({
    jwksUri: config.jwksUri,
    requestsPerMinute: config.jwksRequestsPerMinute,
    cacheMaxAgeSeconds: config.jwksCacheMaxAgeSeconds,
    timeoutMs: config.jwksTimeoutMs,
  });
  const verifier = new TokenVerifier(config, keys);

  return {
    async authorize(event: unknown): Promise<AuthorizerResult> {
      const started = performance.now();
      let source: string | undefined;
      try {
        if (typeof event !== 'object' || event === null) throw new Denial('malformed event');
        const { methodArn } = event as WebSocketAuthorizerEvent;
        if (typeof methodArn !== 'string' || !METHOD_ARN.test(methodArn)) throw new Denial('malformed event');
        const found = extractToken(event as WebSocketAuthorizerEvent, config.tokenSources);
        source = found.source;
        const identity = await verifier.verify(found.token);
        logger.debug('access allowed', { ...describe(event), source, durationMs: Math.round(performance.now() - started) });
        return {
          principalId: identity.sub,
          policyDocument: {
            Version: '2012-10-17',
            Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
          },
          context: { userId: identity.sub, scope: identity.scope, exp: identity.exp },
        };
      } catch (error) {
        const fields = { ...describe(event), source, durationMs: Math.round(performance.now() - started) };
        if (error instanceof Denial) {
          logger.warn('authorization denied', { reason: error.reason, ...fields });
        } else {
          // Unexpected: log only the error's class, its message could quote token bytes.
          logger.error('authorization denied', { reason: 'internal error', error: error instanceof Error ? error.name : typeof error, ...fields });
        }
        throw new Error('Unauthorized');
      }
    },
  };
}
