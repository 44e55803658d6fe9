// Bundle size of @wskit/client beside other WebSocket clients, each built the same way in the
// same run: esbuild, bundled, ESM, minified, browser platform, ES2022; sizes in bytes,
// minified and gzipped (level 9). @wskit/client is built from its sources with
// @wskit/protocol inside, as an app's bundler sees it (only what the entry imports is kept):
//   - "connect only": what an app that uses the client without the extensions ships;
//   - "+ qualityMonitor", "+ metricsReporter": the same app using an extension;
//   - "everything": every export (the browser bundle dist/wskit-client.js).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'client', 'package.json'));
const client = JSON.stringify(join(root, 'client', 'src', 'index.ts'));

const candidates = [
  { name: '@wskit/client', variant: 'connect only', entry: `export { connect } from ${client};` },
  { name: '@wskit/client', variant: '+ qualityMonitor', entry: `export { connect, qualityMonitor } from ${client};` },
  { name: '@wskit/client', variant: '+ metricsReporter', entry: `export { connect, metricsReporter } from ${client};` },
  { name: '@wskit/client', variant: 'everything', entry: `export * from ${client};` },
  { name: 'reconnecting-websocket', entry: "export { default } from 'reconnecting-websocket';" },
  { name: 'partysocket', entry: "export * from 'partysocket';" },
  { name: 'socket.io-client', recovery: true, entry: "export * from 'socket.io-client';" },
  { name: 'pusher-js', recovery: true, entry: "export { default } from 'pusher-js';" },
  { name: 'centrifuge', recovery: true, entry: "export * from 'centrifuge';" },
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
for (const { name, variant, entry } of candidates) {
  const result = await build({
    stdin: { contents: entry, resolveDir: join(root, 'client'), loader: 'ts', sourcefile: `${name}-entry.ts` },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    legalComments: 'none',
    conditions: ['wskit-source', 'module'],
    metafile: true,
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  if (variant === 'connect only') {
    // the extensions cost nothing when not imported: not one byte of them in the output
    const inputs = Object.values(result.metafile.outputs)[0].inputs;
    const shipped = Object.entries(inputs).filter(([file, { bytesInOutput }]) => /src\/(quality|reporter|trace)\.ts$/.test(file) && bytesInOutput > 0);
    if (shipped.length > 0) throw new Error(`an app that imports only connect ships ${shipped.map(([f]) => f).join(', ')}`);
  }
  rows.push({ name: variant ? `${name} (${variant})` : name, version: version(name), minified: code.length, gzipped: gzipSync(code, { level: 9 }).length });
}

const header = ['package', 'version', 'minified (B)', 'gzipped (B)'];
const table = [header, ...rows.map((r) => [r.name, r.version, String(r.minified), String(r.gzipped)])];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
const line = (row) => `| ${row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w, i) => (i >= 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
for (const row of table.slice(1)) console.log(line(row));

// The claim the README makes: with everything in, @wskit/client is smaller than every
// client with recovery built in.
const everything = rows.find((r) => r.name === '@wskit/client (everything)');
const recovering = candidates.filter((c) => c.recovery).map((c) => rows.find((r) => r.name === c.name));
const bigger = recovering.filter((r) => r.gzipped <= everything.gzipped);
if (bigger.length > 0) {
  console.error(`@wskit/client (${everything.gzipped} B gzipped) is not the smallest: ${bigger.map((r) => `${r.name} ${r.gzipped} B`).join(', ')}`);
  process.exitCode = 1;
}
