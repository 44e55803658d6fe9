// Builds @wskit/protocol for publishing: dist/index.js (ESM), dist/index.cjs (CommonJS)
// and dist/types/*.d.ts. Inside the repository nothing needs it: the workspaces resolve the
// package's `wskit-source` export condition to src/.
import { buildPackage } from '../scripts/build-package.mjs';

await buildPackage({ dir: new URL('.', import.meta.url), formats: ['esm', 'cjs'] });
