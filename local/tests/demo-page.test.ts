/// <reference lib="dom" />
// The demo page in Debian's chromium (playwright-core): a user connects, subscribes,
// publishes and sees the message; another user's message arrives live. Saves a screenshot.
import * as path from 'node:path';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startGateway, repoRoot, type Gateway } from '../src';
import { connect, type TestClient } from './helpers';
import { realBundles } from './bundles';

jest.setTimeout(90_000);

const CHROMIUM = '/usr/bin/chromium';
const screenshotFile = path.join(repoRoot, 'test-results', 'demo.png');

let gw: Gateway;
let browser: BrowserContext;
let page: Page;
let workDir: string;
let other: TestClient | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/install-chromium.sh`);
  const distDir = realBundles();
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-demo-'));
  gw = await startGateway({ distDir, dataDir: path.join(workDir, 'data') });
  browser = await chromium.launchPersistentContext(path.join(workDir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
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
  page = browser.pages()[0] ?? (await browser.newPage());
});

afterAll(async () => {
  other?.ws.terminate();
  await browser?.close();
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a user connects, subscribes, publishes and sees messages live', async () => {
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(gw.httpUrl + '/');
  await expectText('#status-text', 'Not connected');

  await page.fill('#user', 'alice');
  await page.click('#connect');
  await page.waitForSelector('#status[data-state="open"]');
  await page.waitForFunction(() => document.querySelector('#connection-id')?.textContent?.endsWith('='));
  await expectText('#user-id', 'alice');

  await page.fill('#topic', 'public:lobby');
  await page.click('#subscribe');
  await page.waitForSelector('#subscriptions li:has-text("public:lobby")');

  await page.fill('#publish-topic', 'public:lobby');
  await page.fill('#publish-data', 'Hello from chromium');
  await page.click('#publish');
  await page.waitForSelector('.message .data:has-text("Hello from chromium")');
  await expectText('#publish-feedback', 'Delivered to 1 connection');

  // Someone else publishes: the page shows it without doing anything.
  const token = await gw.mintToken({ sub: 'bob' });
  other = await connect(`${gw.wsUrl}/?token=${token}`);
  other.send({ action: 'publish', id: 'b', topic: 'public:lobby', data: 'Hi Alice, Bob here' });
  expect(await other.nextJson()).toMatchObject({ type: 'ack', delivered: 1 });
  await page.waitForSelector('.message .data:has-text("Hi Alice, Bob here")');
  await expectText('#message-count', '2');

  mkdirSync(path.dirname(screenshotFile), { recursive: true });
  await page.screenshot({ path: screenshotFile, fullPage: true });

  await page.click('#disconnect');
  await page.waitForSelector('#status[data-state="closed"]');
  expect(pageErrors).toEqual([]);
});

test('the page does not expose dev tokens to non-loopback origins and serves no stray files', async () => {
  const res = await page.request.get(`${gw.httpUrl}/../package.json`);
  expect(res.status()).toBe(404);
  const token = await page.request.post(`${gw.httpUrl}/dev/token`, { data: { sub: 'bad user!' } });
  expect(token.status()).toBe(400);
});

async function expectText(selector: string, text: string) {
  await page.waitForFunction(
    ([sel, expected]) => document.querySelector(sel!)?.textContent?.trim() === expected,
    [selector, text] as const,
    { timeout: 10_000 },
  );
}
