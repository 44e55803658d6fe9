/**
 * @wskit/authorizer: the API Gateway WebSocket `$connect` REQUEST authorizer.
 *
 * Module init stays cheap: configuration is read, and the JWKS client created, on the
 * first invocation, then kept in module scope for the life of the execution environment.
 */
import { type Authorizer, type AuthorizerResult, createAuthorizer } from './authorizer';
import { ConfigError, loadConfig } from './config';
import { createLogger, levelFromEnv } from './logger';

export type { AuthorizerResult } from './authorizer';
export type { AuthorizerConfig, TokenSource } from './config';
export { ConfigError, loadConfig, MAX_TOKEN_BYTES, SUPPORTED_ALGORITHMS } from './config';
export { createAuthorizer } from './authorizer';
export { createLogger } from './logger';

let authorizer: Authorizer | undefined;

export async function handler(event: unknown): Promise<AuthorizerResult> {
  if (authorizer === undefined) {
    const logger = createLogger({ service: 'authorizer', level: levelFromEnv(process.env) });
    try {
      authorizer = createAuthorizer(loadConfig(process.env), logger);
    } catch (error) {
      if (error instanceof ConfigError) {
        logger.error('configuration error', { variable: error.variable, error: error.message });
      }
      // A broken deployment fails loudly (API Gateway answers 500), not as a 401.
      throw error;
    }
  }
  return authorizer.authorize(event);
}
