/**
 * @wskit/authorizer: the API Gateway WebSocket `$connect` REQUEST authorizer, and the Lambda
 * authorizer of the HTTP API (payload 2.0, simple responses: the Authorization header's
 * Bearer token).
 *
 * Module init stays cheap: configuration is read, and the JWKS cache created, on the
 * first invocation, then kept in module scope for the life of the execution environment.
 */
import { createLogger } from '@wskit/shared/logger';
import { ConfigError, metricsNamespaceFromEnv } from '@wskit/shared/config';
import { type Authorizer, type AuthorizerResult, type HttpAuthorizerResult, createAuthorizer, isHttpAuthorizerEvent } from './authorizer';
import { loadConfig } from './config';
import { metricsLine, SERVICE, writeStdout } from './metrics';

export type { AuthorizerDeps, AuthorizerResult, HttpAuthorizerResult } from './authorizer';
export type { AuthorizerConfig, TokenSource } from './config';
export { loadConfig, MAX_TOKEN_BYTES } from './config';
export { createAuthorizer } from './authorizer';
export { AUTHORIZER_METRICS, SERVICE } from './metrics';

let authorizer: Authorizer | undefined;

export async function handler(event: unknown): Promise<AuthorizerResult | HttpAuthorizerResult> {
  if (authorizer === undefined) {
    // Level from AWS_LAMBDA_LOG_LEVEL, else WSKIT_LOG_LEVEL, else INFO.
    const logger = createLogger(SERVICE);
    try {
      authorizer = createAuthorizer(loadConfig(process.env), { logger });
    } catch (error) {
      if (error instanceof ConfigError) {
        logger.error('configuration error', { variable: error.variable, error: error.message });
        // Counted as a fault, so the alarm on Faults sees a broken deployment.
        let namespace = 'wskit';
        try {
          namespace = metricsNamespaceFromEnv(process.env);
        } catch {
          // the namespace itself is the broken setting: the default one still gets the line
        }
        writeStdout(metricsLine(namespace, { kind: 'config-error', reason: 'configuration error' }));
      }
      // A broken deployment fails loudly (API Gateway answers 500), not as a 401.
      throw error;
    }
  }
  return isHttpAuthorizerEvent(event) ? authorizer.authorizeHttp(event) : authorizer.authorize(event);
}
