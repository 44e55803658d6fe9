// Builds the browser/Node ESM bundle of the SDK and its type declarations:
//   dist/wskit-client.js    ESM, minified, no runtime dependencies
//   dist/wskit-client.d.ts  the public types (re-exports dist/types/index.d.ts)
// and prints the bundle's minified and gzipped sizes.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src/index.ts')],
  outfile: join(dist, 'wskit-client.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  metafile: true,
  // @wskit/protocol is bundled from its TypeScript sources.
  conditions: ['wskit-source', 'module'],
  logLevel: 'warning',
});
const externals = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external));
if (externals.length > 0) {
  throw new Error(`the browser build must not import anything, found: ${externals.map((i) => i.path).join(', ')}`);
}

const tsc = join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
// The sources are compiled as CommonJS in the monorepo (extensionless relative imports);
// ESM consumers resolving these declarations need explicit `.js` extensions.
const typesDir = join(dist, 'types');
for (const file of readdirSync(typesDir)) {
  const path = join(typesDir, file);
  const text = readFileSync(path, 'utf8').replace(/(from\s+['"])(\.\/[^'"]+?)(['"])/g, (_m, a, spec, b) =>
    spec.endsWith('.js') ? `${a}${spec}${b}` : `${a}${spec}.js${b}`,
  );
  writeFileSync(path, text);
}
writeFileSync(join(dist, 'wskit-client.d.ts'), "export * from './types/index.js';\n");

const code = readFileSync(join(dist, 'wskit-client.js'));
const gzipped = gzipSync(code, { level: 9 });
console.log(`dist/wskit-client.js  ${code.length} B minified, ${gzipped.length} B gzipped`);
