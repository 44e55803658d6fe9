/**
 * The composition root: reads the wiring, prepares the table, opens the port, starts the
 * functions and the stream pollers, and wires the modules together. Every step that
 * acquires something pushes its release onto one cleanup stack, which a failed start and
 * `stop()` both unwind.
 *
 *   wiring.ts         routes, settings and environments from lambda/<name>/wiring.json
 *   functions.ts      the functions (LambdaFunction pools) and their invocation
 *   connections.ts    upgrade, connection state, routing, timers, close handling
 *   management-api.ts @connections: SigV4, the account throttle, POST/GET/DELETE
 *   dev-endpoints.ts  /dev/token, /dev/publish, /dev/config, /dev/reports (this machine only)
 *   client-reports.ts client reports read from the message function's metrics lines
 *   http-server.ts    the one port: dispatch, timeouts, errors
 *   cleanup.ts        the teardown stack
 */
import { existsSync } from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { ACTIONS } from '@wskit/protocol';
import { TABLE_DEFINITION } from '@wskit/shared/table';
import { CleanupStack } from './cleanup';
import { ClientReportLog, clientReportTap, type ClientReportEntry } from './client-reports';
import { Connections, type ConnectionInfo, type ConnectionState } from './connections';
import { createDevEndpoints } from './dev-endpoints';
import { DevIdentityProvider, DEV_AUDIENCE, DEV_ISSUER, type MintOptions } from './dev-idp';
import { dynamoClient, ensureTable, startDynalite, startTtlSweeper } from './dynamodb';
import type { ApiFacts } from './events';
import { FunctionPool, safeLogSink, type FunctionSpec } from './functions';
import { closeServer, createHttpServer, listen } from './http-server';
import { jsonResponse } from './http-util';
import type { FunctionLogSink } from './lambda-host';
import {
  ACCOUNT_ID,
  API_ID,
  HTTP_API_ID,
  AWS_LIMITS,
  DEFAULT_CREDENTIALS,
  DEFAULT_FUNCTION_QUEUE_LIMIT,
  DEFAULT_MANAGEMENT_BURST,
  DEFAULT_MANAGEMENT_RATE,
  REGION,
  type GatewayLimits,
} from './limits';
import { sanitizeLogEntry, type LogEntry } from './log-escape';
import { createManagementApi, matchConnectionsPath } from './management-api';
import { createHttpApi, type HttpApiRoute } from './http-api';
import { defaultDistDir, defaultStateDir, defaultWiringDir } from './paths';
import { serveStatic } from './static-files';
import { startStreamPoller, type StreamSource } from './stream-poller';
import { TokenBucket } from './token-bucket';
import { LocalFanOutQueue, type FanOutQueueStats } from './fanout-queue';
import { SimulatedConnections } from './simulated-connections';
import { LocalXrayDaemon, type SegmentDocument } from './xray-daemon';
import {
  actionAliasesSetting,
  addAliasRoutes,
  checkSettings,
  environmentFromWiring,
  readWiring,
  routesFromWiring,
  usesDynamoDb,
  validateActionAliases,
  type ActionAliases,
  type WiringManifest,
} from './wiring';

export { AWS_LIMITS, type GatewayLimits } from './limits';
export type { ConnectionInfo, ConnectionState } from './connections';
export type { ClientReportEntry } from './client-reports';

export type FunctionName = 'connect' | 'disconnect' | 'message' | 'authorizer' | (string & {});

