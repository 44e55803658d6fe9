/**
 * StockPicker end to end, as a person uses it: DynamoDB Local with the two tables and their
 * streams, the local gateway running the real handler bundles, the simulator, and the page in
 * Debian's chromium. Prices and the portfolio appear and move, an alert arrives as a toast,
 * the network drops and the page comes back with what was published meanwhile.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath, screenshot } from '@wskit/example-dev-stack';
import { start, type RunningStocks } from '../src/start';

jest.setTimeout(90_000);

let running: RunningStocks;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  const executablePath = chromiumPath();
  running = await start({
    gateway: { port: 0 },
    // Faster than the demo's defaults, so the test sees trades and alerts within seconds.
    simulator: { updatesPerSecond: 12, alertThresholdPct: 0.5, tradeIntervalMs: 3000 },
  });
  browser = await chromium.launch({ executablePath });
  context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  page = await context.newPage();
  await page.goto(running.pageUrl);
  await page.click('button.link:text("alice")');
});

afterAll(async () => {
  await browser?.close();
  await running?.stop();
});

const holdingPrices = () => page.$$eval('tr.holding td.price', (cells) => cells.map((c) => c.textContent ?? ''));

test('the portfolio, its prices and sparklines appear and keep moving', async () => {
  await page.waitForSelector('tr.holding', { state: 'attached' });
  expect(await page.$$eval('tr.holding', (rows) => rows.map((r) => r.getAttribute('data-symbol')))).toEqual(['AAPL', 'KO', 'MSFT', 'NFLX', 'NVDA']);
  await page.waitForFunction(() => document.querySelectorAll('tr.holding[data-status="live"]').length === 5);
  await page.waitForSelector('.summary[data-complete="true"]', { state: 'attached' });
  expect(await page.textContent('#portfolio-value')).toMatch(/^\$[\d,]+\.\d\d$/);
  const before = await holdingPrices();
  expect(before.every((p) => /^\d+\.\d\d$/.test(p))).toBe(true);
  await page.waitForFunction((first) => [...document.querySelectorAll('tr.holding td.price')].map((c) => c.textContent).join() !== first, before.join());
  // The sparklines draw the ticks replayed on arrival and those since.
  await page.waitForFunction(() => [...document.querySelectorAll('svg.sparkline')].every((s) => Number(s.getAttribute('data-points')) >= 3));
  await page.waitForSelector('.value.small:has-text("alice"), .summary .value.small:not(:text("—"))', { state: 'attached' });
});

test('a threshold alert arrives as a toast and in the list', async () => {
  await page.waitForSelector('.toast', { timeout: 30_000 });
  expect(await page.textContent('.toast')).toMatch(/(AAPL|KO|MSFT|NFLX|NVDA) [▲▼] \d+\.\d\d%/);
  await page.waitForSelector('.alerts li');
  await screenshot(page, 'stock-portfolio');
});

test('the network drops: the badge says so, and coming back recovers what was published meanwhile', async () => {
  await context.setOffline(true);
  await page.waitForSelector('.badge[data-state="reconnecting"]', { timeout: 15_000 });
  await page.waitForSelector('.banner[data-outage="ongoing"]');
  const ticksBefore = await page.$$eval('tr.holding', (rows) => rows.map((r) => Number(r.getAttribute('data-ticks'))));
  await page.waitForTimeout(2500); // the simulator keeps writing: ~30 price updates, a few of alice's holdings among them
  await context.setOffline(false);
  await page.waitForSelector('.badge[data-state="open"]', { timeout: 15_000 });
  await page.waitForSelector('.banner[data-outage="recovered"]');
  await page.waitForFunction(() => Number(document.querySelector('.banner')?.getAttribute('data-recovered')) > 0);
  expect(await page.getAttribute('.banner', 'data-lost')).toBe('0');
  expect(await page.textContent('.banner')).toMatch(/Recovered \d+ messages? published meanwhile on \d+ topics?, in order; none lost/);
  // Live again: prices move after the recovery.
  await page.waitForFunction(
    (before) => [...document.querySelectorAll('tr.holding')].some((r, i) => Number(r.getAttribute('data-ticks')) > (before[i] ?? 0)),
    ticksBefore,
  );
  await screenshot(page, 'stock-portfolio-recovered');
});
