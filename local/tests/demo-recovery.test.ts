/// <reference lib="dom" />
// The demo page showing what the client SDK does when the network misbehaves, in Debian's
// chromium (playwright-core) against the real bundles:
//   - the page's "Drop the network" button while its backend publisher keeps publishing: the
//     missed messages come back from history, each once and in seq order;
//   - WebSocket upgrades refused by a proxy in front of the gateway (plain HTTP passes): the
//     state turns `degraded`, topics are polled and publishes sent over the HTTP API, then the
//     WebSocket comes back;
//   - latency injected by that proxy: quality good -> degraded -> good, with the p95;
//   - the metrics reporter: the page's counts, and the reports the gateway read from the
//     message function's metrics lines (the page's list and GET /dev/reports);
//   - a narrow screen: nothing wider than the viewport, every control labelled.
// Screenshots go to test-results/, and to docs/ with WSKIT_UPDATE_SCREENSHOTS=1.
import * as path from 'node:path';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { BrowserContext, Page } from 'playwright-core';
import { startGateway, repoRoot, type Gateway } from '../src';
import { clientBundle, realBundles } from './bundles';
import { launchChromium } from './support/browser';
import { HttpProxy } from './support/http-proxy';

jest.setTimeout(120_000);

const resultsDir = path.join(repoRoot, 'test-results');
const docsDir = path.join(repoRoot, 'docs');

let gw: Gateway;
let proxy: HttpProxy;
let browser: BrowserContext;
let workDir: string;
const pages: Page[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  const distDir = realBundles();
  clientBundle();
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-demo-recovery-'));
  gw = await startGateway({ distDir, dataDir: path.join(workDir, 'data') });
  proxy = await HttpProxy.start(gw.httpUrl);
  browser = await launchChromium(path.join(workDir, 'chromium-profile'));
  mkdirSync(resultsDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await proxy?.stop();
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
  proxy.refuseUpgrades = false;
  proxy.delayMs = 0;
  expect(pageErrors.splice(0)).toEqual([]);
});

