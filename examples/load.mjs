#!/usr/bin/env node
// @ts-check
// Runs the examples' TypeScript on Node: esbuild bundles an entry (the example's code and the
// @wskit workspaces it imports, from source; other packages stay imports from node_modules)
// into examples/<name>/dist/, keeping each source file's own __dirname (the local gateway
// finds its worker runtime and page files relative to itself), and loads it. Well under a
// second; nothing to build beforehand.
//
//   import { loadExample } from './load.mjs'; const { start } = await loadExample('stocks');
//   node examples/load.mjs stock-portfolio/src/simulate.ts [args...]      (runs an entry)
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const examplesDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(examplesDir, '..');
const require = createRequire(import.meta.url);

/** `--example` names: the directory, and the short names people type. */
const ALIASES = new Map([
  ['stocks', 'stock-portfolio'],
  ['stockpicker', 'stock-portfolio'],
  ['ops', 'ops-dashboard'],
]);

/** @type {import('esbuild').Plugin} */
const keepDirname = {
  name: 'keep-dirname',
  setup(b) {
    b.onLoad({ filter: /\.tsx?$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))),
      loader: args.path.endsWith('.tsx') ? 'tsx' : 'ts',
    }));
  },
};

/** @type {import('esbuild').Plugin} */
const externalPackagesButWskit = {
  name: 'external-packages-but-wskit',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@wskit/') ? undefined : { path: args.path, external: true }));
  },
};

/** The examples: directories under examples/ with a src/start.ts. */
export function exampleNames() {
  return readdirSync(examplesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(examplesDir, e.name, 'src', 'start.ts')))
    .map((e) => e.name)
    .sort();
}

/**
 * Bundles `entry` (a .ts file) into `outFile` (CommonJS) and requires it.
 * @param {string} entry
 * @param {string} outFile
 */
export async function loadModule(entry, outFile) {
  await build({
    entryPoints: [entry],
    outfile: outFile,
    absWorkingDir: repoRoot,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['wskit-source', 'module'],
    plugins: [keepDirname, externalPackagesButWskit],
    sourcemap: 'inline',
    logLevel: 'error',
  });
  return require(outFile);
}

/**
 * The example's module (its src/start.ts): `start(options)` starts it.
 * @param {string} name  `stocks`, `ops-dashboard`, or a directory name under examples/
 * @returns {Promise<{ start: (options: object) => Promise<{ gateway: any, pageUrl: string, lines: string[], stop(): Promise<void> }> }>}
 */
export async function loadExample(name) {
  const dir = ALIASES.get(name) ?? name;
  const names = exampleNames();
  if (!names.includes(dir)) {
    throw new Error(`no example "${name}": the examples are ${names.join(', ')} (also: ${[...ALIASES.keys()].join(', ')})`);
  }
  return loadModule(path.join(examplesDir, dir, 'src', 'start.ts'), path.join(examplesDir, dir, 'dist', 'start.cjs'));
}

// `node examples/load.mjs <entry.ts> [args...]`: runs the entry.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) {
    process.stderr.write('usage: node examples/load.mjs <example>/src/<entry>.ts [args...]\n');
    process.exit(2);
  }
  const file = path.resolve(examplesDir, entry);
  const dir = path.relative(examplesDir, file).split(path.sep)[0] ?? '';
  process.argv = [process.execPath, file, ...args];
  await loadModule(file, path.join(examplesDir, dir, 'dist', `${path.basename(file, '.ts')}.cjs`));
}
