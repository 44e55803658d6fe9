/**
 * The package's shape: what the built files import, and that a bundler drops what an app
 * does not use (sideEffects: false, pure module scope).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(__dirname, '..');

async function bundle(entry: string): Promise<string> {
  const result = await build({
    stdin: { contents: entry, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    external: ['react', 'react-dom'],
    conditions: ['wskit-source', 'module'],
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}

test('an app that uses only the provider and usePublish does not carry the topic store', async () => {
  const small = await bundle(`import { WskitProvider, usePublish } from '@wskit/react'; console.log(WskitProvider, usePublish);`);
  const full = await bundle(`import { WskitProvider, useTopic } from '@wskit/react'; console.log(WskitProvider, useTopic);`);
  // "idle" is the topic store's and the hooks' own word (the client has no such string).
  expect(full).toContain('"idle"');
  expect(small).not.toContain('"idle"');
  expect(full.length - small.length).toBeGreaterThan(2000);
});

test('the build writes ESM, CommonJS and declarations that import only react and @wskit/client', () => {
  execFileSync(process.execPath, [join(root, 'build.mjs')], { stdio: 'pipe' });
  const esm = readFileSync(join(root, 'dist', 'index.mjs'), 'utf8');
  const cjs = readFileSync(join(root, 'dist', 'index.cjs'), 'utf8');
  const imports = [...esm.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]);
  expect(new Set(imports)).toEqual(new Set(['react', '@wskit/client']));
  const requires = [...cjs.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  expect(new Set(requires)).toEqual(new Set(['react', '@wskit/client']));
  const types = readFileSync(join(root, 'dist', 'types', 'index.d.ts'), 'utf8');
  expect(types).toContain("from './hooks.js'");
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  expect(manifest.sideEffects).toBe(false);
  expect(manifest.peerDependencies).toEqual({ react: '>=18' });
});
