/** Debian's chromium through playwright-core, as the browser suites launch it. */
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** A headless chromium with its own profile in `profileDir`; fails with what to run when chromium is missing. */
export async function launchChromium(profileDir: string, viewport = { width: 1280, height: 860 }): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/install-chromium.sh`);
  return chromium.launchPersistentContext(path.resolve(profileDir), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
