// Builds @wskit/react: dist/index.mjs (ESM), dist/index.cjs (CommonJS) and dist/types/*.d.ts.
// react and @wskit/client stay imports (a peer dependency and a dependency).
import { buildPackage } from '../scripts/build-package.mjs';

await buildPackage({ dir: new URL('.', import.meta.url), formats: ['esm', 'cjs'], bundleWorkspaceDependencies: false });
