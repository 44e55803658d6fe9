// `npm run smoke` (scripts/smoke.mjs) against the local gateway running the real handler
// bundles: the pass a pipeline expects after `terraform apply`, and each way it must fail
// naming the step and why.
import * as path from 'node:path';
import * as net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { startGateway, repoRoot, type Gateway } from '../src';
import { realBundles } from './bundles';

jest.setTimeout(60_000);

const SMOKE = path.join(repoRoot, 'scripts', 'smoke.mjs');

let workDir: string;
let gw: Gateway;

function smoke(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SMOKE, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  const distDir = realBundles();
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-smoke-'));
  gw = await startGateway({ distDir, dataDir: path.join(workDir, 'gw') });
  expect(gw.warnings).toEqual([]);
});

afterAll(async () => {
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a working stage passes every step, one line each, and the token is never printed', async () => {
  const token = await gw.mintToken({ sub: 'smoke-alice' });
  const result = await smoke('--url', `${gw.wsUrl}/${gw.stage}`, '--token', token);
  expect(result.stderr).toBe('');
  const lines = result.stdout.trim().split('\n');
  expect(lines.map((line) => line.split(':')[0])).toEqual(['ok   connect', 'ok   hello', 'ok   subscribe', 'ok   publish', 'ok   receive', 'smoke']);
  expect(lines[2]).toContain('user:smoke-alice');
  expect(lines[5]).toMatch(/passed$/);
  expect(result.stdout).not.toContain(token);
  expect(result.code).toBe(0);
});

test('a refused token fails the connect step with 401', async () => {
  const token = await gw.mintToken({ sub: 'smoke-alice', ttlSeconds: -60 });
  const result = await smoke('--url', gw.wsUrl, '--token', token);
  expect(result.code).toBe(1);
  expect(result.stdout.trim()).toMatch(/^FAIL connect: .*HTTP 401 Unauthorized: the authorizer refused the token/);
  expect(result.stdout).not.toContain(token);
});

test('a wrong URL fails the connect step saying nothing listens there', async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as net.AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const result = await smoke('--url', `ws://127.0.0.1:${port}/live`, '--token', 'x.y.z');
  expect(result.code).toBe(1);
  expect(result.stdout.trim()).toBe(`FAIL connect: ws://127.0.0.1:${port}/live: nothing listens at ws://127.0.0.1:${port}/live (connection refused)`);
});

test('a server that never answers fails the connect step with a timeout', async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  try {
    const result = await smoke('--url', `ws://127.0.0.1:${port}/live`, '--token', 'x.y.z', '--timeout', '500');
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toBe(`FAIL connect: ws://127.0.0.1:${port}/live: no answer within 500 ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test("another user's topic fails the subscribe step with FORBIDDEN", async () => {
  const token = await gw.mintToken({ sub: 'smoke-alice' });
  const result = await smoke('--url', gw.wsUrl, '--token', token, '--topic', 'user:smoke-bob');
  expect(result.code).toBe(1);
  const lines = result.stdout.trim().split('\n');
  expect(lines.slice(0, 2).map((line) => line.slice(0, 10))).toEqual(['ok   conne', 'ok   hello']);
  expect(lines[2]).toMatch(/^FAIL subscribe: FORBIDDEN: /);
  expect(lines).toHaveLength(3);
});

test('--help documents the tool; missing arguments are a usage error', async () => {
  const help = await smoke('--help');
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: npm run smoke -- --url <wss url> --token <jwt>/);
  const missing = await smoke('--url', gw.wsUrl);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/^smoke: --token is required/);
});
