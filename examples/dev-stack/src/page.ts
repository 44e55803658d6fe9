/**
 * An example's page: esbuild bundles `web/main.tsx` (React, @wskit/react and @wskit/client
 * from source) into one minified ES module beside the page's HTML and CSS, in a directory the
 * local gateway serves at `/` (its `pageDir` option). No dev server: about half a second.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export interface PageBuild {
  dir: string;
  /** app.js, minified, bytes. */
  bytes: number;
}

export async function buildPage(webDir: string, outDir: string): Promise<PageBuild> {
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(webDir, 'main.tsx')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    minify: true,
    sourcemap: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    conditions: ['wskit-source', 'module'],
    metafile: true,
    logLevel: 'error',
  });
  copyFileSync(join(webDir, 'index.html'), join(outDir, 'index.html'));
  // The shared look (dev-stack/web/base.css), then the page's own.
  writeFileSync(join(outDir, 'styles.css'), `${readFileSync(join(__dirname, '..', 'web', 'base.css'), 'utf8')}\n${readFileSync(join(webDir, 'styles.css'), 'utf8')}`);
  const bytes = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('app.js'))?.[1].bytes ?? 0;
  return { dir: outDir, bytes };
}
