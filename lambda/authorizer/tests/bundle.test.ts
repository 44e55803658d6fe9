/**
 * The artifact that ships: scripts/bundle.mjs + scripts/package-lambdas.mjs build the
 * authorizer twice into temporary directories; the zips must be byte-identical, and the
 * bundle must verify a token in a fresh node process, loaded the way Lambda loads it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectEvent, goodClaims, ISSUER, AUDIENCE, rsaKey, signRs, startJwksServer, type JwksServer, type TestKey } from './helpers';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
const dirs: string[] = [];
let jwks: JwksServer;
let key: TestKey;

jest.setTimeout(120_000);

beforeAll(async () => {
  key = rsaKey('bundle-key');
  jwks = await startJwksServer([key]);
});

afterAll(async () => {
  await jwks.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function build(): Promise<string> {
  const out = mkdtempSync(path.join(tmpdir(), 'wskit-bundle-'));
  dirs.push(out);
  await run(process.execPath, ['scripts/bundle.mjs', '--out', out, '--only', 'authorizer'], { cwd: repo });
  await run(process.execPath, ['scripts/package-lambdas.mjs', '--dir', out, '--only', 'authorizer'], { cwd: repo });
  return out;
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

let first: string;

test('two builds give the same zip, byte for byte', async () => {
  first = await build();
  const second = await build();
  expect(sha256(path.join(second, 'authorizer.zip'))).toBe(sha256(path.join(first, 'authorizer.zip')));
  expect(readFileSync(path.join(first, 'authorizer', 'meta.json'), 'utf8')).toContain('lambda/authorizer/src/index.ts');
});

test('the bundle, imported by a fresh node process, allows a valid token and refuses a bad one', async () => {
  const good = signRs(key, goodClaims({ sub: 'bundled-user' }));
  const script = `
    const { handler } = await import(${JSON.stringify(path.join(first, 'authorizer', 'index.mjs'))});
    const events = JSON.parse(process.env.EVENTS);
    const results = [];
    for (const event of events) {
      try { results.push(await handler(event)); } catch (error) { results.push({ error: error.message }); }
    }
    process.stderr.write(JSON.stringify(results));
  `;
  const events = [connectEvent({ query: { token: good } }), connectEvent({ query: { token: `${good}x` } })];
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      WSKIT_JWKS_URI: jwks.uri,
      WSKIT_JWT_ISSUER: ISSUER,
      WSKIT_JWT_AUDIENCE: AUDIENCE,
      EVENTS: JSON.stringify(events),
    },
  });
  const results = JSON.parse(stderr) as Array<Record<string, unknown>>;
  expect(results[0]).toMatchObject({ principalId: 'bundled-user', context: { userId: 'bundled-user', scope: 'topics:team.' } });
  expect(results[1]).toEqual({ error: 'Unauthorized' });
  expect(JSON.parse(stdout.trim())).toMatchObject({ level: 'WARN', service: 'authorizer', reason: 'invalid signature' });
  expect(stdout).not.toContain(good.split('.')[2]);
});
