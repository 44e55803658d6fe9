// @ts-check
// Loads the gateway's TypeScript sources for the CLIs: esbuild bundles src/ into
// local/dist/ (our code and the @wskit workspaces it imports; other packages stay external)
// when any of those sources is newer than the bundle. Takes well under a second, needs
// nothing beyond `npm ci`.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
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

const repoRoot = path.resolve(packageRoot, '..');

/**
 * Why the bundle must be built again, or undefined when it is current: every file the last
 * build read (its esbuild metafile's inputs outside node_modules: local/src and the @wskit
 * workspace sources it bundles, protocol/src, shared/src, ...) must be older than it, and
 * so must every source in local/src (a file added since).
 * @param {string} outFile
 * @param {string} inputsFile
 */
function staleReason(outFile, inputsFile) {
  if (!existsSync(outFile) || !existsSync(inputsFile)) return 'not built yet';
  const built = mtime(outFile);
  /** @type {string[]} */
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
  } catch {
    return 'its list of inputs is unreadable';
  }
  const local = readdirSync(srcDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(srcDir, f));
  for (const file of [...inputs.map((f) => path.resolve(repoRoot, f)), ...local]) {
    if (!existsSync(file)) return `${file} is gone`;
    if (mtime(file) > built) return `${file} changed`;
  }
  return undefined;
}

/** @param {'index' | 'dev-idp'} entry */
async function ensureBundle(entry) {
  const outFile = path.join(outDir, `${entry}.cjs`);
  const inputsFile = path.join(outDir, `${entry}.inputs.json`);
  if (staleReason(outFile, inputsFile) === undefined) return outFile;
  // Build beside the target and rename: two CLIs starting at once never see half a file.
  const tmpFile = `${outFile}.${process.pid}.tmp`;
  const result = await build({
    entryPoints: [path.join(srcDir, `${entry}.ts`)],
    outfile: tmpFile,
    absWorkingDir: repoRoot,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Packages stay external, except the workspaces' own (@wskit/*), bundled from source.
    conditions: ['wskit-source', 'module'],
    plugins: [externalPackagesButWskit],
    sourcemap: 'inline',
    metafile: true,
    logLevel: 'error',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.split(/[\\/]/).includes('node_modules'));
  writeFileSync(`${inputsFile}.${process.pid}.tmp`, JSON.stringify(inputs, null, 1));
  renameSync(`${inputsFile}.${process.pid}.tmp`, inputsFile);
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
