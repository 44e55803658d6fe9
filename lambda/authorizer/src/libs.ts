/**
 * The authorizer's heavy library, loaded at first use, never at module init.
 *
 * This file uses `require` (what jest and Node's CommonJS need). `libs.esm.ts` exports the
 * same loader with dynamic `import()`; the bundler substitutes it for this file (a
 * `<name>.esm.ts` twin replaces `<name>.ts` in bundles, see scripts/esbuild-options.mjs)
 * and code-splits, so its code is not even parsed until the first invocation.
 */
import type * as Jwt from 'jsonwebtoken';

export const loadJsonwebtoken = async (): Promise<typeof Jwt> => require('jsonwebtoken') as typeof Jwt;
