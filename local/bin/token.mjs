#!/usr/bin/env node
// @ts-check
// Mints RS256 dev tokens signed by the local gateway's dev key. Prints the tokens and
// nothing else on stdout, one a line, so `TOKEN=$(npm run -s token -- --sub alice)` works.
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { loadDevIdp } from './load.mjs';

const HELP = `Usage: npm run token -- --sub <user> [options]

Mints a dev JWT the local gateway's authorizer accepts (RS256, key in .wskit/ or the data dir).

Options:
  --sub <user>        the user id (JWT "sub"); required
  --scope "<scopes>"  space-separated scopes, e.g. "topics:team. publish:news."
  --ttl <duration>    lifetime: seconds, or with a unit: 90s, 15m, 2h, 1d (default 1h)
  --count <n>         n tokens for users <sub>-1 .. <sub>-n, one a line (load tests)
  --data-dir <dir>    the gateway's data directory, if it was started with one
  -h, --help          this help`;

/** @param {string} message */
function fail(message) {
  process.stderr.write(`token: ${message}\nRun with --help for usage.\n`);
  process.exit(1);
}

/** @param {string} text */
function parseDuration(text) {
  const match = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!match) fail(`--ttl "${text}" is not a duration (use seconds, or 90s, 15m, 2h, 1d)`);
  const units = { s: 1, m: 60, h: 3600, d: 86400 };
  const m = /** @type {RegExpExecArray} */ (match);
  return Number(m[1]) * units[/** @type {'s'|'m'|'h'|'d'} */ (m[2] ?? 's')];
}

let args;
try {
  args = parseArgs({
    options: {
      sub: { type: 'string' },
      scope: { type: 'string' },
      ttl: { type: 'string' },
      count: { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  }).values;
} catch (err) {
  fail(/** @type {Error} */ (err).message);
}
const values = /** @type {NonNullable<typeof args>} */ (args);
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const sub = values.sub?.trim();
if (!sub) fail('--sub <user> is required (the user id the token is for)');
if (!/^[A-Za-z0-9_.@:-]{1,128}$/.test(/** @type {string} */ (sub))) fail('--sub may hold letters, digits and _ . @ : - (1-128 characters)');
const ttlSeconds = values.ttl ? parseDuration(values.ttl) : 3600;
const count = values.count === undefined ? undefined : Number(values.count);
if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > 1_000_000)) fail('--count must be a whole number from 1 to 1000000');

const { DevIdentityProvider } = await loadDevIdp();
const idp = DevIdentityProvider.open(values['data-dir'] ? path.resolve(values['data-dir']) : undefined);
const subs = count === undefined ? [/** @type {string} */ (sub)] : Array.from({ length: count }, (_, i) => `${sub}-${i + 1}`);
const lines = subs.map((s) => idp.mint({ sub: s, scope: values.scope, ttlSeconds }));
process.stdout.write(`${lines.join('\n')}\n`);
