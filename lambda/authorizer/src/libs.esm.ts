/**
 * The ESM twin of `libs.ts` for bundles: the same loaders with dynamic `import()`, so the
 * bundler puts jsonwebtoken and jwks-rsa (with jose) into a chunk loaded on first use.
 * jest never loads this file.
 */
import type * as Jwt from 'jsonwebtoken';
import type * as JwksRsa from 'jwks-rsa';

/** A CommonJS module imported from ESM: its `module.exports` is the default export. */
const commonJs = <T>(namespace: unknown): T => ((namespace as { default?: unknown }).default ?? namespace) as T;

export const loadJsonwebtoken = async (): Promise<typeof Jwt> => commonJs<typeof Jwt>(await import('jsonwebtoken'));
export const loadJwksRsa = async (): Promise<typeof JwksRsa> => commonJs<typeof JwksRsa>(await import('jwks-rsa'));
