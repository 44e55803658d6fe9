#!/usr/bin/env node
// @ts-check
// `npm start`: builds the handler bundles when they are missing or stale, starts the
// local gateway on one port and prints where everything is. Ctrl+C stops it cleanly.
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGateway } from './load.mjs';

// The AWS SDK warns about Node 20 once per function; the functions run on nodejs22.x on
// Lambda, so that warning says nothing about them. Every other warning is printed.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (!/NodeVersionSupportWarning/.test(`${warning.name} ${warning.message}`)) process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const HELP = `Usage: npm start -- [options]

Runs the whole wskit stack on this machine: a local API Gateway WebSocket API that runs
the built handler bundles (dist/lambda) on an embedded DynamoDB, a dev identity
provider, and a demo page.

Options:
  --example <name>                 run an example application instead of the demo page: stocks
                                   (StockPicker) or ops-dashboard; it starts DynamoDB Local, its
                                   tables and simulator, and prints its page's URL (examples/)
  --port <n>                       port for everything (WebSocket, @connections, JWKS, demo);
                                   also the PORT environment variable; 0 = any free port (default 8080)
  --host <address>                 interface to listen on (default 127.0.0.1)
  --stage <name>                   stage name in the callback URL (default local)
  --data-dir <dir>                 keep the table and the dev key in <dir> (default: table in
                                   memory, key in .wskit/)
  --dist-dir <dir>                 handler bundles to run (default dist/lambda, built by ./build.sh)
  --dynamodb-endpoint <url>        use this DynamoDB (e.g. DynamoDB Local) instead of the embedded one;
                                   the table is created when missing
  --table-name <name>              table name (default wskit-<stage>-connections)
  --public-prefix <prefix>         topic prefix every signed-in user may use; repeatable
                                   (default public:); --public-prefix "" for none
  --max-connections-per-user <n>   per-user connection cap (default 10, 0 = none)
  --max-message-bytes <n>          message limit (default 131072)
  --max-frame-bytes <n>            frame limit (default 32768)
  --idle-timeout <seconds>         idle timeout (default 600)
  --max-connection-duration <s>    maximum connection duration (default 7200)
  --callback-latency-ms <n>        extra latency on every @connections call (default 0)
  --management-rate <n>            account-level throttle on @connections, requests per second
                                   (default 10000, as AWS; 0 = off); beyond it 429 LimitExceededException
  --management-burst <n>           its bucket size (default 5000)
  --inline-fanout-limit <n>        audiences up to this are delivered by the publishing function;
                                   bigger ones go to the fan-out queue as shard jobs (default 2000)
  --fanout-workers <n>             broadcaster invocations running shard jobs at once (default 5)
  --tracing                        active X-Ray tracing: the functions send segments to a local
                                   daemon stand-in (GET /dev/traces lists them)
  --function-queue-limit <n>       invocations that may wait per function when every environment is
                                   busy (default 1000); beyond it the integration is throttled
  --action-alias <name>=<action>   a route key that stands for a protocol action, e.g.
                                   chat_message=publish; repeatable
  --frame-rate-limit <n>           frames one connection may send per window (default 120, 0 = none)
  --publish-rate-limit <n>         publishes one user may make per window (default 100, 0 = none)
  --rate-limit-window <seconds>    the rate-limit window (default 10)
  --history-retention <seconds>    how long published messages stay retrievable for resume
                                   (default 600; 0 = keep none, seq is still assigned)
  --history-max-messages <n>       how many of a topic's latest messages stay retrievable (default 1000)
  --log-level <level>              WSKIT_LOG_LEVEL for the functions (default INFO)
  --quiet                          do not print the functions' logs, connection events and client reports
  --no-build                       never build (./build.sh, client/build.mjs), even when stale
  -h, --help                       this help`;

/** @param {string} message */
function fail(message) {
  process.stderr.write(`start: ${message}\n`);
  process.exit(1);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      port: { type: 'string' },
      example: { type: 'string' },
      host: { type: 'string' },
      stage: { type: 'string' },
      'data-dir': { type: 'string' },
      'dist-dir': { type: 'string' },
      'dynamodb-endpoint': { type: 'string' },
      'table-name': { type: 'string' },
      'public-prefix': { type: 'string', multiple: true },
      'max-connections-per-user': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'max-frame-bytes': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'max-connection-duration': { type: 'string' },
      'callback-latency-ms': { type: 'string' },
      'management-rate': { type: 'string' },
      'management-burst': { type: 'string' },
      'inline-fanout-limit': { type: 'string' },
      'fanout-workers': { type: 'string' },
      tracing: { type: 'boolean' },
      'function-queue-limit': { type: 'string' },
      'action-alias': { type: 'string', multiple: true },
      'frame-rate-limit': { type: 'string' },
      'publish-rate-limit': { type: 'string' },
      'rate-limit-window': { type: 'string' },
      'history-retention': { type: 'string' },
      'history-max-messages': { type: 'string' },
      'log-level': { type: 'string' },
      quiet: { type: 'boolean' },
      'no-build': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  fail(`${/** @type {Error} */ (err).message}\nRun with --help for the options.`);
}
const args = /** @type {NonNullable<typeof parsed>} */ (parsed);
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

/**
 * @param {string} name
 * @param {string | undefined} value
 * @param {{ min?: number }} [opts]
 */
function integer(name, value, { min = 0 } = {}) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number >= ${min}, got "${value}"`);
  return n;
}

