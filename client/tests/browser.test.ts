/**
 * The SDK in a real browser (Debian's chromium driven by playwright-core): the bundle is
 * built with esbuild and served by a small HTTP server; the page connects to the local
 * gateway running the real handler bundles. Going offline pauses reconnection, coming back
 * online reconnects at once.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { connect, type WskitClient } from '../src';
import { localGateway, type GatewayHandle } from './support/gateway';
import { sleep } from './support/wait';

const CHROMIUM = process.env.WSKIT_CHROMIUM ?? '/usr/bin/chromium';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>wskit client</title>
<script type="module">
  import { connect } from '/wskit-client.js';
  const params = new URLSearchParams(location.search);
  window.log = [];
  const client = connect({
    url: params.get('ws'),
    // with ?bad=..., the first token the provider hands out is refused by the server (401)
    token: params.get('bad')
      ? ({ reason }) => (log.push('token:' + reason), reason === 'initial' ? params.get('bad') : params.get('token'))
      : params.get('token'),
    reconnect: { minDelayMs: 50, maxDelayMs: 200 },
    heartbeat: { intervalMs: 60000, timeoutMs: 1000 },
  });
  client.on('state', (e) => log.push('state:' + e.state + ':' + (e.reason ? e.reason.kind : '')));
  client.on('connecting', () => log.push('connecting'));
  client.on('network', (e) => log.push('network:' + e.online));
  client.subscribe('public:browser', (data) => log.push('message:' + data));
  window.client = client;
</script>`;

describe('in chromium', () => {
  let gw: GatewayHandle;
  let publisher: WskitClient;
  let http: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set WSKIT_CHROMIUM`);
    }
    const bundle = await build({
      entryPoints: [join(__dirname, '..', 'src', 'index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      // @wskit/protocol from its TypeScript sources, as client/build.mjs bundles it
      conditions: ['wskit-source', 'module'],
      write: false,
    });
    const code = bundle.outputFiles[0]!.contents;
    gw = await localGateway();
    publisher = connect({ url: gw.wsUrl, WebSocket, token: () => gw.mintToken('bob'), reconnect: { minDelayMs: 50, maxDelayMs: 300 } });
    http = createServer((req, res) => {
      if (req.url?.startsWith('/wskit-client.js')) {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    browser = await chromium.launch({ executablePath: CHROMIUM });
    context = await browser.newContext();
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await page?.evaluate(() => (window as unknown as { client: { close(): Promise<void> } }).client.close()).catch(() => {});
    await browser?.close();
    await new Promise((resolve) => http?.close(resolve));
    await publisher?.close();
    await gw?.stop();
  });

  const log = () => page.evaluate(() => (window as unknown as { log: string[] }).log);
  const waitForLog = async (entry: string, timeoutMs = 5000) => {
    await page.waitForFunction((e) => (window as unknown as { log: string[] }).log.includes(e), entry, { timeout: timeoutMs });
  };

  test('offline pauses reconnection, online reconnects at once and restores the subscription', async () => {
    const port = (http.address() as AddressInfo).port;
    const query = new URLSearchParams({ ws: gw.wsUrl, token: await gw.mintToken('alice') });
    await page.goto(`http://127.0.0.1:${port}/?${query.toString()}`);
    await waitForLog('state:open:');
    await expect(publisher.publish('public:browser', 'first')).resolves.toMatchObject({ delivered: 1 });
    await waitForLog('message:first');

    await context.setOffline(true);
    await waitForLog('network:false');
    await gw.kill();
    await waitForLog('state:reconnecting:offline');
    await gw.restart();
    const connectingBefore = (await log()).filter((e) => e === 'connecting').length;
    await sleep(700); // with a 50-200 ms backoff several attempts would have run by now
    expect((await log()).filter((e) => e === 'connecting').length).toBe(connectingBefore);

    await context.setOffline(false);
    await waitForLog('network:true');
    await page.waitForFunction(() => (window as unknown as { log: string[] }).log.at(-1) === 'state:open:', undefined, { timeout: 3000 });
    await publisher.whenOpen();
    await expect(publisher.publish('public:browser', 'back')).resolves.toMatchObject({ delivered: 1 });
    await waitForLog('message:back');
  }, 60_000);

  test('a refused upgrade (401, invisible to the page) leads to a token refresh after repeated failures', async () => {
    const port = (http.address() as AddressInfo).port;
    const good = await gw.mintToken('carol');
    const [header, payload, signature] = good.split('.');
    const bad = `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    const query = new URLSearchParams({ ws: gw.wsUrl, token: good, bad });
    const second = await context.newPage();
    try {
      await second.goto(`http://127.0.0.1:${port}/?${query.toString()}`);
      await second.waitForFunction(() => (window as unknown as { log: string[] }).log.includes('state:open:'), undefined, { timeout: 10_000 });
      const entries = await second.evaluate(() => (window as unknown as { log: string[] }).log);
      expect(entries.filter((e) => e.startsWith('token:'))).toEqual(['token:initial', 'token:connect-failures']);
    } finally {
      await second.evaluate(() => (window as unknown as { client: { close(): Promise<void> } }).client.close());
      await second.close();
    }
  }, 30_000);
});
