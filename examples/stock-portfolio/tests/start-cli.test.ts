/**
 * `npm start -- --example stocks` as a user runs it: the page's URL on stdout, the page and its
 * bundle served by the gateway, a clean stop on Ctrl+C that takes DynamoDB Local with it.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

jest.setTimeout(90_000);

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const startScript = path.join(repoRoot, 'local', 'bin', 'start.mjs');

test('starts, prints where the page is, serves it, and stops on SIGINT with its DynamoDB Local', async () => {
  const child = spawn(process.execPath, [startScript, '--example', 'stocks', '--port', '0', '--quiet', '--no-build'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (!stdout.includes('Press Ctrl+C to stop.') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain('Press Ctrl+C to stop.');
    const pageUrl = /Open +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
    const dynamo = /DynamoDB Local on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
    expect(pageUrl).toBeDefined();
    expect(dynamo).toBeDefined();
    expect(stdout).toContain('wskit local gateway is running');
    const html = await (await fetch(pageUrl!)).text();
    expect(html).toContain('<title>StockPicker');
    expect(html).toContain('/app.js');
    const app = await fetch(`${pageUrl}app.js`);
    expect(app.status).toBe(200);
    expect((await app.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const token = await fetch(`${pageUrl}dev/token`, { method: 'POST', body: JSON.stringify({ sub: 'alice' }) });
    expect(token.status).toBe(200);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // DynamoDB Local went with it.
    await expect(fetch(dynamo!, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  expect(stderr).not.toMatch(/Error|error:/);
});

test('an unknown example stops at once with the list of examples', () => {
  const result = spawnSync(process.execPath, [startScript, '--example', 'nope', '--no-build'], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('no example "nope": the examples are ops-dashboard, stock-portfolio');
  expect(result.stdout).toBe('');
});
