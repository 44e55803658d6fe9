import * as path from 'node:path';

/**
 * The package directory (`local/`). Sources live flat in `local/src/` and the bundle that
 * `bin/` builds lives in `local/dist/`, so one level up from this file is the package
 * root in both cases.
 */
export const packageRoot = path.resolve(__dirname, '..');

/** The repository root: `dist/lambda`, `terraform/` and `.wskit/` hang off it. */
export const repoRoot = path.resolve(packageRoot, '..');

export const defaultDistDir = path.join(repoRoot, 'dist', 'lambda');
/** The wiring manifests, `<name>/wiring.json` per function. */
export const defaultWiringDir = path.join(repoRoot, 'lambda');
/** Dev signing key and other local state when no data directory is given. */
export const defaultStateDir = path.join(repoRoot, '.wskit');
export const publicDir = path.join(packageRoot, 'public');
/** The worker that hosts one Lambda execution environment (plain ESM, no build step). */
export const lambdaRuntimeFile = path.join(packageRoot, 'src', 'lambda-runtime.mjs');