const port = integer('port', args.port ?? process.env.PORT ?? '8080');
const idleSeconds = integer('idle-timeout', args['idle-timeout'], { min: 1 });
const maxSeconds = integer('max-connection-duration', args['max-connection-duration'], { min: 1 });
/** @type {Record<string, number>} */
const limits = {};
const maxMessageBytes = integer('max-message-bytes', args['max-message-bytes'], { min: 1 });
const maxFrameBytes = integer('max-frame-bytes', args['max-frame-bytes'], { min: 1 });
if (maxMessageBytes !== undefined) limits.maxMessageBytes = maxMessageBytes;
if (maxFrameBytes !== undefined) limits.maxFrameBytes = maxFrameBytes;
if (idleSeconds !== undefined) limits.idleTimeoutMs = idleSeconds * 1000;
if (maxSeconds !== undefined) limits.maxConnectionMs = maxSeconds * 1000;

// ------------------------------------------------------------------ build when needed

/** @param {string} dir */
function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** The functions: every lambda/<name>/ with a wiring manifest (the same list Terraform reads). */
function functionNames() {
  const lambdaDir = path.join(repoRoot, 'lambda');
  if (!existsSync(lambdaDir)) return [];
  return readdirSync(lambdaDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(lambdaDir, entry.name, 'wiring.json')))
    .map((entry) => entry.name)
    .sort();
}

function bundlesAreStale() {
  const distDir = path.join(repoRoot, 'dist', 'lambda');
  // A bundle holds its function's sources and the workspaces it imports.
  const shared = Math.max(newestMtime(path.join(repoRoot, 'shared', 'src')), newestMtime(path.join(repoRoot, 'protocol', 'src')));
  for (const name of functionNames()) {
    const bundle = path.join(distDir, name, 'index.mjs');
    if (!existsSync(bundle)) return `dist/lambda/${name}/index.mjs is missing`;
    const sources = Math.max(shared, newestMtime(path.join(repoRoot, 'lambda', name, 'src')));
    if (statSync(bundle).mtimeMs < sources) return `dist/lambda/${name}/index.mjs is older than its sources`;
  }
  return undefined;
}

/** The demo page loads the client SDK's browser bundle; undefined when it is up to date. */
function clientBundleIsStale() {
  const bundle = path.join(repoRoot, 'client', 'dist', 'wskit-client.js');
  if (!existsSync(bundle)) return 'client/dist/wskit-client.js is missing';
  if (statSync(bundle).mtimeMs < newestMtime(path.join(repoRoot, 'client', 'src'))) return 'client/dist/wskit-client.js is older than its sources';
  return undefined;
}