export interface GatewayOptions {
  /** 0 = any free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  stage?: string;
  /** Where `<name>/index.mjs` bundles live; default `<repo>/dist/lambda`. */
  distDir?: string;
  /** Where `<name>/wiring.json` manifests live; default `<repo>/lambda`. */
  wiringDir?: string;
  /** Any DynamoDB endpoint (DynamoDB Local, AWS); default: embedded dynalite. */
  dynamodbEndpoint?: string;
  /** Persist dynalite data and the dev signing key here; default in memory + `<repo>/.wskit`. */
  dataDir?: string;
  tableName?: string;
  /** Topic prefixes every signed-in user may use; default `['public:']`. */
  publicTopicPrefixes?: string[];
  /** Setting max_connections_per_user; default 10, 0 = no cap. */
  maxConnectionsPerUser?: number;
  /** Setting max_topics_per_connection; default unset (the handler's default). */
  maxTopicsPerConnection?: number;
  /** Setting metrics_namespace; default unset (the handlers' default, `wskit`). */
  metricsNamespace?: string;
  /** Setting jwt_clock_tolerance_seconds; default unset (the authorizer's default). */
  jwtClockToleranceSeconds?: number;
  /**
   * Settings frame_rate_limit, publish_rate_limit and rate_limit_window_seconds (frames per
   * connection and publishes per user per window; 0 = no limit); default unset (the message
   * handler's defaults: 120 frames and 100 publishes per 10 s).
   */
  rateLimits?: { framesPerConnection?: number; publishesPerUser?: number; windowSeconds?: number };
  /** Setting slot_settle_seconds: how young a connection is never reclaimed from its user slot; default unset (30 s). */
  slotSettleSeconds?: number;
  /** Settings history_retention_seconds and history_max_messages; default unset (600 s, 1,000 messages). */
  history?: { retentionSeconds?: number; maxMessages?: number };
  /**
   * Route keys that stand for a protocol action (`{ chat_message: 'publish' }`): each becomes
   * a route to the function behind the action, and the setting action_aliases
   * (`chat_message=publish,...`) tells the function.
   */
  actionAliases?: ActionAliases;
  /** More settings, or other values for known ones (null = unset); keys a manifest may name. */
  settings?: Record<string, string | null>;
  limits?: Partial<GatewayLimits>;
  /** Added to every @connections call (fan-out benchmarks); default 0. */
  callbackLatencyMs?: number;
  /** Setting log_level (`WSKIT_LOG_LEVEL`); default INFO. */
  logLevel?: string;
  /** Route key -> function. Default: from the wiring manifests and the protocol's actions. */
  routes?: Record<string, FunctionName>;
  /** The `$connect` REQUEST authorizer function, or null for none; default: the manifest with `authorizer: true`. */
  authorizer?: FunctionName | null;
  /** Identity sources that must be present before the authorizer runs; default the `token` query parameter. */
  identitySources?: string[];
  /** Per-function timeout; default 10 s for every function. */
  functionTimeoutMs?: Partial<Record<FunctionName, number>>;
  /** Per-function memory (also the worker's heap limit); default 256 MB. */
  functionMemoryMb?: number;
  /** Execution environments per function; default 4. */
  functionConcurrency?: number;
  /**
   * Invocations that may wait per function when every environment is busy; one more is
   * throttled (a `Too Many Requests` frame, or 429 on `$connect`). Default 1000; 0 = none wait.
   */
  functionQueueLimit?: number;
  /** Extra environment variables per function (on top of what the manifests give). */
  functionEnv?: Partial<Record<FunctionName, Record<string, string>>>;
  /** Where the functions' stdout/stderr lines go (escaped); default: discarded. `true` = this process's stderr. */
  functionLogs?: boolean | FunctionLogSink;
  /** One entry per connection event, every string escaped, never a query string or token; default none. */
  accessLog?: (entry: Record<string, unknown>) => void;
  /**
   * Called with each client report the function behind the `report` route writes as a
   * metrics line (parsed, see client-reports.ts); that line then does not go to `functionLogs`.
   */
  clientReports?: (report: ClientReportEntry) => void;
  /**
   * The credentials the functions get (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), and the
   * only ones @connections accepts a SigV4 signature from; default `local` / `local`.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The account-level throttle on @connections, requests per second; default 10,000, 0 = off. */
  managementRate?: number;
  /** Its bucket size; default 5,000. */
  managementBurst?: number;
  /**
   * Big fan-outs: audiences over `inlineLimit` (setting inline_fanout_limit, default 2,000)
   * are handed to the fan-out queue as shard jobs, which `workers` pollers feed to the
   * broadcaster (default 5, the parallel batches Lambda's SQS pollers start with).
   * `shardRate` and `quotaPercent` are the settings fanout_shard_rate and
   * fanout_quota_percent; the quota itself is managementRate and managementBurst.
   */
  fanOut?: { workers?: number; inlineLimit?: number; shardRate?: number; quotaPercent?: number };
  /**
   * Active X-Ray tracing (setting tracing): an X-Ray daemon stand-in on loopback takes the
   * functions' segment documents, and each invocation gets a sampled trace header and a
   * function segment, as on Lambda. Read them with `traces()`. Default off.
   */
  tracing?: boolean;
  /** A request (headers and body) must arrive within this; default 30 s. */
  httpRequestTimeoutMs?: number;
  /**
   * A TCP connection that drops without a close frame is noticed by API Gateway only
   * later. For this long such a connection keeps its id: a POST to it answers 410 and
   * sends `$disconnect` at once. Default 0 (noticed immediately).
   */
  abnormalCloseDetectionMs?: number;
  /** How often the embedded store deletes items whose TTL passed; default 60 s, 0 = never. */
  ttlSweepIntervalMs?: number;
  /** Serve the demo page and `/dev/*`; default true. */
  devEndpoints?: boolean;
  /**
   * A directory whose files (flat, plain names) are served before the demo page's, `/` being
   * its `index.html`: an application's page on the gateway's origin, where `/dev/token` answers
   * it (the examples' pages). Default none.
   */
  pageDir?: string;
  /**
   * The function behind `POST /dev/publish` and `streamSources`; default: the first manifest
   * with no routes that posts to @connections and has a bundle (the broadcaster), null for none.
   */
  broadcaster?: FunctionName | null;
  /**
   * Application tables whose DynamoDB stream feeds the broadcaster, polled the way an event
   * source mapping does (needs `dynamodbEndpoint`: DynamoDB Local serves streams, the
   * embedded dynalite does not).
   */
  streamSources?: StreamSource[];
}

