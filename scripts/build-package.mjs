// Builds a publishable wskit package (@wskit/protocol, @wskit/client): esbuild bundles
// src/index.ts into dist/index.mjs (ESM) and, when asked, dist/index.cjs (CommonJS); tsc
// writes the declarations to dist/types. Nothing is bundled in but the package's own code
// and, unless `bundleWorkspaceDependencies` is false, the @wskit packages it imports (built
// from source through the `wskit-source` condition); other dependencies stay imports.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} dir */
function declarationFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? declarationFiles(full) : full.endsWith('.d.ts') ? [full] : [];
  });
}

/**
 * @param {{ dir: URL | string, formats?: Array<'esm' | 'cjs'>, platform?: 'neutral' | 'node' | 'browser', target?: string, bundleWorkspaceDependencies?: boolean }} options
 */
export async function buildPackage({ dir, formats = ['esm'], platform = 'neutral', target = 'es2022', bundleWorkspaceDependencies = true }) {
  const packageDir = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const dist = path.join(packageDir, 'dist');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  const external = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(
    (name) => !bundleWorkspaceDependencies || !name.startsWith('@wskit/'),
  );
  for (const format of formats) {
    await build({
      entryPoints: [path.join(packageDir, 'src', 'index.ts')],
      outfile: path.join(dist, format === 'esm' ? 'index.mjs' : 'index.cjs'),
      bundle: true,
      format,
      platform,
      target: [target],
      conditions: ['wskit-source', 'module'],
      external,
      sourcemap: true,
      logLevel: 'warning',
    });
  }
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(packageDir, 'tsconfig.build.json')], { stdio: 'inherit' });
  // The sources use extensionless relative imports; ESM consumers of the declarations need `.js`.
  for (const file of declarationFiles(path.join(dist, 'types'))) {
    const text = readFileSync(file, 'utf8').replace(/(from\s+['"])(\.\.?\/[^'"]+?)(['"])/g, (_m, a, spec, b) =>
      spec.endsWith('.js') ? `${a}${spec}${b}` : `${a}${spec}.js${b}`,
    );
    writeFileSync(file, text);
  }
}
