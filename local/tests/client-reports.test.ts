// Client reports at the local gateway: read from the message function's metrics lines
// (parsed without trusting them), kept in a bounded list (GET /dev/reports, gw.clientReports()),
// handed to a callback, and printed by `npm start` as one short line per report.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { metricsLine } from '@wskit/shared';
import { formatClientReport, parseClientReportLine, repoRoot, startGateway, type ClientReportEntry, type Gateway } from '../src';
import { ClientReportLog, clientReportTap, MAX_REPORT_LINE_CHARS, REPORTS_KEPT } from '../src/client-reports';
import { realBundles } from './bundles';
import { connect } from './helpers';

jest.setTimeout(120_000);

const AT = new Date('2026-01-02T03:04:05.000Z');
const TARGET = { namespace: 'wskit', service: 'wskit-message' };
const REPORT = {
  clientVersion: '0.1.0',
  periodMs: 30_000,
  counters: { reconnects: 1, failedConnects: 0, messagesReceived: 12, recoveredGaps: 1, unrecoveredGaps: 0 },
  rttMs: { p50: 12, p95: 42, count: 9 },
  qualityMs: { good: 29_100, degraded: 900, poor: 0 },
};

/** The line the message handler writes for REPORT (the same metricsLine, units and dimension). */
function handlerLine(overrides: Record<string, number> = {}, version = '0.1.0'): string {
  return metricsLine(
    TARGET,
    {
      ClientReports: 1,
      ClientReconnects: 1,
      ClientFailedConnects: 0,
      ClientMessagesReceived: 12,
      ClientRecoveredGaps: 1,
      ClientUnrecoveredGaps: 0,
      ClientRttP50: 12,
      ClientRttP95: 42,
      ClientQualityGood: 29_100,
      ClientQualityDegraded: 900,
      ClientQualityPoor: 0,
      ...overrides,
    },
    { units: { ClientRttP50: 'Milliseconds', ClientRttP95: 'Milliseconds' }, dimensions: { ClientVersion: version }, properties: { periodMs: 30_000 } },
  );
}

describe('parseClientReportLine', () => {
  test("reads the handler's metrics line", () => {
    expect(parseClientReportLine(handlerLine(), AT)).toEqual({
      receivedAt: '2026-01-02T03:04:05.000Z',
      clientVersion: '0.1.0',
      periodMs: 30_000,
      counters: { reconnects: 1, failedConnects: 0, messagesReceived: 12, recoveredGaps: 1, unrecoveredGaps: 0 },
      rttMs: { p50: 12, p95: 42 },
      qualityMs: { good: 29_100, degraded: 900, poor: 0 },
    });
  });

  test('ignores every other line', () => {
    const notReports = [
      '',
      'START RequestId: 1',
      '{"level":"INFO","message":"published","ClientReports":1}', // no EMF directive
      metricsLine(TARGET, { Published: 1 }), // another metric
      metricsLine(TARGET, { Published: 1, ClientReports: 1 }).replace('"Name":"ClientReports"', '"Name":"Other"'), // not declared
      handlerLine({ ClientReports: 0 }),
      '[' + handlerLine() + ']',
      handlerLine().slice(0, -1), // cut short
      handlerLine() + 'x'.repeat(MAX_REPORT_LINE_CHARS), // too long to look at
      'null',
      '{"_aws":null,"ClientReports":1,"ClientVersion":"0.1.0"}',
      '{"_aws":{"CloudWatchMetrics":"ClientReports"},"ClientReports":1,"ClientVersion":"0.1.0"}',
    ];
    for (const line of notReports) expect(parseClientReportLine(line, AT)).toBeUndefined();
  });

  test('refuses a version the protocol would not accept (it is printed)', () => {
    for (const version of ['', '0.1.0\n12:00:00 $connect forged', '\u001b[2J', 'a'.repeat(33), '0.1.0 beta', '<b>x</b>']) {
      expect(parseClientReportLine(handlerLine({}, version), AT)).toBeUndefined();
    }
    const notString = JSON.parse(handlerLine()) as Record<string, unknown>;
    notString.ClientVersion = ['0.1.0'];
    expect(parseClientReportLine(JSON.stringify(notString), AT)).toBeUndefined();
  });

  test('keeps only numbers in range, read as own properties', () => {
    const line = JSON.parse(handlerLine()) as Record<string, unknown>;
    line.ClientReconnects = -1;
    line.ClientRttP95 = 1e308;
    line.ClientRttP50 = '12';
    line.ClientQualityPoor = null;
    line.periodMs = { valueOf: 30 };
    const entry = parseClientReportLine(JSON.stringify(line), AT)!;
    expect(entry.counters).toEqual({ failedConnects: 0, messagesReceived: 12, recoveredGaps: 1, unrecoveredGaps: 0 });
    expect(entry.rttMs).toBeUndefined();
    expect(entry.qualityMs).toEqual({ good: 29_100, degraded: 900 });
    expect(entry.periodMs).toBeUndefined();
    // `__proto__` in JSON is an own property, never the prototype; nothing inherited is read.
    const proto = `{"__proto__":{"ClientReconnects":5},${handlerLine().slice(1).replace('"ClientReconnects":1,', '')}`;
    const fromProto = parseClientReportLine(proto, AT)!;
    expect(fromProto.counters.reconnects).toBeUndefined();
    expect(({} as Record<string, unknown>).ClientReconnects).toBeUndefined();
  });
});

