#!/usr/bin/env node
// Bundles each lambda/<name>/src/index.ts into dist/lambda/<name>/index.mjs (ESM, node22,
// minified, tree-shaken) and keeps esbuild's metafile as dist/lambda/<name>/meta.json.
//
//   node scripts/bundle.mjs [--out DIR] [--only name,name] [--aws-sdk bundle|external]
//
// The AWS SDK switch (bundle or external) is AWS_SDK_DEFAULT in scripts/esbuild-options.mjs;
// WSKIT_AWS_SDK or --aws-sdk overrides it for one build.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { AWS_SDK_DEFAULT, lambdaBuildOptions } from './esbuild-options.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(root, 'dist', 'lambda') },
    only: { type: 'string' },
    'aws-sdk': { type: 'string', default: process.env.WSKIT_AWS_SDK || AWS_SDK_DEFAULT },
  },
});
const awsSdk = values['aws-sdk'];
if (awsSdk !== 'bundle' && awsSdk !== 'external') {
  console.error(`bundle: --aws-sdk (or WSKIT_AWS_SDK) must be "bundle" or "external", got "${awsSdk}"`);
  process.exit(2);
}
const outRoot = path.resolve(values.out);
const only = values.only ? new Set(values.only.split(',').map((name) => name.trim())) : undefined;

const lambdaDir = path.join(root, 'lambda');
const names = readdirSync(lambdaDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(path.join(lambdaDir, entry.name, 'src', 'index.ts')))
  .map((entry) => entry.name)
  .filter((name) => !only || only.has(name))
  .sort();

if (only) {
  for (const name of only) {
    if (!names.includes(name)) {
      console.error(`bundle: lambda/${name}/src/index.ts does not exist`);
      process.exit(2);
    }
  }
}

for (const name of names) {
  const outDir = path.join(outRoot, name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build(
    lambdaBuildOptions({
      root,
      entry: path.join('lambda', name, 'src', 'index.ts'),
      outdir: outDir,
      awsSdk,
      tsconfig: path.join(root, 'lambda', name, 'tsconfig.json'),
    }),
  );
  writeFileSync(path.join(outDir, 'meta.json'), `${JSON.stringify(result.metafile, null, 1)}\n`);
  process.stderr.write(`bundle: ${name} -> ${path.relative(root, path.join(outDir, 'index.mjs'))} (aws sdk: ${awsSdk})\n`);
}

if (names.length === 0) process.stderr.write('bundle: no lambda/*/src/index.ts to bundle\n');