export interface Gateway {
  /** ws://127.0.0.1:<port> (clients add `?token=...`). */
  readonly wsUrl: string;
  readonly httpUrl: string;
  /** Management API base, `http://127.0.0.1:<port>/<stage>`. */
  readonly callbackUrl: string;
  /**
   * The HTTP API's base (`GET|POST <base>/topics/{topic}/messages`, the IAM routes under
   * `<base>/iam`), when its function is built; the client's `httpUrl`.
   */
  readonly httpApiUrl: string | undefined;
  readonly port: number;
  readonly stage: string;
  readonly apiId: string;
  readonly region: string;
  readonly tableName: string;
  readonly dynamodbEndpoint: string;
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly limits: GatewayLimits;
  /** Route key -> function, as the gateway routes. */
  readonly routes: ReadonlyMap<string, string>;
  /** Setting key -> value the functions' environments were built from (undefined = unset). */
  readonly settings: ReadonlyMap<string, string | undefined>;
  /** Problems found while starting (a function that failed to load); the gateway still runs. */
  readonly warnings: string[];
  mintToken(options: MintOptions): Promise<string>;
  /**
   * Changes the delay before each @connections answer (tests: a random delay makes
   * consecutive messages overtake each other); undefined restores callbackLatencyMs.
   */
  setCallbackDelay(delayMs: (() => number) | undefined): void;
  /** The connections the gateway currently holds (tests, demo). */
  connections(): ConnectionInfo[];
  /** The latest client reports (at most 50), newest first; also `GET /dev/reports`. */
  clientReports(): ClientReportEntry[];
  /** Socketless connection ids the management API counts deliveries to (benchmarks). */
  readonly simulated: SimulatedConnections;
  /** The fan-out queue's counters, when the broadcaster runs. */
  fanOutQueue(): (FanOutQueueStats & { pending: number; inFlight: number }) | undefined;
  /** The X-Ray segment documents so far (with `tracing`), oldest first. */
  traces(): SegmentDocument[];
  stop(): Promise<void>;
}

/** `route.request.querystring.token` -> `query:token`, the authorizer's token_sources syntax. */
function tokenSources(identitySources: readonly string[]): string | undefined {
  const sources = identitySources.flatMap((source) => {
    const q = /^route\.request\.querystring\.(.+)$/.exec(source);
    if (q) return [`query:${q[1]}`];
    const h = /^route\.request\.header\.(.+)$/.exec(source);
    return h ? [`header:${h[1]}`] : [];
  });
  return sources.length > 0 ? sources.join(',') : undefined;
}

function wholeNumber(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}, got ${String(value)}`);
  return value;
}

/** A whole-number setting, or undefined when the option is not given. */
function optionalWholeNumber(name: string, value: number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number >= 0, got ${String(value)}`);
  return String(value);
}