/** @param {string} reason  @param {string} what  @param {string} file  @param {string[]} fileArgs */
function build(reason, what, file, fileArgs) {
  if (args['no-build']) {
    process.stderr.write(`start: ${reason}; starting anyway (--no-build)\n`);
    return;
  }
  process.stderr.write(`start: ${reason}: running ${what}\n`);
  // The build's output goes to stderr: stdout is only what start prints below.
  const result = spawnSync(file, fileArgs, { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) fail(`${what} failed (see its output above); fix the build, then run npm start again`);
}

const staleReason = args['dist-dir'] ? undefined : bundlesAreStale();
if (staleReason) {
  const buildScript = path.join(repoRoot, 'build.sh');
  if (!existsSync(buildScript) && !args['no-build']) fail(`${staleReason}, and there is no ./build.sh to build it`);
  // ./build.sh builds the client bundle too.
  build(staleReason, './build.sh', 'bash', [buildScript]);
}
const clientStaleReason = clientBundleIsStale();
if (clientStaleReason) build(clientStaleReason, 'node client/build.mjs', process.execPath, [path.join(repoRoot, 'client', 'build.mjs')]);

// ------------------------------------------------------------------ start

const quiet = Boolean(args.quiet);
/**
 * One line per connection event. The gateway escapes every string in an entry (control and
 * other non-printable characters become visible escapes), so a value from the wire, a close
 * reason with a newline say, cannot start a line of its own.
 * @param {Record<string, unknown>} entry
 */
function accessLog(entry) {
  const time = new Date().toISOString().slice(11, 19);
  const { event, ...rest } = entry;
  const detail = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  process.stderr.write(`${time} ${String(event)} ${detail}\n`);
}

/** @type {Record<string, string> | undefined} */
let actionAliases;
if (args['action-alias']) {
  actionAliases = {};
  for (const pair of args['action-alias']) {
    const eq = pair.indexOf('=');
    if (eq <= 0) fail(`--action-alias "${pair}" must be <name>=<action>, e.g. --action-alias chat_message=publish`);
    actionAliases[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
}

const { startGateway, escapeLogText, formatClientReport } = await loadGateway();

/**
 * One short line per client report (a `metricsReporter()` client), instead of the message
 * function's raw metrics line: version, reconnects, round trip, quality shares.
 * @param {import('../src/index.js').ClientReportEntry} report
 */
function clientReportLog(report) {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${formatClientReport(report)}\n`);
}

/**
 * With --example, the example starts the gateway from these options, with its tables, streams and page.
 * @type {{ gateway: Awaited<ReturnType<typeof startGateway>>, lines: string[], stop(): Promise<void> } | undefined}
 */
let example;
/** @type {(options: import('../src/index.js').GatewayOptions) => ReturnType<typeof startGateway>} */
let launch = startGateway;
if (args.example) {
  const { loadExample } = await import('../../examples/load.mjs');
  /** @type {Awaited<ReturnType<typeof loadExample>> | undefined} */
  let module;
  try {
    module = await loadExample(args.example);
  } catch (err) {
    fail(/** @type {Error} */ (err).message);
  }
  const { start } = /** @type {NonNullable<typeof module>} */ (module);
  launch = async (options) => {
    const started = await start({ gateway: options, log: (/** @type {string} */ line) => process.stderr.write(`start: ${line}\n`) });
    example = started;
    return started.gateway;
  };
}
let gateway;
try {
  gateway = await launch({
    port,
    host: args.host,
    stage: args.stage,
    distDir: args['dist-dir'] ? path.resolve(args['dist-dir']) : undefined,
    dataDir: args['data-dir'] ? path.resolve(args['data-dir']) : undefined,
    dynamodbEndpoint: args['dynamodb-endpoint'],
    tableName: args['table-name'],
    publicTopicPrefixes: args['public-prefix'] ? args['public-prefix'].filter((p) => p !== '') : undefined,
    maxConnectionsPerUser: integer('max-connections-per-user', args['max-connections-per-user']),
    limits,
    callbackLatencyMs: integer('callback-latency-ms', args['callback-latency-ms']),
    managementRate: integer('management-rate', args['management-rate']),
    managementBurst: integer('management-burst', args['management-burst'], { min: 1 }),
    fanOut: {
      inlineLimit: integer('inline-fanout-limit', args['inline-fanout-limit'], { min: 1 }),
      workers: integer('fanout-workers', args['fanout-workers'], { min: 1 }),
    },
    tracing: args.tracing === true,
    functionQueueLimit: integer('function-queue-limit', args['function-queue-limit']),
    actionAliases,
    rateLimits: {
      framesPerConnection: integer('frame-rate-limit', args['frame-rate-limit']),
      publishesPerUser: integer('publish-rate-limit', args['publish-rate-limit']),
      windowSeconds: integer('rate-limit-window', args['rate-limit-window'], { min: 1 }),
    },
    history: {
      retentionSeconds: integer('history-retention', args['history-retention']),
      maxMessages: integer('history-max-messages', args['history-max-messages'], { min: 1 }),
    },
    logLevel: args['log-level'],
    functionLogs: !quiet,
    accessLog: quiet ? undefined : accessLog,
    clientReports: quiet ? undefined : clientReportLog,
  });
} catch (err) {
  fail(escapeLogText(/** @type {Error} */ (err).message));
}
const gw = /** @type {NonNullable<typeof gateway>} */ (gateway);
for (const warning of gw.warnings) process.stderr.write(`start: warning: ${warning}\n`);

// An example says first what it runs; its page is the gateway's page (`Demo page` below).
if (example) process.stdout.write(`${example.lines.join('\n')}\n`);
const storage = args['dynamodb-endpoint']
  ? `${gw.dynamodbEndpoint}`
  : args['data-dir']
    ? `embedded, kept in ${path.resolve(args['data-dir'])}`
    : 'embedded, in memory';
const dataDirArg = args['data-dir'] ? ` --data-dir ${args['data-dir']}` : '';
process.stdout.write(
  [
    `wskit local gateway is running (stage ${gw.stage})`,
    `  WebSocket URL  ${gw.wsUrl}/?token=<token>`,
    `  Demo page      ${gw.httpUrl}/`,
    `  Mint a token   npm run -s token -- --sub alice${dataDirArg}`,
    `  @connections   ${gw.callbackUrl}/@connections/{connectionId}`,
    ...(gw.httpApiUrl
      ? [
          `  HTTP API       GET|POST ${gw.httpApiUrl}/topics/{topic}/messages  (Authorization: Bearer <token>; topic encoded twice)`,
          `                GET|POST ${gw.httpApiUrl}/iam/topics/{topic}/messages  (SigV4, service execute-api)`,
        ]
      : []),
    `  JWKS           ${gw.jwksUrl}`,
    `  DynamoDB       table ${gw.tableName} (${storage})`,
    'Press Ctrl+C to stop.',
    '',
  ].join('\n'),
);

let stopping = false;
/** @param {string} signal */
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`start: ${signal}: closing connections and stopping\n`);
  await (example ?? gw).stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
