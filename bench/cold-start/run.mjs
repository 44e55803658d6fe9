#!/usr/bin/env node
// Cold-start benchmark: for each bundle in dist/lambda (run ./build.sh first), the zip
// size and the module init time of a fresh node process that imports it, beside a bare
// `node -e 0` measured in the same run (runs interleaved, so machine load hits all alike).
//
//   node bench/cold-start/run.mjs [--runs 25] [--no-fixtures]
//
// Also, built here from bench/cold-start/fixtures with the same esbuild options:
// - the SDK probe (the SDK clients a table handler uses), with the AWS SDK bundled and
//   external, for the SDK decision (docs/build.md);
// - the authorizer with its libraries loaded eagerly at init, beside the real one;
// and the authorizer's first and warm invocation against a JWKS on 127.0.0.1.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { lambdaBuildOptions } from '../../scripts/esbuild-options.mjs';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '25' }, 'no-fixtures': { type: 'boolean', default: false } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 5) throw new Error('--runs must be a whole number >= 5');

const GOAL_MS = 40;
const distDir = path.join(root, 'dist', 'lambda');
const benchDir = path.join(root, 'dist', 'bench', 'cold-start');
const runner = path.join(here, 'runner.mjs');

// ---- what to measure -------------------------------------------------------------------
const targets = [];
if (existsSync(distDir)) {
  for (const name of readdirSync(distDir).sort()) {
    const file = path.join(distDir, name, 'index.mjs');
    if (!existsSync(file)) continue;
    const zip = path.join(distDir, `${name}.zip`);
    targets.push({ label: name, name, file, zipBytes: existsSync(zip) ? statSync(zip).size : undefined });
  }
}
if (targets.length === 0) console.error('cold-start: no bundles in dist/lambda; run ./build.sh first');

if (!values['no-fixtures']) {
  rmSync(benchDir, { recursive: true, force: true });
  const fixtures = [
    { name: 'sdk-probe-bundle', label: 'sdk-probe (SDK bundled)', entry: 'sdk-probe.ts', awsSdk: 'bundle' },
    { name: 'sdk-probe-external', label: 'sdk-probe (SDK external)', entry: 'sdk-probe.ts', awsSdk: 'external' },
  ];
  if (targets.some((target) => target.name === 'authorizer')) {
    fixtures.push({ name: 'authorizer-eager', label: 'authorizer, libraries loaded at init', entry: 'authorizer-eager.ts', awsSdk: 'bundle', invoke: true });
  }
  for (const fixture of fixtures) {
    // Inside the repo, so an external @aws-sdk/* resolves from node_modules as it would
    // from the runtime's copy.
    const outdir = path.join(benchDir, fixture.name);
    await esbuild.build({
      ...lambdaBuildOptions({ root, entry: path.join(here, 'fixtures', fixture.entry), outdir, awsSdk: fixture.awsSdk }),
      nodePaths: [path.join(root, 'lambda', 'authorizer', 'node_modules')],
    });
    targets.push({ ...fixture, file: path.join(outdir, 'index.mjs') });
  }
  await run(process.execPath, [path.join(root, 'scripts', 'package-lambdas.mjs'), '--dir', benchDir, '--no-budget']);
  for (const target of targets) {
    if (fixtures.some((fixture) => fixture.name === target.name)) target.zipBytes = statSync(path.join(benchDir, `${target.name}.zip`)).size;
  }
}
for (const target of targets) target.invoke ??= target.name === 'authorizer';

// ---- a JWKS for the authorizer's invocations --------------------------------------------
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwks = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' }] }));
});
await new Promise((resolve) => jwks.listen(0, '127.0.0.1', resolve));
const jwksUri = `http://127.0.0.1:${jwks.address().port}/.well-known/jwks.json`;
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
function token() {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'RS256', kid: 'bench', typ: 'JWT' })}.${b64({ sub: 'bench', iss: 'https://bench/', aud: 'bench', iat: now, exp: now + 600 })}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}
const authorizerEnv = { WSKIT_JWKS_URI: jwksUri, WSKIT_JWT_ISSUER: 'https://bench/', WSKIT_JWT_AUDIENCE: 'bench', WSKIT_LOG_LEVEL: 'ERROR' };
const connectEvent = () => ({
  type: 'REQUEST',
  methodArn: 'arn:aws:execute-api:us-east-1:123456789012:bench/prod/$connect',
  queryStringParameters: { token: token() },
  requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: 'bench=', requestId: 'bench' },
});