/**
 * Starts a local API Gateway v2 WebSocket API on one port: the WebSocket endpoint, the
 * @connections management API, the dev JWKS, the dev endpoints and the demo page.
 * The handlers are the built bundles, each function in its own worker threads.
 */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const stage = options.stage ?? 'local';
  if (!/^[A-Za-z0-9_-]+$/.test(stage)) throw new Error(`stage "${stage}" must be letters, digits, - or _`);
  const host = options.host ?? '127.0.0.1';
  const distDir = path.resolve(options.distDir ?? defaultDistDir);
  const limits: GatewayLimits = { ...AWS_LIMITS, ...options.limits };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`limits.${key} must be a positive number, got ${String(value)}`);
  }
  const credentials = options.credentials ?? DEFAULT_CREDENTIALS;
  if (!credentials.accessKeyId || !credentials.secretAccessKey) throw new Error('credentials need an accessKeyId and a secretAccessKey');
  const managementRate = wholeNumber('managementRate', options.managementRate, DEFAULT_MANAGEMENT_RATE);
  const managementBurst = wholeNumber('managementBurst', options.managementBurst, DEFAULT_MANAGEMENT_BURST, 1);
  const functionQueueLimit = wholeNumber('functionQueueLimit', options.functionQueueLimit, DEFAULT_FUNCTION_QUEUE_LIMIT);
  const identitySources = options.identitySources ?? ['route.request.querystring.token'];
  const publicTopicPrefixes = options.publicTopicPrefixes ?? ['public:'];
  const devEndpoints = options.devEndpoints ?? true;
  const pageDir = options.pageDir ? path.resolve(options.pageDir) : undefined;
  const api: ApiFacts = { apiId: API_ID, stage, region: REGION, accountId: ACCOUNT_ID };
  const userLog = options.accessLog;
  const log = (entry: LogEntry) => {
    if (!userLog) return;
    try {
      userLog(sanitizeLogEntry(entry));
    } catch {
      // the access log's failure is not the gateway's
    }
  };

  // The wiring: routes, the authorizer and the functions' settings, from the manifests.
  const manifests = readWiring(path.resolve(options.wiringDir ?? defaultWiringDir));
  const manifestOf = new Map<string, WiringManifest>(manifests.map((m) => [m.name, m]));
  const aliases = { ...options.actionAliases };
  validateActionAliases(aliases, ACTIONS);
  const routes = options.routes ? new Map<string, string>(Object.entries(options.routes)) : routesFromWiring(manifests, ACTIONS);
  addAliasRoutes(routes, aliases);
  const authorizerName = options.authorizer === undefined ? (manifests.find((m) => m.authorizer)?.name ?? null) : options.authorizer;
  const bundleExists = (name: string) => existsSync(path.join(distDir, name, 'index.mjs'));
  const broadcasterName =
    options.broadcaster === undefined
      ? (manifests.find(
          (m) => m.routes.length === 0 && m.httpRoutes.length === 0 && !m.protocolActionRoutes && !m.authorizer && m.permissions.manageConnections.includes('POST') && bundleExists(m.name),
        )
          ?.name ?? null)
      : options.broadcaster;
  if (options.streamSources?.length) {
    if (!options.dynamodbEndpoint) {
      throw new Error('streamSources need a DynamoDB with streams: run DynamoDB Local (scripts/install-dynamodb-local.sh) and pass dynamodbEndpoint');
    }
    if (!broadcasterName) throw new Error(`streamSources need the broadcaster: run ./build.sh so ${path.join(distDir, 'broadcaster', 'index.mjs')} exists`);
  }

  const cleanup = new CleanupStack();
  const idp = DevIdentityProvider.open(options.dataDir ? path.resolve(options.dataDir) : defaultStateDir);

  // DynamoDB: embedded dynalite unless an endpoint is given.
  const tableName = options.tableName ?? `wskit-${stage}-connections`;
  let dynamodbEndpoint = options.dynamodbEndpoint;
  if (!dynamodbEndpoint) {
    const embedded = await startDynalite(options.dataDir ? path.resolve(options.dataDir) : undefined);
    cleanup.push('embedded DynamoDB', () => embedded.stop());
    dynamodbEndpoint = embedded.endpoint;
  }
  const endpoint = dynamodbEndpoint;
  const ddb = dynamoClient(endpoint, REGION, credentials);
  cleanup.push('DynamoDB client', () => ddb.destroy());
  await cleanup.guard(async () => {
    try {
      await ensureTable(ddb, tableName, TABLE_DEFINITION);
    } catch (err) {
      throw new Error(`cannot prepare table ${tableName} at ${endpoint}: ${(err as Error).message}`);
    }
  });
  if (!options.dynamodbEndpoint) cleanup.push('TTL sweeper', startTtlSweeper(ddb, tableName, TABLE_DEFINITION, options.ttlSweepIntervalMs ?? 60_000));

  // The HTTP API's routes: each manifest's httpRoutes, to that function (when it is built).
  const httpApiRoutes: HttpApiRoute[] = manifests
    .filter((m) => m.httpRoutes.length > 0 && bundleExists(m.name))
    .flatMap((m) => m.httpRoutes.map((route) => ({ ...route, function: m.name })));

  // The port opens first (the callback URL needs it); requests wait for the rest with 503.
  let connections: Connections | undefined;
  let handleManagement: ReturnType<typeof createManagementApi> | undefined;
  let handleDev: ReturnType<typeof createDevEndpoints> | undefined;
  let httpApi: ReturnType<typeof createHttpApi> | undefined;
  let fanOutQueue: LocalFanOutQueue | undefined;
  const simulated = new SimulatedConnections();
  const server = createHttpServer({
    requestTimeoutMs: wholeNumber('httpRequestTimeoutMs', options.httpRequestTimeoutMs, 30_000, 1),
    log,
    onUpgrade: async (req, socket, head) => {
      if (!connections) {
        socket.destroy();
        return;
      }
      await connections.handleUpgrade(req, socket, head);
    },
    onRequest: async (req: http.IncomingMessage, res: http.ServerResponse, requestPath: string) => {
      const notReady = () => {
        jsonResponse(res, 503, { message: 'Service Unavailable' });
        return true;
      };
      if (LocalFanOutQueue.isSqsRequest(req)) {
        if (!fanOutQueue) return false;
        await fanOutQueue.handle(req, res);
        return true;
      }
      const target = matchConnectionsPath(requestPath);
      if (target) {
        if (!handleManagement) return notReady();
        await handleManagement(req, res, target);
        return true;
      }
      if (httpApiRoutes.length > 0 && requestPath.startsWith(`/${stage}/`)) {
        if (!httpApi) return notReady();
        if (await httpApi.handle(req, res, requestPath)) return true;
      }
      if (requestPath === '/.well-known/jwks.json' && req.method === 'GET') {
        jsonResponse(res, 200, idp.jwks(), { 'Cache-Control': 'max-age=300' });
        return true;
      }
      if (!devEndpoints) return false;
      if (requestPath.startsWith('/dev/')) {
        if (!handleDev) return notReady();
        return handleDev(req, res, requestPath);
      }
      return (req.method === 'GET' || req.method === 'HEAD') && (await serveStatic(requestPath, req, res, pageDir));
    },
  });
  const port = await cleanup.guard(() => listen(server, options.port ?? 0, host));
  cleanup.push('HTTP server', () => closeServer(server));
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const httpUrl = `http://${urlHost}:${port}`;
  const wsUrl = `ws://${urlHost}:${port}`;
  const callbackUrl = `${httpUrl}/${stage}`;
  const jwksUrl = `${httpUrl}/.well-known/jwks.json`;

  // The delay before each @connections answer: fixed, or changed at run time (setCallbackDelay).
  const fixedCallbackLatencyMs = wholeNumber('callbackLatencyMs', options.callbackLatencyMs, 0);
  let callbackDelay: () => number = () => fixedCallbackLatencyMs;

  const xray = options.tracing ? await cleanup.guard(() => LocalXrayDaemon.start()) : undefined;
  if (xray) cleanup.push('X-Ray daemon', () => xray.stop());

  // The fan-out queue exists when the broadcaster does (it runs the shard jobs).
  const fanOutWorkers = wholeNumber('fanOut.workers', options.fanOut?.workers, 5, 1);
  const fanOutQueueUrl = broadcasterName ? `${httpUrl}/${ACCOUNT_ID}/wskit-fanout` : undefined;
  const fanOutQueueArn = broadcasterName ? `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:wskit-fanout` : undefined;

  // One value per setting key a manifest may name; undefined = known, left unset.
  const settings = new Map<string, string | undefined>([
    ['table_name', tableName],
    ['callback_url', callbackUrl],
    ['api_id', API_ID],
    ['stage', stage],
    ['max_connections_per_user', String(wholeNumber('maxConnectionsPerUser', options.maxConnectionsPerUser, 10))],
    ['max_topics_per_connection', options.maxTopicsPerConnection === undefined ? undefined : String(options.maxTopicsPerConnection)],
    ['public_topic_prefixes', publicTopicPrefixes.join(',')],
    ['metrics_namespace', options.metricsNamespace],
    ['log_level', options.logLevel ?? 'INFO'],
    ['jwks_uri', jwksUrl],
    ['jwt_issuer', DEV_ISSUER],
    ['jwt_audience', DEV_AUDIENCE],
    ['jwt_algorithms', 'RS256'],
    ['token_sources', tokenSources(identitySources)],
    ['jwt_clock_tolerance_seconds', options.jwtClockToleranceSeconds === undefined ? undefined : String(options.jwtClockToleranceSeconds)],
    ['action_aliases', actionAliasesSetting(aliases)],
    ['frame_rate_limit', optionalWholeNumber('rateLimits.framesPerConnection', options.rateLimits?.framesPerConnection)],
    ['publish_rate_limit', optionalWholeNumber('rateLimits.publishesPerUser', options.rateLimits?.publishesPerUser)],
    ['rate_limit_window_seconds', optionalWholeNumber('rateLimits.windowSeconds', options.rateLimits?.windowSeconds)],
    ['history_retention_seconds', optionalWholeNumber('history.retentionSeconds', options.history?.retentionSeconds)],
    ['history_max_messages', optionalWholeNumber('history.maxMessages', options.history?.maxMessages)],
    ['slot_settle_seconds', optionalWholeNumber('slotSettleSeconds', options.slotSettleSeconds)],
    ['fanout_queue_url', fanOutQueueUrl],
    ['fanout_queue_arn', fanOutQueueArn],
    ['inline_fanout_limit', optionalWholeNumber('fanOut.inlineLimit', options.fanOut?.inlineLimit)],
    ['fanout_shard_rate', optionalWholeNumber('fanOut.shardRate', options.fanOut?.shardRate)],
    ['fanout_quota_percent', optionalWholeNumber('fanOut.quotaPercent', options.fanOut?.quotaPercent)],
    // The functions plan against the quota the management API enforces.
    ['management_quota', managementRate > 0 ? String(managementRate) : undefined],
    ['management_burst', managementRate > 0 ? String(managementBurst) : undefined],
    ['tracing', xray ? 'on' : undefined],
    // The authorizer's JWKS cache: its defaults (README) suit the dev identity provider.
    ['jwks_cache_max_age_seconds', undefined],
    ['jwks_stale_grace_seconds', undefined],
  ]);
  for (const [key, value] of Object.entries(options.settings ?? {})) settings.set(key, value ?? undefined);
  await cleanup.guard(() => checkSettings(manifests, settings));

  // The functions: what the routes, the authorizer and the broadcaster name, each with the
  // environment its manifest asks for (plus the table's endpoint when it may use the table).
  const names = new Set<string>(routes.values());
  for (const route of httpApiRoutes) names.add(route.function);
  if (authorizerName) names.add(authorizerName);
  if (broadcasterName) names.add(broadcasterName);
  const specs: FunctionSpec[] = [...names].map((name) => {
    const manifest = manifestOf.get(name);
    return {
      name,
      timeoutMs: options.functionTimeoutMs?.[name] ?? 10_000,
      // The broadcaster runs the fan-out workers' shards besides streams and /dev/publish.
      concurrency: name === broadcasterName ? Math.max(options.functionConcurrency ?? 4, fanOutWorkers + 2) : undefined,
      environment: {
        ...(manifest ? environmentFromWiring(manifest, settings) : {}),
        ...(manifest && usesDynamoDb(manifest) ? { AWS_ENDPOINT_URL_DYNAMODB: endpoint } : {}),
        ...(options.functionEnv?.[name] ?? {}),
      },
    };
  });
  // Client reports: the metrics lines of the function behind the `report` route, read from its
  // raw output (before escaping) when someone looks at them (the dev endpoints, a callback).
  const reports = new ClientReportLog();
  const reportFunction = routes.get('report');
  const withReports = (next: FunctionLogSink | undefined) =>
    reportFunction && (devEndpoints || options.clientReports)
      ? clientReportTap({ functionName: reportFunction, log: reports, onReport: options.clientReports }, next)
      : next;
  const functions = await cleanup.guard(() =>
    FunctionPool.start(specs, {
      stage,
      distDir,
      memoryMb: options.functionMemoryMb ?? 256,
      concurrency: options.functionConcurrency ?? 4,
      queueLimit: functionQueueLimit,
      credentials,
      tracing: xray ? { daemonAddress: xray.address, record: (segment) => xray.record(segment) } : undefined,
      log: withReports(
        safeLogSink(
          options.functionLogs === true
            ? (name, line) => process.stderr.write(`[${name}] ${line}\n`)
            : typeof options.functionLogs === 'function'
              ? options.functionLogs
              : undefined,
        ),
      ),
    }),
  );
  cleanup.push('functions', () => functions.stop());

  const liveConnections = new Connections({
    api,
    limits,
    routes,
    authorizer: authorizerName,
    identitySources,
    functions,
    abnormalCloseDetectionMs: options.abnormalCloseDetectionMs ?? 0,
    log,
    port: () => port,
  });
  cleanup.push('connections', () => liveConnections.stop());
  connections = liveConnections;
  handleManagement = createManagementApi({
    stage,
    region: REGION,
    limits,
    connections: liveConnections,
    callbackDelayMs: () => callbackDelay(),
    credentials: [credentials],
    rateLimiter: managementRate > 0 ? new TokenBucket(managementRate, managementBurst) : undefined,
    simulated,
  });
  if (broadcasterName) {
    const queue = new LocalFanOutQueue({
      region: REGION,
      accountId: ACCOUNT_ID,
      baseUrl: httpUrl,
      credentials: [credentials],
      workers: fanOutWorkers,
      invoke: (event) => functions.invoke(broadcasterName, event),
      log,
    });
    if (queue.url !== fanOutQueueUrl || queue.arn !== fanOutQueueArn) throw new Error('the fan-out queue settings and the queue disagree');
    cleanup.push('fan-out queue', () => queue.stop());
    fanOutQueue = queue;
  }
  handleDev = createDevEndpoints({
    stage,
    idp,
    publicTopicPrefixes,
    limits,
    functions,
    broadcaster: broadcasterName,
    distDir,
    httpApiPath: httpApiRoutes.length > 0 ? `/${stage}` : null,
    reports,
    traces: xray ? () => xray.documents() : undefined,
  });
  httpApi = createHttpApi({ stage, region: REGION, apiId: HTTP_API_ID, routes: httpApiRoutes, functions, authorizer: authorizerName, credentials: [credentials] });

  // DynamoDB Streams -> broadcaster, like an event source mapping.
  for (const source of options.streamSources ?? []) {
    const poller = await cleanup.guard(() =>
      startStreamPoller({
        ...source,
        endpoint,
        region: REGION,
        invoke: (event) => functions.invoke(broadcasterName!, event),
        log: (entry) => log({ ...entry, table: source.tableName }),
      }),
    );
    cleanup.push(`stream poller ${source.tableName}`, () => poller.stop());
  }

  let stopped: Promise<void> | undefined;
  return {
    wsUrl,
    httpUrl,
    callbackUrl,
    httpApiUrl: httpApiRoutes.length > 0 ? callbackUrl : undefined,
    port,
    stage,
    apiId: API_ID,
    region: REGION,
    tableName,
    dynamodbEndpoint: endpoint,
    jwksUrl,
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    limits,
    routes,
    settings,
    warnings: functions.warnings,
    mintToken: async (mintOptions) => idp.mint(mintOptions),
    setCallbackDelay: (delayMs) => {
      callbackDelay = delayMs ?? (() => fixedCallbackLatencyMs);
    },
    connections: () => liveConnections.list(),
    clientReports: () => reports.recent(),
    simulated,
    fanOutQueue: () => fanOutQueue?.snapshot(),
    traces: () => xray?.documents() ?? [],
    stop: () =>
      (stopped ??= cleanup.run().then((errors) => {
        for (const error of errors) log({ event: 'stop-error', error: error.message });
      })),
  };
}
