import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { defaultDistDir } from '../src';

const FUNCTIONS = ['connect', 'disconnect', 'message', 'authorizer'];

/**
 * The real handler bundles the end-to-end suites run: `dist/lambda` (built by ./build.sh),
 * or WSKIT_DIST_DIR. A missing bundle fails the suite with what to run, never skips it.
 */
export function realBundles(): string {
  const distDir = path.resolve(process.env.WSKIT_DIST_DIR ?? defaultDistDir);
  const missing = FUNCTIONS.filter((name) => !existsSync(path.join(distDir, name, 'index.mjs')));
  if (missing.length > 0) {
    throw new Error(
      `the end-to-end tests run the built handlers, and ${missing.map((m) => `${m}/index.mjs`).join(', ')} ` +
        `is missing from ${distDir}: run ./build.sh at the repository root first`,
    );
  }
  return distDir;
}