// ---- measure ---------------------------------------------------------------------------
const baseEnv = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' };
async function timed(args, env = baseEnv) {
  const started = process.hrtime.bigint();
  const { stdout } = await run(process.execPath, args, { env, cwd: root });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { wallMs, ...(stdout.trim() ? JSON.parse(stdout.trim().split('\n').at(-1)) : {}) };
}

const samples = new Map([['bare', []], ['empty', []], ...targets.map((target) => [target.name, []])]);
const invokeSamples = new Map(targets.filter((target) => target.invoke).map((target) => [target.name, []]));
const jobs = [
  ['bare', () => timed(['-e', '0'])],
  ['empty', () => timed([runner, path.join(here, 'fixtures', 'empty.mjs')])],
  ...targets.map((target) => [target.name, () => timed([runner, target.file])]),
];
for (let round = 0; round < runs; round += 1) {
  // A different order each round, so no target always runs right after another.
  for (const [name, job] of jobs.map((job) => [Math.random(), job]).sort((a, b) => a[0] - b[0]).map(([, job]) => job)) {
    samples.get(name).push(await job());
  }
  for (const target of targets.filter((candidate) => candidate.invoke)) {
    invokeSamples.get(target.name).push(await timed([runner, target.file], { ...baseEnv, ...authorizerEnv, INVOKE_EVENT: JSON.stringify(connectEvent()) }));
  }
  process.stderr.write(`\rcold-start: round ${round + 1}/${runs}`);
}
process.stderr.write('\n');
jwks.close();

// ---- report ----------------------------------------------------------------------------
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const ms = (value) => (value === undefined ? '-' : value.toFixed(1));
const bareWall = median(samples.get('bare').map((sample) => sample.wallMs));

function print(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const [index, row] of rows.entries()) {
    console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  '));
    if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  }
}

const { loadavg } = await import('node:os');
console.log(`\ncold start: ${runs} fresh processes each, ${process.version} ${process.arch}, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log('init = import() of the bundle inside the process (wall, and CPU time user+system); wall = spawn to exit;');
console.log('delta vs bare = wall - wall of `node -e 0`; delta vs empty = wall - wall of the same runner importing an empty module (ESM loader start-up excluded)\n');
const column = (list, key, q) => (q === undefined ? median(list.map((sample) => sample[key])) : quantile(list.map((sample) => sample[key]), q));
const rows = [['bundle', 'zip KiB', 'init median ms', 'init p90 ms', 'init CPU ms', 'wall median ms', 'delta vs bare ms', 'delta vs empty ms', `delta within ${GOAL_MS} ms`]];
rows.push(['bare node -e 0', '-', '-', '-', '-', ms(bareWall), '0.0', '-', '-']);
const empty = samples.get('empty');
const emptyWall = column(empty, 'wallMs');
rows.push(['empty module (runner baseline)', '-', ms(column(empty, 'importMs')), ms(column(empty, 'importMs', 0.9)), ms(column(empty, 'importCpuMs')), ms(emptyWall), ms(emptyWall - bareWall), '0.0', '-']);
for (const target of targets) {
  const list = samples.get(target.name);
  const delta = column(list, 'wallMs') - bareWall;
  rows.push([
    target.label,
    target.zipBytes === undefined ? '-' : (target.zipBytes / 1024).toFixed(1),
    ms(column(list, 'importMs')),
    ms(column(list, 'importMs', 0.9)),
    ms(column(list, 'importCpuMs')),
    ms(column(list, 'wallMs')),
    ms(delta),
    ms(column(list, 'wallMs') - emptyWall),
    delta <= GOAL_MS ? 'yes' : 'NO',
  ]);
}
print(rows);

if (invokeSamples.size > 0) {
  console.log('\nauthorizer in a fresh process: init, then two invocations (JWKS on 127.0.0.1, RS256 token)\n');
  const invokeRows = [['bundle', 'init median ms', 'first invocation median ms', 'first p90 ms', 'init + first ms', 'second invocation ms']];
  for (const [name, list] of invokeSamples) {
    invokeRows.push([
      targets.find((target) => target.name === name).label,
      ms(column(list, 'importMs')),
      ms(column(list, 'firstInvokeMs')),
      ms(column(list, 'firstInvokeMs', 0.9)),
      ms(median(list.map((sample) => sample.importMs + sample.firstInvokeMs))),
      ms(column(list, 'warmInvokeMs')),
    ]);
  }
  print(invokeRows);
}