describe('formatClientReport', () => {
  test('one short line: version, period, reconnects, round trip, quality shares, messages, gaps', () => {
    expect(formatClientReport(parseClientReportLine(handlerLine(), AT)!)).toBe(
      'client report 0.1.0 over 30 s: 1 reconnect, rtt p95 42 ms (p50 12 ms), quality good 97% degraded 3% poor 0%, 12 messages, gaps 1 recovered 0 lost',
    );
  });

  test('what a report leaves out is shown as missing, never made up', () => {
    const bare: ClientReportEntry = { receivedAt: AT.toISOString(), clientVersion: '0.2.0-rc.1', counters: {} };
    expect(formatClientReport(bare)).toBe('client report 0.2.0-rc.1: 0 reconnects, rtt -, quality -, 0 messages');
    expect(formatClientReport({ ...bare, counters: { failedConnects: 3, reconnects: 2 }, qualityMs: { poor: 10 } })).toBe(
      'client report 0.2.0-rc.1: 2 reconnects, 3 failed connects, rtt -, quality good 0% degraded 0% poor 100%, 0 messages',
    );
  });

  test('escapes what it prints', () => {
    const hostile = { receivedAt: AT.toISOString(), clientVersion: '1\n12:00:00 forged\u001b[2J', counters: {} } as ClientReportEntry;
    const line = formatClientReport(hostile);
    expect(line).not.toMatch(/[\n\r\u001b]/);
    expect(line).toContain('\\n12:00:00 forged\\u001b[2J');
  });
});

describe('ClientReportLog and the log tap', () => {
  test(`keeps the latest ${REPORTS_KEPT}, newest first, and counts them all`, () => {
    const log = new ClientReportLog();
    for (let i = 0; i < REPORTS_KEPT + 10; i++) log.add({ receivedAt: AT.toISOString(), clientVersion: '0.1.0', counters: { reconnects: i } });
    expect(log.total).toBe(REPORTS_KEPT + 10);
    const recent = log.recent();
    expect(recent).toHaveLength(REPORTS_KEPT);
    expect(recent[0]!.counters.reconnects).toBe(REPORTS_KEPT + 9);
    expect(recent[REPORTS_KEPT - 1]!.counters.reconnects).toBe(10);
  });

  test("takes report lines of the report function only; a callback's failure stays inside", () => {
    const passed: string[] = [];
    const log = new ClientReportLog(5);
    const tap = clientReportTap({ functionName: 'message', log, onReport: () => { throw new Error('callback broke'); } }, (name, line) => passed.push(`${name}: ${line}`));
    expect(() => tap('message', handlerLine())).not.toThrow();
    tap('message', '{"level":"INFO","message":"hello"}');
    // Another function's line is not a client report. One line, built once: it carries a
    // timestamp, and two builds a millisecond apart differ.
    const connectLine = handlerLine();
    tap('connect', connectLine);
    expect(log.total).toBe(1);
    expect(passed).toEqual(['message: {"level":"INFO","message":"hello"}', `connect: ${connectLine}`]);

    // Without a callback the report line is kept and passed on as well.
    const all: string[] = [];
    const quietTap = clientReportTap({ functionName: 'message', log }, (_name, line) => all.push(line));
    quietTap('message', handlerLine());
    expect(log.total).toBe(2);
    expect(all).toHaveLength(1);
  });
});

