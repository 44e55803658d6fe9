/**
 * @wskit/react in Debian's chromium (playwright-core), with React's development build so
 * StrictMode double-mounts, against the local gateway running the real handler bundles.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { connect, type WskitClient } from '@wskit/client';
import { startGateway, type Gateway } from '@wskit/local';
import { handlerBundles } from './support/bundles';

const CHROMIUM = process.env.WSKIT_CHROMIUM ?? '/usr/bin/chromium';
jest.setTimeout(60_000);

const PAGE = `<!doctype html><meta charset="utf-8"><title>@wskit/react</title>
<div id="root"></div><div id="owned-root"></div><script type="module" src="/app.js"></script>`;

let gw: Gateway;
let http: Server;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let publisher: WskitClient;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: run bash scripts/install-chromium.sh (Debian's chromium) or set WSKIT_CHROMIUM`);
  }
  const bundle = await build({
    entryPoints: [join(__dirname, 'fixtures', 'app.tsx')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    // React's development build: StrictMode mounts, unmounts and mounts every effect.
    define: { 'process.env.NODE_ENV': '"development"' },
    conditions: ['wskit-source', 'module'],
    write: false,
    logLevel: 'error',
  });
  const code = bundle.outputFiles[0]!.contents;
  gw = await startGateway({
    distDir: handlerBundles(),
    publicTopicPrefixes: ['public:'],
    maxConnectionsPerUser: 0,
    rateLimits: { publishesPerUser: 0, framesPerConnection: 0 },
  });
  http = createServer((req, res) => {
    if (req.url?.startsWith('/app.js')) res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  publisher = connect({ url: gw.wsUrl, WebSocket, token: () => gw.mintToken({ sub: 'publisher' }) });
  browser = await chromium.launch({ executablePath: CHROMIUM });
  context = await browser.newContext();
  page = await context.newPage();
  const query = new URLSearchParams({ ws: gw.wsUrl, token: await gw.mintToken({ sub: 'alice' }) });
  await page.goto(`http://127.0.0.1:${(http.address() as AddressInfo).port}/?${query.toString()}`);
  // Mounted on an open connection, so strict mode's second mount meets the first subscribe in flight.
  await page.evaluate(() => window.client.whenOpen());
  await page.evaluate(() => window.api.mount!());
  await page.waitForSelector('#state:text("open")');
});

afterAll(async () => {
  await page?.evaluate(() => window.client.close()).catch(() => undefined);
  await browser?.close();
  await new Promise((resolve) => http?.close(resolve));
  await publisher?.close();
  await gw?.stop();
});

const frames = async (action: string, topic: string) =>
  (await page.evaluate(() => window.sent))
    .map((text) => JSON.parse(text) as { action: string; topic?: string })
    .filter((f) => f.action === action && f.topic === topic).length;
const texts = (selector: string) => page.$$eval(selector, (items) => items.map((i) => i.textContent));

test('strict mode, two components on one topic: one subscribe, no unsubscribe; each keeps its own window of messages', async () => {
  await page.waitForSelector('#a[data-status="live"]', { state: 'attached' });
  await page.waitForSelector('#b[data-status="live"]', { state: 'attached' });
  for (let i = 1; i <= 5; i++) await publisher.publish('public:react', `m${i}`);
  await page.waitForSelector('#b li:nth-child(5)');
  expect(await texts('#a li')).toEqual(['m3', 'm4', 'm5']);
  expect(await texts('#b li')).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  expect(await page.textContent('#a .latest')).toBe('m5');
  expect(await frames('subscribe', 'public:react')).toBe(1);
  expect(await frames('unsubscribe', 'public:react')).toBe(0);
  // The server holds one subscription: each publish reaches this one connection once.
  await expect(publisher.publish('public:react', 'm6')).resolves.toMatchObject({ delivered: 1 });
  await page.waitForSelector('#a .latest:text("m6")');
});

test('hidden and shown again in one task keeps the subscription; a real unmount releases it, a mount subscribes again', async () => {
  await page.evaluate(() => window.api.blink!());
  await page.waitForTimeout(200);
  expect(await frames('subscribe', 'public:react')).toBe(1);
  expect(await frames('unsubscribe', 'public:react')).toBe(0);

  await page.evaluate(() => window.api.setShown!(false as never));
  await page.waitForFunction(() => window.sent.some((t) => t.includes('"unsubscribe"') && t.includes('public:react')));
  // The publisher's own page still has usePublish: nothing subscribed on the page any more.
  await expect(publisher.publish('public:react', 'unseen')).resolves.toMatchObject({ delivered: 0 });

  await page.evaluate(() => window.api.setShown!(true as never));
  await page.waitForSelector('#a[data-status="live"]', { state: 'attached' });
  expect(await frames('subscribe', 'public:react')).toBe(2);
  await publisher.publish('public:react', 'back');
  await page.waitForSelector('#a .latest:text("back")');
  expect(await texts('#a li')).toEqual(['back']);
});

test('usePublish resolves with the ack; replay shows the last N retained messages at once', async () => {
  for (const text of ['r1', 'r2', 'r3', 'r4']) await publisher.publish('public:replay', text);
  const ack = await page.evaluate(() => window.api.publish!('from-page' as never));
  expect(ack).toMatchObject({ type: 'ack', action: 'publish', topic: 'public:react' });
  await page.waitForSelector('#b .latest:text("from-page")');
  await page.evaluate(() => window.api.addView!('replayed' as never, 'public:replay' as never, 2 as never));
  await page.waitForSelector('#replayed li:nth-child(2)');
  expect(await texts('#replayed li')).toEqual(['r3', 'r4']);
  await publisher.publish('public:replay', 'r5');
  await page.waitForSelector('#replayed .latest:text("r5")');
  expect(await texts('#replayed li')).toEqual(['r3', 'r4', 'r5']);
});

test('a topic the server refuses reports status error with the code', async () => {
  await page.evaluate(() => window.api.addView!('refused' as never, 'private:nope' as never));
  await page.waitForSelector('#refused[data-status="error"]', { state: 'attached' });
  expect(await page.getAttribute('#refused', 'data-error')).toBe('FORBIDDEN');
});

test('useConnectionState follows a network drop; what was published meanwhile arrives after it', async () => {
  await context.setOffline(true);
  await page.waitForSelector('#state:text("reconnecting")', { timeout: 10_000 });
  await publisher.publish('public:react', 'while-offline');
  await context.setOffline(false);
  await page.waitForSelector('#state:text("open")', { timeout: 10_000 });
  await page.waitForSelector('#a .latest:text("while-offline")', { timeout: 10_000 });
  const states = await page.evaluate(() => window.states);
  expect(states.slice(-2)).toEqual(['reconnecting', 'open']);
  // Resumed by seq: delivered once.
  expect((await texts('#b li')).filter((t) => t === 'while-offline')).toHaveLength(1);
});

test('a provider with options in strict mode opens one connection and closes it on unmount', async () => {
  const token = await gw.mintToken({ sub: 'carol' });
  await page.evaluate((t) => window.api.mountOwned!(t as never), token);
  await page.waitForSelector('#owned[data-state="open"]', { state: 'attached' });
  await publisher.publish('public:owned', 'hello-owned');
  await page.waitForSelector('#owned:text("hello-owned")');
  expect(gw.connections().filter((c) => c.authorizer?.userId === 'carol')).toHaveLength(1);
  await page.evaluate(() => window.api.unmountOwned!());
  const deadline = Date.now() + 5000;
  while (gw.connections().some((c) => c.authorizer?.userId === 'carol') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(gw.connections().filter((c) => c.authorizer?.userId === 'carol')).toHaveLength(0);
});
