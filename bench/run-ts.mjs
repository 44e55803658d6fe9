// Runs a TypeScript benchmark entry: bundles it with esbuild (the project's bundler) into
// the OS temp directory, then runs it with node, passing the remaining arguments.
//   node bench/run-ts.mjs bench/fanout/main.ts [args...]
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node bench/run-ts.mjs <entry.ts> [args...]');
  process.exit(2);
}
const outfile = path.join(mkdtempSync(path.join(tmpdir(), 'wskit-bench-')), 'main.cjs');
await build({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile, logLevel: 'warning', external: ['dynalite'] });
const child = spawn(process.execPath, [outfile, ...args], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
