/**
 * Connection quality and the metrics reporter, with latency injected between a real client
 * and the tests' protocol server by a delaying TCP proxy on loopback.
 */
import WebSocket from 'ws';
import { ACTIONS, parseClientReport, REPORT_COUNTERS, TRACEPARENT_PATTERN } from '@wskit/protocol';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_VERSION, connect, metricsReporter, newTraceparent, qualityMonitor, type ClientEvents, type WskitClient } from '../src';
import { TcpProxy } from '@wskit/testing/tcp-proxy';
import { makeToken, TestServer } from './support/test-server';
import { sleep, waitFor } from './support/wait';

jest.setTimeout(60_000);

describe('quality, reporter and traceparent (own protocol server behind a delaying proxy)', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  const clients: WskitClient[] = [];
  const open = (extra: Partial<Parameters<typeof connect>[0]> = {}) => {
    const client = connect({ url: proxy.url(server.url), token: makeToken({ sub: 'alice' }), WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 100 }, ...extra });
    clients.push(client);
    return client;
  };
  beforeEach(async () => {
    server = await TestServer.start();
    proxy = await TcpProxy.start(server.url);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await proxy.stop();
    await server.stop();
  });

  test('good -> poor under injected latency -> good again; one event per change; p95 within 10 % of the delay', async () => {
    const DELAY = 1200;
    const client = open({ heartbeat: { intervalMs: 100, timeoutMs: 10_000 }, extensions: [qualityMonitor({ degradedMs: 300, poorMs: 1000, windowSize: 5 })] });
    const events: Array<ClientEvents['quality']> = [];
    client.on('quality', (e) => events.push(e));
    await client.whenOpen();
    await waitFor(() => client.quality === 'good', 'good');
    await client.request('ping');
    expect(client.stats.quality!.rttMs!.p95).toBeLessThan(100);

    proxy.delayMs = DELAY;
    await waitFor(() => client.quality === 'poor', 'poor', 5000);
    // fill the window with delayed round trips
    for (let i = 0; i < 5; i++) await client.request('ping');
    const poor = client.stats.quality!;
    expect(poor.quality).toBe('poor');
    expect(Math.abs(poor.rttMs!.p95 - DELAY)).toBeLessThanOrEqual(DELAY * 0.1);
    expect(poor.rttMs!.p50).toBeGreaterThanOrEqual(DELAY);

    proxy.delayMs = 0;
    await sleep(DELAY + 100); // what is still in flight arrives
    for (let i = 0; i < 5; i++) await client.request('ping'); // fast round trips push the slow ones out
    await waitFor(() => client.quality === 'good', 'good again', 5000);
    await sleep(300);

    const sequence = events.map((e) => e.quality);
    expect(sequence[0]).toBe('good');
    expect(sequence).toContain('poor');
    expect(sequence[sequence.length - 1]).toBe('good');
    events.forEach((e, i) => {
      expect(e.quality).not.toBe(e.previous); // a change, every time
      if (i > 0) expect(e.previous).toBe(events[i - 1]!.quality); // once per change
    });
    expect(client.stats.quality!.sinceLastFrameMs).toBeLessThan(1000);
  });

  test('the connection dropping makes quality poor; without qualityMonitor there is none', async () => {
    const client = open({ extensions: [qualityMonitor()] });
    await client.whenOpen();
    await waitFor(() => client.quality === 'good', 'good');
    proxy.refuse = true;
    proxy.dropAll();
    await waitFor(() => client.quality === 'poor', 'poor while reconnecting');
    proxy.refuse = false;
    await waitFor(() => client.quality === 'good', 'good once reconnected');
    const plain = open();
    await plain.whenOpen();
    expect(plain.quality).toBeUndefined();
    expect(plain.stats.quality).toBeUndefined();
  });

  test('reports on schedule with the documented fields, accepted by the protocol', async () => {
    const reporter = metricsReporter({ intervalMs: 300 });
    const client = open({ extensions: [reporter] });
    await client.whenOpen();
    const started = Date.now();
    await client.request('ping');
    await waitFor(() => server.reports.length >= 4, 'four reports', 5000);
    const reports = server.reports.slice(0, 4);
    reports.forEach(({ report, at }, i) => {
      expect(parseClientReport(report)).toEqual(report); // the shape the server validates
      expect(report.clientVersion).toBe(CLIENT_VERSION);
      expect(Object.keys(report.counters).sort()).toEqual([...REPORT_COUNTERS].sort());
      expect(report.periodMs).toBeGreaterThanOrEqual(250);
      expect(report.periodMs).toBeLessThan(600);
      expect(at - started).toBeGreaterThanOrEqual(300 * (i + 1) - 50);
      expect(Object.keys(report.qualityMs!).sort()).toEqual(['degraded', 'good', 'poor']);
    });
    expect(reports[0]!.report.rttMs!.count).toBeGreaterThanOrEqual(1);
    expect(reporter.sent).toBeGreaterThanOrEqual(4);
    expect(ACTIONS).toContain('report');
  });

  test('offline: reports wait, bounded; the oldest are dropped; the rest go out on reconnect, in order', async () => {
    const reporter = metricsReporter({ intervalMs: 150, maxPending: 3 });
    const client = open({ extensions: [reporter] });
    await client.whenOpen();
    await waitFor(() => server.reports.length >= 1, 'a first report');
    proxy.refuse = true;
    proxy.dropAll();
    await waitFor(() => client.stats.disconnects === 1, 'offline');
    const before = server.reports.length;
    await waitFor(() => reporter.dropped >= 2, 'overflow', 5000);
    expect(reporter.pending).toBe(3);
    proxy.refuse = false;
    await waitFor(() => server.reports.length >= before + 3, 'the batch', 5000);
    await sleep(50);
    const batch = server.reports.slice(before, before + 3).map((r) => r.report);
    // the batch is the newest three: a reconnect shows in the last one's counters, not before
    expect(batch.reduce((n, r) => n + (r.counters.reconnects ?? 0), 0)).toBeLessThanOrEqual(1);
    expect(reporter.pending).toBe(0);
  });

  test('a report answered RATE_LIMITED is dropped, not retried', async () => {
    server.reportError = 'RATE_LIMITED';
    const reporter = metricsReporter({ intervalMs: 100 });
    const client = open({ extensions: [reporter] });
    await client.whenOpen();
    await waitFor(() => reporter.dropped >= 3, 'three refused reports');
    expect(reporter.pending).toBeLessThanOrEqual(1);
    // Every report frame is a report that was then dropped (one more may be on its way):
    // none was sent twice. (Two reports of equal periods may look alike; their count tells.)
    const sentFrames = server.live[0]!.frames.filter((f) => f.action === 'report');
    expect(sentFrames.length).toBeLessThanOrEqual(reporter.dropped + 1);
    expect(server.reports).toHaveLength(0);
  });

  test('traceparent: one generated per request with the client option; a request option wins; a bad one is refused', async () => {
    const client = open({ traceparent: newTraceparent });
    await client.whenOpen();
    await client.request('ping');
    await client.publish('public:t', 1);
    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await client.publish('public:t', 2, { traceparent: given });
    const frames = server.live[0]!.frames.filter((f) => f.action !== 'hello');
    const traces = frames.map((f) => f.traceparent as string);
    traces.forEach((t) => expect(t).toMatch(TRACEPARENT_PATTERN));
    expect(new Set(traces).size).toBe(traces.length);
    expect(traces[traces.length - 1]).toBe(given);
    await expect(client.request('ping', {}, { traceparent: 'nope' })).rejects.toThrow(/traceparent/);
  });

  test('CLIENT_VERSION is the package version', () => {
    expect(CLIENT_VERSION).toBe((JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version);
  });
});
