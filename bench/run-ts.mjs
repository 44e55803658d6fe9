// Runs a TypeScript benchmark entry: bundles it with esbuild (the project's bundler) into
// the OS temp directory, then runs it with node, passing the remaining arguments.
// (Nothing here is part of a Lambda bundle.)
//   node bench/run-ts.mjs bench/fanout/main.ts [args...]
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node bench/run-ts.mjs <entry.ts> [args...]');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// The repository's TypeScript files keep their own __dirname (test support finds the
// table definition relative to itself), though the bundle runs from a temp directory.
const keepDirname = {
  name: 'keep-dirname',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))),
      loader: 'ts',
    }));
  },
};
const outfile = path.join(mkdtempSync(path.join(tmpdir(), 'wskit-bench-')), 'main.cjs');
await build({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile, logLevel: 'warning', conditions: ['wskit-source', 'module'], external: ['dynalite'], plugins: [keepDirname] });
// External packages (dynalite) resolve from the repository's node_modules.
// The suites and benches run on this machine's Node 20; the SDK's notice about Node 22 is not a result.
const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env, NODE_PATH: path.join(root, 'node_modules') };
const child = spawn(process.execPath, [outfile, ...args], { stdio: 'inherit', env });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
