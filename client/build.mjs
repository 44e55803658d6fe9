// Builds @wskit/client:
//   dist/index.mjs, dist/index.cjs   the package (ESM and CommonJS, not minified); they import
//                                    @wskit/protocol, a dependency of the package
//   dist/types/*.d.ts                its declarations (they import types from @wskit/protocol)
//   dist/wskit-client.js             the self-contained browser bundle (ESM, minified, with
//                                    @wskit/protocol inside, no imports) the demo page loads,
//                                    and `@wskit/client/browser` for a page without a bundler
//   dist/wskit-client.d.ts           its types
// and prints the browser bundle's minified and gzipped sizes.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { buildPackage } from '../scripts/build-package.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

await buildPackage({ dir: here, formats: ['esm', 'cjs'], bundleWorkspaceDependencies: false });

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
writeFileSync(join(dist, 'wskit-client.d.ts'), "export * from './types/index.js';\n");

const code = readFileSync(join(dist, 'wskit-client.js'));
const gzipped = gzipSync(code, { level: 9 });
// On stderr: `npm pack --json` (which runs this as prepack) keeps stdout for its JSON.
console.error(`dist/wskit-client.js  ${code.length} B minified, ${gzipped.length} B gzipped`);
