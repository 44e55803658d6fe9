#!/usr/bin/env node
// Builds the coalescer Lambda the Terraform root deploys: src/handler.ts bundled like the wskit
// functions (scripts/esbuild-options.mjs: ESM, node22, minified, the AWS SDK inside) into
// dist/lambda/coalescer/, zipped reproducibly to dist/lambda/coalescer.zip
// (scripts/package-lambdas.mjs). Handler string: index.handler.
//
//   node examples/ops-dashboard/build.mjs      (or npm run -w @wskit/example-ops-dashboard build:lambda)
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { lambdaBuildOptions } from '../../scripts/esbuild-options.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const outRoot = path.join(here, 'dist', 'lambda');
const outDir = path.join(outRoot, 'coalescer');
rmSync(outRoot, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const result = await esbuild.build({
  ...lambdaBuildOptions({ root, entry: path.join(here, 'src', 'handler.ts'), outdir: outDir, awsSdk: 'bundle', tsconfig: path.join(here, 'tsconfig.json') }),
  // The handler exports `handler`; index.mjs is what the zip's `index.handler` names.
  entryPoints: { index: path.join(here, 'src', 'handler.ts') },
});
writeFileSync(path.join(outDir, 'meta.json'), `${JSON.stringify(result.metafile, null, 1)}\n`);
execFileSync(process.execPath, [path.join(root, 'scripts', 'package-lambdas.mjs'), '--dir', outRoot, '--no-budget'], { stdio: ['ignore', 2, 2] });
process.stderr.write(`build: ${path.relative(root, path.join(outRoot, 'coalescer.zip'))}\n`);
