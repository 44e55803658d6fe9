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

test('the bundle holds the project logger and config but no AWS SDK and no JWKS client library', () => {
  const meta = JSON.parse(readFileSync(path.join(first, 'authorizer', 'meta.json'), 'utf8')) as {
    inputs: Record<string, unknown>;
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const inputs = Object.keys(meta.inputs);
  // Everything any output file carries, chunks loaded later included.
  const shipped = Object.values(meta.outputs).flatMap((output) => Object.keys(output.inputs));
  expect(inputs).toEqual(expect.arrayContaining(['shared/src/logger.ts', 'shared/src/config.ts', 'protocol/src/topics.ts']));
  const packages = [...new Set([...inputs, ...shipped].filter((file) => file.includes('node_modules/')).map((file) => {
    const [scopeOrName = '', name = ''] = file.slice(file.lastIndexOf('node_modules/') + 'node_modules/'.length).split('/');
    return scopeOrName.startsWith('@') ? `${scopeOrName}/${name}` : scopeOrName;
  }))].sort();
  expect(packages.filter((name) => /^@aws-sdk\/|^@smithy\/|^@aws-crypto\//.test(name))).toEqual([]);
  expect(packages).not.toContain('jwks-rsa');
  expect(packages).not.toContain('jose');
  // Nothing of @wskit/shared beyond the two subpaths (the store and sender load the SDK).
  expect(inputs.filter((file) => file.startsWith('shared/')).sort()).toEqual(['shared/src/config.ts', 'shared/src/errors.ts', 'shared/src/logger.ts']);
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
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  // Allowed: a metrics line (the allow log line is DEBUG); refused: a log line and a metrics line.
  expect(lines).toEqual([
    expect.objectContaining({ _aws: expect.any(Object), Service: 'wskit-authorizer', Allowed: 1, Refused: 0 }),
    expect.objectContaining({ level: 'WARN', service: 'wskit-authorizer', reason: 'invalid signature' }),
    expect.objectContaining({ _aws: expect.any(Object), Service: 'wskit-authorizer', Allowed: 0, Refused: 1, reason: 'invalid signature' }),
  ]);
  expect(stdout).not.toContain(good.split('.')[2]);
});
