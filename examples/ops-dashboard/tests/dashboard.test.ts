/**
 * The IOps dashboard end to end: DynamoDB Local with the metrics table and its stream, the
 * coalescer on the gateway's stream poller, the real broadcaster and handler bundles behind
 * the local gateway, and the page in Debian's chromium.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath, screenshot } from '@wskit/example-dev-stack';
import { start, type RunningOps } from '../src/start';

jest.setTimeout(90_000);

let running: RunningOps;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  const executablePath = chromiumPath();
  running = await start({ gateway: { port: 0 }, simulator: { incidentEveryMs: 0 } });
  browser = await chromium.launch({ executablePath });
  context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  page = await context.newPage();
  await page.goto(running.pageUrl);
  await page.click('button.link:text("ops")');
});

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const updatesPerCard = () => page.$$eval('section.card', (cards) => cards.map((c) => Number(c.getAttribute('data-updates'))));

test('every service gets live charts; each push carries a batch of samples; the last update time moves', async () => {
  await page.waitForFunction(() => document.querySelectorAll('section.card[data-health="ok"]').length === 4, undefined, { timeout: 20_000 });
  expect(await page.$$eval('section.card', (cards) => cards.map((c) => c.getAttribute('data-service')))).toEqual(['checkout', 'search', 'payments', 'auth']);
  const first = Number(await page.getAttribute('.last-update', 'data-last-update'));
  const before = await updatesPerCard();
  await page.waitForFunction((b) => [...document.querySelectorAll('section.card')].every((c, i) => Number(c.getAttribute('data-updates')) >= (b[i] ?? 0) + 2), before, { timeout: 15_000 });
  expect(Number(await page.getAttribute('.last-update', 'data-last-update'))).toBeGreaterThan(first);
  // A second of samples (4 ticks) per push: more than one sample coalesced into each.
  const coalesced = await page.$$eval('.coalesced', (spans) => spans.map((s) => Number(s.textContent)));
  expect(coalesced.every((n) => n > 1)).toBe(true);
  await page.waitForFunction(() => [...document.querySelectorAll('.chart svg')].every((s) => Number(s.getAttribute('data-points')) >= 8));
  expect(await page.textContent('section.card[data-service="search"] [data-metric="requests"]')).toMatch(/^[\d,]+ req\/s$/);
});

test('an incident turns its card red and raises an alert toast', async () => {
  running.simulator.startIncident('payments');
  await page.waitForSelector('section.card[data-service="payments"][data-health="alert"]', { state: 'attached', timeout: 15_000 });
  await page.waitForSelector('.toast:has-text("payments")');
  expect(await page.textContent('.toast')).toMatch(/payments (p99 latency [\d,]+ ms above 800 ms|error rate [\d.]+% above 5%)/);
  await page.waitForTimeout(1500); // a little more of the incident on the charts
  await screenshot(page, 'ops-dashboard');
});

test('the network drops: the badge says so; back online, the missed updates are recovered in order', async () => {
  await context.setOffline(true);
  await page.waitForSelector('.badge[data-state="reconnecting"]', { timeout: 15_000 });
  await page.waitForTimeout(2500);
  await context.setOffline(false);
  await page.waitForSelector('.badge[data-state="open"]', { timeout: 15_000 });
  await page.waitForSelector('.banner[data-outage="recovered"]');
  await page.waitForFunction(() => Number(document.querySelector('.banner')?.getAttribute('data-recovered')) >= 4);
  expect(await page.getAttribute('.banner', 'data-lost')).toBe('0');
  const before = Number(await page.getAttribute('.last-update', 'data-last-update'));
  await page.waitForFunction((b) => Number(document.querySelector('.last-update')?.getAttribute('data-last-update')) > b, before);
  await screenshot(page, 'ops-dashboard-recovered');
});
