// Bundle size of @wskit/client beside reconnecting-websocket and partysocket, each built the
// same way in the same run: esbuild, bundled, ESM, minified, browser platform, ES2022;
// sizes in bytes, minified and gzipped (level 9).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'client', 'package.json'));

const candidates = [
  { name: '@wskit/client', entry: `export * from ${JSON.stringify(join(root, 'client', 'src', 'index.ts'))};` },
  { name: 'reconnecting-websocket', entry: "export { default } from 'reconnecting-websocket';" },
  { name: 'partysocket', entry: "export * from 'partysocket';" },
];

function version(name) {
  if (name.startsWith('@wskit/')) return JSON.parse(readFileSync(join(root, 'client', 'package.json'), 'utf8')).version;
  // Some packages do not export ./package.json: walk up from the resolved entry instead.
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    dir = dirname(dir);
  }
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

const rows = [];
for (const { name, entry } of candidates) {
  const result = await build({
    stdin: { contents: entry, resolveDir: join(root, 'client'), loader: 'ts', sourcefile: `${name}-entry.ts` },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  rows.push({ name, version: version(name), minified: code.length, gzipped: gzipSync(code, { level: 9 }).length });
}

const header = ['package', 'version', 'minified (B)', 'gzipped (B)'];
const table = [header, ...rows.map((r) => [r.name, r.version, String(r.minified), String(r.gzipped)])];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
const line = (row) => `| ${row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w, i) => (i >= 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
for (const row of table.slice(1)) console.log(line(row));
