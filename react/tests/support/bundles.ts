import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const FUNCTIONS = ['connect', 'disconnect', 'message', 'authorizer'];

/** The built handler bundles (./build.sh) the local gateway runs; a missing one fails with what to run. */
export function handlerBundles(): string {
  const distDir = resolve(process.env.WSKIT_DIST_DIR ?? join(__dirname, '..', '..', '..', 'dist', 'lambda'));
  const missing = FUNCTIONS.filter((name) => !existsSync(join(distDir, name, 'index.mjs')));
  if (missing.length > 0) {
    throw new Error(`these tests run the real handler bundles; ${missing.map((m) => `${m}/index.mjs`).join(', ')} missing from ${distDir}: run ./build.sh first`);
  }
  return distDir;
}
