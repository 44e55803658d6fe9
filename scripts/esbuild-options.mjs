// esbuild options for a Lambda bundle, shared by scripts/bundle.mjs and the cold-start
// benchmark (bench/cold-start), so both measure the very same build.
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * THE AWS SDK SWITCH.
 * - 'bundle': `@aws-sdk/*` and `@smithy/*` go into every bundle, at the version the tests
 *   ran against (pinned by package-lock.json).
 * - 'external': they are left out and resolved at run time from the copy the Lambda
 *   nodejs22.x runtime ships (whatever version AWS deployed that week).
 * docs/build.md has the figures and the reasons for the default.
 */
export const AWS_SDK_DEFAULT = 'bundle';

// CommonJS dependencies inside an ESM bundle call require() for node built-ins; give
// them a real one. Also __filename/__dirname, which a few CJS packages read.
const BANNER = [
  "import { createRequire as __wskitCreateRequire } from 'node:module';",
  "import { fileURLToPath as __wskitFileURLToPath } from 'node:url';",
  'const require = __wskitCreateRequire(import.meta.url);',
  'const __filename = __wskitFileURLToPath(import.meta.url);',
  "const __dirname = __wskitFileURLToPath(new URL('.', import.meta.url));",
].join('\n');

/**
 * ESM twins: in a bundle, a source `<name>.esm.ts` beside `<name>.ts` replaces it for
 * every relative import of `./<name>`. The twin holds the same lazy loaders written with
 * dynamic `import()` (the CommonJS original uses `require`, which jest needs), so with
 * code splitting what they load lands in a chunk that is read and parsed only on first use.
 * Used by @wskit/shared (src/sdk.ts: the AWS SDK) and the authorizer (src/libs.ts).
 * @type {import('esbuild').Plugin}
 */
export const esmTwins = {
  name: 'wskit-esm-twins',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.importer.includes(`${path.sep}node_modules${path.sep}`) || args.importer.endsWith('.esm.ts')) return undefined;
      const twin = `${path.resolve(args.resolveDir, args.path.replace(/\.(?:js|ts)$/, ''))}.esm.ts`;
      return existsSync(twin) ? { path: twin } : undefined;
    });
  },
};

/**
 * Output: `<outdir>/index.mjs`, plus `<outdir>/chunks/*.mjs` for what loads at first use.
 * @param {{ root: string, entry: string, outdir: string, awsSdk: 'bundle' | 'external', tsconfig?: string }} options
 * @returns {import('esbuild').BuildOptions}
 */
export function lambdaBuildOptions({ root, entry, outdir, awsSdk, tsconfig }) {
  return {
    absWorkingDir: root,
    entryPoints: { index: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [esmTwins],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // Prefer the ESM build of a dependency (the AWS SDK ships one): it tree-shakes.
    mainFields: ['module', 'main'],
    // Workspace packages (@wskit/*) are bundled from their TypeScript sources. Naming any
    // condition drops esbuild's implicit `module`, which picks the AWS SDK's ESM build: keep it.
    conditions: ['wskit-source', 'module'],
    minify: true,
    treeShaking: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    banner: { js: BANNER },
    external: awsSdk === 'external' ? ['@aws-sdk/*', '@smithy/*'] : [],
    ...(tsconfig ? { tsconfig } : {}),
  };
}
