/**
 * The ESM twin of `libs.ts` for bundles: the same loader with dynamic `import()`, so the
 * bundler puts jsonwebtoken into a chunk loaded on first use. jest never loads this file.
 */
import type * as Jwt from 'jsonwebtoken';

/** A CommonJS module imported from ESM: its `module.exports` is the default export. */
const commonJs = <T>(namespace: unknown): T => ((namespace as { default?: unknown }).default ?? namespace) as T;

export const loadJsonwebtoken = async (): Promise<typeof Jwt> => commonJs<typeof Jwt>(await import('jsonwebtoken'));
