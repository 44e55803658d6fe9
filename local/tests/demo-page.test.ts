/// <reference lib="dom" />
// The demo page in Debian's chromium (playwright-core), running the client SDK bundle: a
// user connects, subscribes, publishes and sees the message; another user's message arrives
// live; the browser goes offline and back online and the page reconnects with its
// subscriptions. Saves screenshots in test-results/.
import * as path from 'node:path';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startGateway, repoRoot, type Gateway } from '../src';
import { connect, type TestClient } from './helpers';
import { clientBundle, realBundles } from './bundles';

jest.setTimeout(90_000);

const CHROMIUM = '/usr/bin/chromium';
const resultsDir = path.join(repoRoot, 'test-results');

let gw: Gateway;
let browser: BrowserContext;
let page: Page;
let workDir: string;
const others: TestClient[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/install-chromium.sh`);
  const distDir = realBundles();
  clientBundle();
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
  page.on('pageerror', (err) => pageErrors.push(err.message));
  mkdirSync(resultsDir, { recursive: true });
});

afterAll(async () => {
  for (const other of others) other.ws.terminate();
  await browser?.close();
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a user connects, subscribes, publishes and sees messages live', async () => {
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
  await publishAs('bob', 'public:lobby', 'Hi Alice, Bob here');
  await page.waitForSelector('.message .data:has-text("Hi Alice, Bob here")');
  await expectText('#message-count', '2');
  await expectText('#reconnects', '0');

  await page.screenshot({ path: path.join(resultsDir, 'demo.png'), fullPage: true });

  await page.click('#disconnect');
  await page.waitForSelector('#status[data-state="closed"]');
  expect(pageErrors).toEqual([]);
});

test('offline: the page says so, reconnects when back online, and the subscription is restored', async () => {
  await page.goto(gw.httpUrl + '/');
  await page.fill('#user', 'dana');
  await page.click('#connect');
  await page.waitForSelector('#status[data-state="open"]');
  await page.waitForFunction(() => document.querySelector('#connection-id')?.textContent?.endsWith('='));
  const firstConnectionId = await page.textContent('#connection-id');
  await page.fill('#topic', 'public:network');
  await page.click('#subscribe');
  await expectText('#publish-feedback', 'Subscribed to public:network');

  // Offline stops every frame, so the SDK's ping goes unanswered and the connection is
  // declared dead (heartbeat timeout, 10 s by default; more on a loaded machine).
  await browser.setOffline(true);
  await page.waitForSelector('#status[data-state="reconnecting"]', { timeout: 45_000 });
  expect(await page.textContent('#status-text')).toContain('Offline');
  expect(await page.isVisible('#notice')).toBe(true);
  expect(await page.textContent('#notice')).toContain('offline');
  expect(await page.evaluate(() => (window as unknown as { wskitClient: { state: string } }).wskitClient.state)).toBe('reconnecting');
  // Publishing meanwhile is queued by the SDK and sent once the connection is back.
  await page.fill('#publish-topic', 'public:network');
  await page.fill('#publish-data', 'Sent while offline');
  await page.click('#publish');
  await expectText('#publish-feedback', 'Queued: sent when the connection is back');
  await page.screenshot({ path: path.join(resultsDir, 'demo-offline.png'), fullPage: true });

  await browser.setOffline(false);
  await page.waitForSelector('#status[data-state="open"]', { timeout: 30_000 });
  await expectText('#reconnects', '1');
  expect(await page.textContent('#connection-id')).not.toBe(firstConnectionId);
  expect(await page.isVisible('#notice')).toBe(false);
  // The queued publish went out after the subscription was restored, so it came back.
  await page.waitForSelector('.message .data:has-text("Sent while offline")', { timeout: 15_000 });
  await expectText('#publish-feedback', 'Delivered to 1 connection');

  // A publish from elsewhere reaches the new connection: the subscription was restored.
  await publishAs('erin', 'public:network', 'Welcome back');
  await page.waitForSelector('.message .data:has-text("Welcome back")');
  const topics = await page.evaluate(() => (window as unknown as { wskitClient: { topics(): string[] } }).wskitClient.topics());
  expect(topics).toEqual(['public:network']);

  await page.click('#disconnect');
  await page.waitForSelector('#status[data-state="closed"]');
  expect(pageErrors).toEqual([]);
});

test('without the client SDK bundle the page says what to build', async () => {
  const second = await browser.newPage();
  try {
    await second.route('**/wskit-client.js', (route) => route.fulfill({ status: 404, body: 'not found' }));
    await second.goto(gw.httpUrl + '/');
    await second.waitForSelector('#status[data-state="unavailable"]');
    expect(await second.textContent('#notice')).toContain('node client/build.mjs');
    expect(await second.isDisabled('#connect')).toBe(true);
  } finally {
    await second.close();
  }
});

test('the gateway serves the SDK bundle and its source map', async () => {
  const bundle = await page.request.get(`${gw.httpUrl}/wskit-client.js`);
  expect(bundle.status()).toBe(200);
  expect(bundle.headers()['content-type']).toMatch(/^text\/javascript/);
  expect(await bundle.text()).toContain('sourceMappingURL=wskit-client.js.map');
  const map = await page.request.get(`${gw.httpUrl}/wskit-client.js.map`);
  expect(map.status()).toBe(200);
  expect((await map.json()).sources.some((source: string) => source.endsWith('client.ts'))).toBe(true);
});

test('the page does not expose dev tokens to non-loopback origins and serves no stray files', async () => {
  const res = await page.request.get(`${gw.httpUrl}/../package.json`);
  expect(res.status()).toBe(404);
  const token = await page.request.post(`${gw.httpUrl}/dev/token`, { data: { sub: 'bad user!' } });
  expect(token.status()).toBe(400);
});

/** Publishes from a plain WebSocket client of another user; the page is the one subscriber. */
async function publishAs(sub: string, topic: string, data: string) {
  const other = await connect(`${gw.wsUrl}/?token=${await gw.mintToken({ sub })}`);
  others.push(other);
  other.send({ action: 'publish', id: 'p', topic, data });
  expect(await other.nextJson()).toMatchObject({ type: 'ack', delivered: 1 });
}

async function expectText(selector: string, text: string) {
  await page.waitForFunction(
    ([sel, expected]) => document.querySelector(sel!)?.textContent?.trim() === expected,
    [selector, text] as const,
    { timeout: 10_000 },
  );
}
