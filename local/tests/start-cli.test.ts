// `npm start` as a user runs it: start the CLI on a free port, read what it printed,
// mint a token with the token CLI, connect to the printed URL and get a welcome.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../src';
import { connect } from './helpers';
import { realBundles } from './bundles';

jest.setTimeout(180_000);

const run = promisify(execFile);
const startScript = path.join(repoRoot, 'local', 'bin', 'start.mjs');
const tokenScript = path.join(repoRoot, 'local', 'bin', 'token.mjs');

let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
  }
});

/** Collects stdout until `predicate` holds; rejects if the process exits first. */
function readUntil(proc: ChildProcess, predicate: (out: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`timed out; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
    proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (predicate(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`start exited with ${code}; stdout:\n${out}\nstderr:\n${err}`));
    });
  });
}

test('npm start prints a WebSocket URL that a token from npm run token can use', async () => {
  // The same bundles the CLI would build; WSKIT_DIST_DIR points elsewhere only when set.
  const distArgs = process.env.WSKIT_DIST_DIR ? ['--dist-dir', realBundles()] : (realBundles(), []);
  child = spawn(process.execPath, [startScript, ...distArgs, '--quiet'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const printed = await readUntil(child, (out) => out.includes('Press Ctrl+C'), 150_000);
  const wsUrl = /WebSocket URL\s+(ws:\/\/[^/\s]+)\//.exec(printed)?.[1];
  const demoUrl = /Demo page\s+(http:\/\/\S+)/.exec(printed)?.[1];
  expect(wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  expect(demoUrl).toBe(`${wsUrl!.replace('ws:', 'http:')}/`);
  expect(printed).toContain('npm run -s token -- --sub alice');

  const { stdout: token } = await run(process.execPath, [tokenScript, '--sub', 'alice'], { cwd: repoRoot });
  expect(token.trim().split('\n')).toHaveLength(1);
  const client = await connect(`${wsUrl}/?token=${token.trim()}`);
  expect(await client.request({ action: 'hello', id: '1' })).toMatchObject({ type: 'welcome', id: '1', userId: 'alice' });

  const page = await fetch(demoUrl!);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<title>wskit');

  // Ctrl+C (SIGINT) closes the connection with 1001 and exits cleanly.
  child.kill('SIGINT');
  expect((await client.closed).code).toBe(1001);
  const code = await new Promise((resolve) => child!.once('exit', resolve));
  expect(code).toBe(0);
});

test('the token CLI prints only tokens: --count gives one a line for user-1..n', async () => {
  const { stdout } = await run(process.execPath, [tokenScript, '--sub', 'load', '--count', '3', '--ttl', '15m', '--scope', 'topics:team.'], { cwd: repoRoot });
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(3);
  const subs = lines.map((jwt) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>);
  expect(subs.map((p) => p.sub)).toEqual(['load-1', 'load-2', 'load-3']);
  expect(subs[0]).toMatchObject({ scope: 'topics:team.', iss: 'https://wskit.local/dev-idp', aud: 'wskit-local' });
  expect((subs[0]!.exp as number) - (subs[0]!.iat as number)).toBe(900);
});

test('CLI usage errors say what to do and exit non-zero', async () => {
  await expect(run(process.execPath, [tokenScript], { cwd: repoRoot })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--sub <user> is required') });
  await expect(run(process.execPath, [startScript, '--port', 'abc'], { cwd: repoRoot })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--port must be a whole number') });
  const { stdout } = await run(process.execPath, [startScript, '--help'], { cwd: repoRoot });
  expect(stdout).toContain('Usage: npm start');
});

test('npm start routes --action-alias keys and escapes what it logs (a close reason cannot forge a line)', async () => {
  // The fixture handlers: their message function echoes the route it was called for.
  const fixtures = path.join(repoRoot, 'local', 'tests', 'fixtures', 'lambda');
  const proc = spawn(process.execPath, [startScript, '--dist-dir', fixtures, '--action-alias', 'chat_message=publish', '--management-rate', '100', '--management-burst', '10'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const printed = await readUntil(proc, (out) => out.includes('Press Ctrl+C'), 60_000);
  const wsUrl = /WebSocket URL\s+(ws:\/\/[^/\s]+)\//.exec(printed)![1]!;
  const client = await connect(`${wsUrl}/?token=good-alice`);
  const reply = (await client.request({ action: 'chat_message', id: 'c' })) as { event: { requestContext: { routeKey: string } } };
  expect(reply.event.requestContext.routeKey).toBe('chat_message');
  await client.close(4000, 'bye\n12:00:00 $connect connectionId=forged status=101');
  await new Promise((resolve) => setTimeout(resolve, 200));
  proc.kill('SIGTERM');
  expect(await new Promise((resolve) => proc.once('exit', resolve))).toBe(0);
  const lines = stderr.split('\n');
  expect(lines.filter((line) => line.startsWith('12:00:00 $connect connectionId=forged'))).toEqual([]);
  expect(lines.some((line) => /\$disconnect .*code=4000 reason=bye\\n12:00:00 \$connect connectionId=forged status=101$/.test(line))).toBe(true);
});

test('bad --action-alias and --management-rate values stop npm start with what to do', async () => {
  await expect(run(process.execPath, [startScript, '--action-alias', 'nonsense', '--no-build'], { cwd: repoRoot })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('--action-alias "nonsense" must be <name>=<action>'),
  });
  await expect(run(process.execPath, [startScript, '--action-alias', 'x=nope', '--no-build', '--port', '0'], { cwd: repoRoot })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('"nope" is not a protocol action'),
  });
  await expect(run(process.execPath, [startScript, '--management-rate=-1', '--no-build'], { cwd: repoRoot })).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('--management-rate must be a whole number >= 0'),
  });
});
