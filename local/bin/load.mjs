// @ts-check
// Loads the gateway's TypeScript sources for the CLIs: esbuild bundles src/ into
// local/dist/ (our code only; packages stay external) when a source is newer than the
// bundle. Takes well under a second, needs nothing beyond `npm ci`.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(packageRoot, 'src');
const outDir = path.join(packageRoot, 'dist');
const require = createRequire(import.meta.url);

/** @type {import('esbuild').Plugin} */
const externalPackagesButWskit = {
  name: 'external-packages-but-wskit',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@wskit/') ? undefined : { path: args.path, external: true }));
  },
};

/** @param {string} file */
function mtime(file) {
  return statSync(file).mtimeMs;
}

/** @param {'index' | 'dev-idp'} entry */
async function ensureBundle(entry) {
  const outFile = path.join(outDir, `${entry}.cjs`);
  const newestSource = Math.max(
    ...readdirSync(srcDir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => mtime(path.join(srcDir, f))),
  );
  if (existsSync(outFile) && mtime(outFile) >= newestSource) return outFile;
  // Build beside the target and rename: two CLIs starting at once never see half a file.
  const tmpFile = `${outFile}.${process.pid}.tmp`;
  await build({
    entryPoints: [path.join(srcDir, `${entry}.ts`)],
    outfile: tmpFile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Packages stay external, except the workspaces' own (@wskit/*), bundled from source.
    conditions: ['wskit-source', 'module'],
    plugins: [externalPackagesButWskit],
    sourcemap: 'inline',
    logLevel: 'error',
  });
  renameSync(tmpFile, outFile);
  return outFile;
}

/** @returns {Promise<typeof import('../src/index.js')>} */
export async function loadGateway() {
  return require(await ensureBundle('index'));
}

/** @returns {Promise<typeof import('../src/dev-idp.js')>} */
export async function loadDevIdp() {
  return require(await ensureBundle('dev-idp'));
}
