/// <reference lib="dom" />
// The demo page in Debian's chromium (playwright-core), running the client SDK bundle: a
// user connects, subscribes, publishes and sees the message with its seq; another user's
// message arrives live; the browser goes offline while a backend publishes, and back online
// the page reconnects with its subscriptions and shows the missed messages recovered from
// history, in order. Saves screenshots in test-results/.
import * as path from 'node:path';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { BrowserContext, Page } from 'playwright-core';
import { startGateway, repoRoot, type Gateway } from '../src';
import { connect, type TestClient } from './helpers';
import { clientBundle, realBundles } from './bundles';
import { launchChromium } from './support/browser';

jest.setTimeout(90_000);

const resultsDir = path.join(repoRoot, 'test-results');

let gw: Gateway;
let browser: BrowserContext;
let page: Page;
let workDir: string;
const others: TestClient[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  const distDir = realBundles();
  clientBundle();
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-demo-'));
  gw = await startGateway({ distDir, dataDir: path.join(workDir, 'data') });
  browser = await launchChromium(path.join(workDir, 'chromium-profile'));
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
  await expectText('#publish-feedback', 'Delivered to 1 connection · seq 1');
  expect(await page.getAttribute('.message:has-text("Hello from chromium")', 'data-seq')).toBe('1');
  expect(await page.textContent('.message:has-text("Hello from chromium") .seq')).toBe('#1');

  // Someone else publishes: the page shows it without doing anything.
  await publishAs('bob', 'public:lobby', 'Hi Alice, Bob here');
  await page.waitForSelector('.message .data:has-text("Hi Alice, Bob here")');
  await expectText('#message-count', '2');
  expect(await page.getAttribute('.message:has-text("Hi Alice, Bob here")', 'data-seq')).toBe('2');
  expect(await page.getAttribute('.message:has-text("Hi Alice, Bob here")', 'data-via')).toBe('live');
  await expectText('#reconnects', '0');
  await expectText('#state', 'open');
  await expectText('#http-url', `${gw.httpUrl}/${gw.stage}`);

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
  // A backend publishes while the page is away: back online, the page fetches what it missed.
  const missed = ['Missed one', 'Missed two', 'Missed three'];
  for (const text of missed) await publishFromBackend('public:network', text);
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
  await page.waitForFunction(() => document.querySelector('#publish-feedback')?.textContent?.startsWith('Delivered to 1 connection · seq '));
  // The messages published while offline came from history, once each and in seq order.
  for (const text of missed) expect(await page.getAttribute(`.message:has-text("${text}")`, 'data-via')).toBe('history');
  await page.waitForSelector('.note.recovered');
  const seqs = await topicSeqs('public:network');
  expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  expect(seqs.length).toBe(missed.length + 1);
  await page.waitForFunction(() => Number(document.querySelector('#recovered-gaps')?.textContent) >= 1);
  await expectText('#lost-gaps', '0');

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

/** Publishes as an application's backend does locally: POST /dev/publish, through the broadcaster. */
async function publishFromBackend(topic: string, data: string) {
  const res = await fetch(`${gw.httpUrl}/dev/publish`, { method: 'POST', body: JSON.stringify({ topic, data }) });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { results: Array<{ status: string }> }).results[0]!.status).toBe('delivered');
}

/** The seqs of a topic's messages on the page, oldest first. */
function topicSeqs(topic: string): Promise<number[]> {
  return page.$$eval(`.message[data-topic="${topic}"]`, (items) => items.map((item) => Number((item as HTMLElement).dataset.seq)).reverse());
}

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
