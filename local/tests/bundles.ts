import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { defaultDistDir, defaultWiringDir, readWiring, repoRoot } from '../src';

/** The functions the gateway routes to or authorizes with, from the wiring manifests. */
const FUNCTIONS = readWiring(defaultWiringDir)
  .filter((m) => m.routes.length > 0 || m.httpRoutes.length > 0 || m.protocolActionRoutes || m.authorizer)
  .map((m) => m.name);

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

/**
 * The client SDK's browser bundle the demo page loads (`client/dist/wskit-client.js`, built
 * by ./build.sh or `node client/build.mjs`). Missing: the suite fails with what to run.
 */
export function clientBundle(): string {
  const file = path.join(repoRoot, 'client', 'dist', 'wskit-client.js');
  if (!existsSync(file)) {
    throw new Error(`the demo page loads the client SDK, and ${file} is missing: run ./build.sh (or node client/build.mjs) first`);
  }
  return file;
}
