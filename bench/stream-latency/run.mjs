#!/usr/bin/env node
// node bench/stream-latency/run.mjs [--samples 200] [--interval-ms 50]
// Bundles main.ts the way the examples run (examples/load.mjs: @wskit workspaces from source,
// packages from node_modules, each file's own __dirname) and runs it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModule } from '../../examples/load.mjs';

// The AWS SDK's notice about Node 22 would land in the middle of the table.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const here = path.dirname(fileURLToPath(import.meta.url));
const { main } = await loadModule(path.join(here, 'main.ts'), path.join(here, 'dist', 'main.cjs'));
await main(process.argv.slice(2));