describe('through the gateway and the real message handler', () => {
  let gw: Gateway;
  const seen: ClientReportEntry[] = [];
  const functionLines: string[] = [];

  beforeAll(async () => {
    gw = await startGateway({
      distDir: realBundles(),
      clientReports: (report) => seen.push(report),
      functionLogs: (name, line) => functionLines.push(`${name} ${line}`),
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test('a report frame becomes a ClientReportEntry: the callback, gw.clientReports(), GET /dev/reports', async () => {
    const client = await connect(`${gw.wsUrl}/?token=${await gw.mintToken({ sub: 'rae' })}`);
    try {
      client.send({ action: 'report', id: 'r1', report: REPORT });
      expect(await client.nextJson()).toMatchObject({ type: 'ack', action: 'report', id: 'r1' });
      // The metrics line follows the ack through the function's stdout.
      const deadline = Date.now() + 5000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ clientVersion: '0.1.0', periodMs: 30_000, counters: REPORT.counters, rttMs: { p50: 12, p95: 42 }, qualityMs: REPORT.qualityMs });
      expect(gw.clientReports()).toEqual(seen);
      // Taken by the callback, so not among the function's log lines; the other lines are.
      expect(functionLines.some((line) => line.includes('ClientReports'))).toBe(false);
      expect(functionLines.some((line) => line.startsWith('connect '))).toBe(true);

      const res = await fetch(`${gw.httpUrl}/dev/reports`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ reports: seen, total: 1, kept: REPORTS_KEPT });

      // A report the protocol refuses never becomes a metrics line.
      client.send({ action: 'report', id: 'r2', report: { ...REPORT, clientVersion: '0.1.0\nforged' } });
      expect(await client.nextJson()).toMatchObject({ type: 'error', id: 'r2', code: 'BAD_REQUEST' });
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toHaveLength(1);
    } finally {
      client.ws.terminate();
    }
  });

  test('/dev/reports is a dev endpoint: GET only, this machine only; /dev/config gives the HTTP API path', async () => {
    expect((await fetch(`${gw.httpUrl}/dev/reports`, { method: 'POST', body: '{}' })).status).toBe(405);
    const crossSite = await fetch(`${gw.httpUrl}/dev/reports`, { headers: { Origin: 'http://evil.example' } });
    expect(crossSite.status).toBe(403);
    const config = (await (await fetch(`${gw.httpUrl}/dev/config`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ stage: 'local', httpApiPath: '/local', broadcaster: true });
    expect(`${gw.httpUrl}${String(config.httpApiPath)}`).toBe(gw.httpApiUrl);
  });
});

describe('npm start', () => {
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
  });

  test('prints one short line per client report, not the raw metrics line', async () => {
    const distArgs = process.env.WSKIT_DIST_DIR ? ['--dist-dir', realBundles()] : (realBundles(), []);
    const proc = spawn(process.execPath, [path.join(repoRoot, 'local', 'bin', 'start.mjs'), ...distArgs], {
      cwd: repoRoot,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let out = '';
    let err = '';
    proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const until = async (what: string, done: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (proc.exitCode !== null) throw new Error(`start exited with ${proc.exitCode}; stdout:\n${out}\nstderr:\n${err}`);
        if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await until('start', () => out.includes('Press Ctrl+C'), 150_000);
    const httpUrl = /Demo page\s+(http:\/\/\S+)\//.exec(out)![1]!;
    const { token } = (await (await fetch(`${httpUrl}/dev/token`, { method: 'POST', body: JSON.stringify({ sub: 'cli' }) })).json()) as { token: string };
    const client = await connect(`${httpUrl.replace('http:', 'ws:')}/?token=${token}`);
    try {
      client.send({ action: 'report', id: 'r1', report: REPORT });
      expect(await client.nextJson()).toMatchObject({ type: 'ack', action: 'report' });
      const expected =
        'client report 0.1.0 over 30 s: 1 reconnect, rtt p95 42 ms (p50 12 ms), quality good 97% degraded 3% poor 0%, 12 messages, gaps 1 recovered 0 lost';
      await until('report line', () => err.includes(expected), 10_000);
      expect(err).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${expected.replace(/[()]/g, '\\$&')}$`, 'm'));
      expect(err).not.toContain('"ClientReports"');
      // stdout is still only what start printed at the beginning.
      expect(out.trim().split('\n').pop()).toBe('Press Ctrl+C to stop.');
    } finally {
      client.ws.terminate();
    }
  });
});
