/**
 * For the examples' browser tests: Debian's chromium through playwright-core, and the
 * screenshots a test takes (test-results/, and docs/screenshots/ with WSKIT_UPDATE_SCREENSHOTS=1).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';

export const CHROMIUM = process.env.WSKIT_CHROMIUM ?? '/usr/bin/chromium';
const repoRoot = path.resolve(__dirname, '..', '..', '..');

export function chromiumPath(): string {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: run bash scripts/install-chromium.sh (Debian's chromium) or set WSKIT_CHROMIUM`);
  return CHROMIUM;
}

/** Saves a PNG of the page as test-results/examples/<name>.png; also into docs/screenshots/ when WSKIT_UPDATE_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = path.join(repoRoot, 'test-results', 'examples');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.WSKIT_UPDATE_SCREENSHOTS === '1') {
    const docs = path.join(repoRoot, 'docs', 'screenshots');
    mkdirSync(docs, { recursive: true });
    copyFileSync(file, path.join(docs, `${name}.png`));
  }
  return file;
}