async function openPage(base: string, viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage();
  pages.push(page);
  if (viewport) await page.setViewportSize(viewport);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${base}/`);
  await page.waitForSelector('#status[data-state="idle"]');
  return page;
}

async function connectAs(page: Page, user: string, options: { reportEverySeconds?: number } = {}) {
  await page.fill('#user', user);
  if (options.reportEverySeconds !== undefined) await page.fill('#report-interval', String(options.reportEverySeconds));
  // From the keyboard: Enter in the user field submits the form.
  await page.focus('#user');
  await page.keyboard.press('Enter');
}

async function subscribe(page: Page, topic: string) {
  await page.fill('#topic', topic);
  await page.click('#subscribe');
  await page.waitForFunction((t) => document.querySelector('#publish-feedback')?.textContent === `Subscribed to ${t}`, topic);
}

/** The seqs of a topic's messages on the page, oldest first. */
function topicSeqs(page: Page, topic: string): Promise<number[]> {
  return page.$$eval(`.message[data-topic="${topic}"]`, (items) => items.map((item) => Number((item as HTMLElement).dataset.seq)).reverse());
}

function numberIn(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (el) => Number.parseInt(el.textContent ?? '', 10));
}

async function waitForNumber(page: Page, selector: string, atLeast: number, timeout = 15_000) {
  await page.waitForFunction(([sel, min]) => Number.parseInt(document.querySelector(sel as string)?.textContent ?? '', 10) >= (min as number), [selector, atLeast] as const, {
    timeout,
  });
}

/** The whole page (or the viewport), or the element `selector` names. */
async function screenshot(page: Page, name: string, what: 'full' | 'viewport' | { selector: string } = 'full') {
  const file = path.join(resultsDir, name);
  if (typeof what === 'object') await page.locator(what.selector).screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: what === 'full' });
  if (process.env.WSKIT_UPDATE_SCREENSHOTS === '1') copyFileSync(file, path.join(docsDir, name));
}
const HEALTH_CARD = { selector: 'article:has(#health-heading)' };

/** POST /dev/publish from this process, as an application's backend. */
async function publishFromBackend(topic: string, data: string) {
  const res = await fetch(`${gw.httpUrl}/dev/publish`, { method: 'POST', body: JSON.stringify({ topic, data }) });
  expect(res.status).toBe(200);
}

test('drop the network while the backend publishes: the missed messages are recovered from history, once each, in seq order', async () => {
  const page = await openPage(gw.httpUrl);
  await connectAs(page, 'rita');
  await page.waitForSelector('#status[data-state="open"]');
  await subscribe(page, 'public:recovery');
  await page.fill('#publish-topic', 'public:recovery');
  await page.click('#backend-publisher');
  expect(await page.getAttribute('#backend-publisher', 'aria-pressed')).toBe('true');
  await page.waitForFunction(() => document.querySelectorAll('.message[data-topic="public:recovery"]').length >= 3, undefined, { timeout: 15_000 });

  await page.selectOption('#break-seconds', '3');
  await page.focus('#drop-network');
  await page.keyboard.press('Space');
  expect(await page.textContent('#break-status')).toMatch(/^Network dropped · \d s left$/);
  await page.waitForSelector('#status[data-state="reconnecting"]');
  expect(await page.textContent('#status-text')).toContain('Offline');
  const lastBeforeDrop = Math.max(...(await topicSeqs(page, 'public:recovery')));

  // Back after 3 s: reconnected at once (the SDK waits for the network, not the backoff),
  // resubscribed after the last seq it delivered, and fetched the rest from history.
  await page.waitForSelector('#status[data-state="open"]', { timeout: 20_000 });
  await page.waitForSelector('.note.recovered');
  expect(await page.textContent('.note.recovered')).toMatch(/^↻Recovering seq \d+–\d+ of public:recovery from history \(\d+ messages missed\)$/);
  const recovered = await page.$$eval('.message[data-via="history"]', (items) => items.map((item) => Number((item as HTMLElement).dataset.seq)));
  expect(recovered.length).toBeGreaterThanOrEqual(1);
  expect(Math.min(...recovered)).toBe(lastBeforeDrop + 1);
  await waitForNumber(page, '#recovered-gaps', 1);
  // Live again after the recovered ones.
  await page.waitForFunction(
    (after) => Array.from(document.querySelectorAll<HTMLElement>('.message[data-via="live"]')).some((item) => Number(item.dataset.seq) > after + 1),
    Math.max(...recovered),
    { timeout: 15_000 },
  );
  await page.click('#backend-publisher');
  // Every message the publisher sent is on the page, once, in order: seq 1..n.
  await page.waitForFunction(() => /^Sent \d+ to public:recovery · last: delivered$/.test(document.querySelector('#backend-status')?.textContent ?? ''));
  const sent = Number(/^Sent (\d+)/.exec((await page.textContent('#backend-status'))!)![1]);
  await page.waitForSelector(`.message[data-topic="public:recovery"][data-seq="${sent}"]`, { timeout: 15_000 });
  const seqs = await topicSeqs(page, 'public:recovery');
  expect(seqs).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
  await waitForNumber(page, '#delivered', sent);
  expect(await numberIn(page, '#delivered')).toBe(sent);
  expect(await page.textContent('#lost-gaps')).toBe('0');
  // The feed scrolled to where the recovery starts: the recovered run and the live ones after it.
  await page.$eval('.note.recovered', (note) => note.scrollIntoView({ block: 'end' }));
  await screenshot(page, 'demo-recovery.png');

  // A narrow screen: the same page, nothing wider than the viewport.
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.$eval('#messages-heading', (heading) => {
    heading.scrollIntoView({ block: 'start' });
    window.scrollBy(0, -24);
  });
  await screenshot(page, 'demo-narrow.png', 'viewport');
  await page.setViewportSize({ width: 1280, height: 860 });
});

test('WebSocket upgrades refused by a proxy: degraded over HTTP, then back to the WebSocket', async () => {
  proxy.refuseUpgrades = true;
  const page = await openPage(proxy.url);
  await connectAs(page, 'dora');
  await page.waitForSelector('#status[data-state="degraded"]', { timeout: 30_000 });
  expect(proxy.refused).toBeGreaterThanOrEqual(3);
  await page.waitForFunction(() => document.querySelector('#status-text')?.textContent === 'Degraded · over HTTP');
  expect(await page.textContent('#notice')).toContain('over the HTTP API');
  expect(await page.textContent('#state')).toBe('degraded');
  expect(await page.textContent('#http-url')).toBe(`${proxy.url}/${gw.stage}`);

  // Subscribing and publishing work over HTTP; messages arrive by polling, in order.
  await subscribe(page, 'public:fallback');
  await page.fill('#publish-topic', 'public:fallback');
  await page.fill('#publish-data', 'Published over HTTP');
  await page.click('#publish');
  await page.waitForFunction(() => document.querySelector('#publish-feedback')?.textContent === 'Published over HTTP · seq 1');
  await publishFromBackend('public:fallback', 'From a backend while degraded');
  await page.waitForSelector('.message[data-via="http"]:has-text("From a backend while degraded")', { timeout: 15_000 });
  expect(await page.getAttribute('.message:has-text("Published over HTTP")', 'data-via')).toBe('http');
  await screenshot(page, 'demo-degraded.png');

  // The proxy lets upgrades through again: the next attempt opens a WebSocket.
  proxy.refuseUpgrades = false;
  await page.waitForSelector('#status[data-state="open"]', { timeout: 30_000 });
  await publishFromBackend('public:fallback', 'Back on the WebSocket');
  await page.waitForSelector('.message[data-via="live"]:has-text("Back on the WebSocket")', { timeout: 15_000 });
  expect(await topicSeqs(page, 'public:fallback')).toEqual([1, 2, 3]);
});

test('latency injected on the link: quality turns degraded with the p95, then good again', async () => {
  const page = await openPage(proxy.url);
  await connectAs(page, 'quinn');
  await page.waitForSelector('#status[data-state="open"]');
  await page.waitForSelector('#quality-badge[data-quality="good"]');
  expect(await page.textContent('#quality')).toBe('good');
  expect(await page.textContent('#rtt-p50')).toMatch(/^\d+ ms$/);

  // 1 s: above the monitor's 500 ms (degraded), a second below its 2 s (poor) for the
  // gateway's own time on a loaded machine.
  const DELAY = 1000;
  proxy.delayMs = DELAY;
  await page.click('#ping'); // five pings, one after the other
  await page.waitForSelector('#quality-badge[data-quality="degraded"]', { timeout: 20_000 });
  await page.waitForFunction((min) => Number.parseInt(document.querySelector('#rtt-p95')?.textContent ?? '', 10) >= min, DELAY, { timeout: 20_000 });
  expect(await page.textContent('#quality')).toBe('degraded');
  // Each reply waited the injected delay; nothing adds a second on top of it.
  expect(await numberIn(page, '#rtt-p95')).toBeLessThan(DELAY + 1000);
  await page.waitForSelector('#ping:not([disabled])', { timeout: 20_000 });
  await screenshot(page, 'demo-quality.png', HEALTH_CARD);

  // Without the delay, fast round trips push the slow ones out of the window (20 replies).
  proxy.delayMs = 0;
  for (let i = 0; i < 4; i++) {
    await page.click('#ping');
    await page.waitForSelector('#ping:not([disabled])');
  }
  await page.waitForSelector('#quality-badge[data-quality="good"]', { timeout: 15_000 });
  expect(await numberIn(page, '#rtt-p95')).toBeLessThan(500);
});

test("the metrics reporter's counts, and the reports the gateway read from the message function", async () => {
  const page = await openPage(gw.httpUrl);
  await connectAs(page, 'remy', { reportEverySeconds: 1 });
  await page.waitForSelector('#status[data-state="open"]');
  await waitForNumber(page, '#reports-sent', 1);
  await page.waitForFunction(() => /v0\.1\.0 · \d+ s · \d+ reconnects? · .*good \d+% · degraded \d+% · poor \d+%/.test(document.querySelector('#gateway-reports li')?.textContent ?? ''), undefined, {
    timeout: 15_000,
  });
  // The server takes 2 reports per connection per minute: one a second is soon refused.
  await waitForNumber(page, '#reports-dropped', 1, 20_000);
  await screenshot(page, 'demo-reports.png', HEALTH_CARD);

  const res = await page.request.get(`${gw.httpUrl}/dev/reports`);
  expect(res.status()).toBe(200);
  const body = (await res.json()) as { reports: Array<Record<string, unknown>>; total: number; kept: number };
  expect(body.kept).toBe(50);
  expect(body.reports.length).toBeGreaterThanOrEqual(1);
  expect(body.reports[0]).toMatchObject({ clientVersion: '0.1.0', counters: { reconnects: 0, unrecoveredGaps: 0 }, qualityMs: { good: expect.any(Number) } });
  expect(gw.clientReports()[0]).toMatchObject({ clientVersion: '0.1.0' });
  // Every report the server acknowledged became a metrics line the gateway read (the line
  // may follow the ack by a moment: it comes through the function's stdout).
  const sent = await numberIn(page, '#reports-sent');
  await page.waitForFunction(
    async ([url, min]) => ((await (await fetch(url as string)).json()) as { total: number }).total >= (min as number),
    [`${gw.httpUrl}/dev/reports`, sent] as const,
    { timeout: 5000 },
  );
});

test('every control has a label or a name', async () => {
  const page = await openPage(gw.httpUrl, { width: 390, height: 844 });
  const unlabelled = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea'))
      .filter((el) => (el.labels?.length ?? 0) === 0 && !el.getAttribute('aria-label'))
      .map((el) => el.id),
  );
  expect(unlabelled).toEqual([]);
  const nameless = await page.evaluate(() => Array.from(document.querySelectorAll('button')).filter((b) => !(b.getAttribute('aria-label') ?? b.textContent ?? '').trim()).map((b) => b.id));
  expect(nameless).toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});
