import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as path from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';
import { apiGatewayId, lambdaRequestId } from './ids';
import {
  authorizerEvent,
  connectEvent,
  connectHeaders,
  disconnectEvent,
  messageEvent,
  methodArn,
  queryMaps,
  type ApiFacts,
  type ConnectionFacts,
} from './events';
import { decideAuthorization } from './authorizer-result';
import { LambdaFunction, type FunctionLogSink, type InvokeOutcome } from './lambda-host';
import { enforceFrameLimit } from './frame-limits';
import { DevIdentityProvider, DEV_AUDIENCE, DEV_ISSUER, type MintOptions } from './dev-idp';
import {
  dynamoClient,
  ensureTable,
  startDynalite,
  startTtlSweeper,
  type EmbeddedDynamo,
} from './dynamodb';
import { TABLE_DEFINITION } from '@wskit/shared/table';
import { defaultDistDir, defaultStateDir } from './paths';
import { serveStatic } from './static-files';
import { startStreamPoller, type StreamPoller, type StreamSource } from './stream-poller';

export type FunctionName = 'connect' | 'disconnect' | 'message' | 'authorizer' | (string & {});

export interface GatewayLimits {
  /** Whole message (all frames of it); AWS: 128 KB. Bigger closes the connection with 1009. */
  maxMessageBytes: number;
  /** One frame; AWS: 32 KB. Bigger closes the connection with 1009. */
  maxFrameBytes: number;
  /** No data frame either way for this long closes with 1001 `Going away`; AWS: 10 min. */
  idleTimeoutMs: number;
  /** Any connection is closed with 1001 `Going away` after this long; AWS: 2 h. */
  maxConnectionMs: number;
}

export const AWS_LIMITS: GatewayLimits = {
  maxMessageBytes: 128 * 1024,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
};

export interface GatewayOptions {
  /** 0 = any free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  stage?: string;
  /** Where `<name>/index.mjs` bundles live; default `<repo>/dist/lambda`. */
  distDir?: string;
  /** Any DynamoDB endpoint (DynamoDB Local, AWS); default: embedded dynalite. */
  dynamodbEndpoint?: string;
  /** Persist dynalite data and the dev signing key here; default in memory + `<repo>/.wskit`. */
  dataDir?: string;
  tableName?: string;
  /** Topic prefixes every signed-in user may use; default `['public:']`. */
  publicTopicPrefixes?: string[];
  /** `WSKIT_MAX_CONNECTIONS_PER_USER` for the connect function; default 10, 0 = no cap. */
  maxConnectionsPerUser?: number;
  limits?: Partial<GatewayLimits>;
  /** Added to every @connections call (fan-out benchmarks); default 0. */
  callbackLatencyMs?: number;
  /** `WSKIT_LOG_LEVEL` for every function; default INFO. */
  logLevel?: string;
  /** Route key -> function. Default: the Terraform composition's routes (`DEFAULT_ROUTES`). */
  routes?: Record<string, FunctionName>;
  /** The `$connect` REQUEST authorizer function, or null for none; default `authorizer`. */
  authorizer?: FunctionName | null;
  /** Identity sources that must be present before the authorizer runs; default the `token` query parameter. */
  identitySources?: string[];
  /** Per-function timeout; default 10 s for every function. */
  functionTimeoutMs?: Partial<Record<FunctionName, number>>;
  /** Per-function memory (also the worker's heap limit); default 256 MB. */
  functionMemoryMb?: number;
  /** Execution environments per function; default 4. */
  functionConcurrency?: number;
  /** Extra environment variables per function (on top of what Terraform sets). */
  functionEnv?: Partial<Record<FunctionName, Record<string, string>>>;
  /** Where the functions' stdout/stderr lines go; default: discarded. `true` = this process's stderr. */
  functionLogs?: boolean | FunctionLogSink;
  /** One line per connection event, without query strings or tokens; default none. */
  accessLog?: (entry: Record<string, unknown>) => void;
  /**
   * A TCP connection that drops without a close frame is noticed by API Gateway only
   * later. For this long such a connection keeps its id: a POST to it answers 410 and
   * sends `$disconnect` at once. Default 0 (noticed immediately).
   */
  abnormalCloseDetectionMs?: number;
  /** How often the embedded store deletes items whose TTL passed; default 60 s, 0 = never. */
  ttlSweepIntervalMs?: number;
  /** Serve `POST /dev/token` and the demo page; default true. */
  devEndpoints?: boolean;
  /**
   * The broadcaster function behind `POST /dev/publish` (which feeds it SQS-shaped events);
   * default `broadcaster` when its bundle is in distDir, null for none.
   */
  broadcaster?: FunctionName | null;
  /**
   * Application tables whose DynamoDB stream feeds the broadcaster, polled the way an event
   * source mapping does (needs `dynamodbEndpoint`: DynamoDB Local serves streams, the
   * embedded dynalite does not).
   */
  streamSources?: StreamSource[];
}

export interface ConnectionInfo {
  connectionId: string;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string | undefined;
  authorizer: Record<string, unknown> | undefined;
  state: ConnectionState;
}

export interface Gateway {
  /** ws://127.0.0.1:<port> (clients add `?token=...`). */
  readonly wsUrl: string;
  readonly httpUrl: string;
  /** Management API base, `http://127.0.0.1:<port>/<stage>`. */
  readonly callbackUrl: string;
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
  /** Problems found while starting (a function that failed to load); the gateway still runs. */
  readonly warnings: string[];
  mintToken(options: MintOptions): Promise<string>;
  /** The connections the gateway currently holds (tests, demo). */
  connections(): ConnectionInfo[];
  stop(): Promise<void>;
}

type ConnectionState = 'open' | 'closing' | 'dropped' | 'closed';

interface Connection extends ConnectionFacts {
  ws: WebSocket;
  lastActiveAt: number;
  state: ConnectionState;
  /** Set when the gateway closes the socket itself; wins over the code the client echoes. */
  serverClose?: { code: number; reason: string };
  idleTimer?: NodeJS.Timeout;
  maxTimer?: NodeJS.Timeout;
  dropTimer?: NodeJS.Timeout;
}

const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';
/** API ids are 10 lowercase alphanumerics; this one says where it runs. */
const API_ID = 'wskitlocal';

/** The routes the Terraform composition (websocket-service) creates: every message route is two-way. */
export const DEFAULT_ROUTES: Readonly<Record<string, FunctionName>> = {
  $connect: 'connect',
  $disconnect: 'disconnect',
  $default: 'message',
  hello: 'message',
  ping: 'message',
  subscribe: 'message',
  unsubscribe: 'message',
  publish: 'message',
  sendmessage: 'message',
};

/** Reasons API Gateway reports in `disconnectReason` when the client gave none. */
function defaultDisconnectReason(code: number): string {
  switch (code) {
    case 1000:
      return 'Connection Closed Normally';
    case 1001:
      return 'Going away';
    case 1005:
      return 'Client-side close frame status not set';
    case 1006:
      return 'Connection was closed abnormally';
    default:
      return '';
  }
}

function sourceIpOf(socket: Socket): string {
  const ip = socket.remoteAddress ?? '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function isLoopback(ip: string): boolean {
  return ip === '127.0.0.1' || ip === '::1' || ip.startsWith('127.');
}

/** Answers a WebSocket upgrade with a plain HTTP error, as API Gateway does before any upgrade. */
function rejectUpgrade(socket: Duplex, statusCode: number, message: string | null, extraHeaders: Record<string, string> = {}) {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    'x-amzn-RequestId': lambdaRequestId(),
    Connection: 'close',
    ...extraHeaders,
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${statusCode} ${http.STATUS_CODES[statusCode] ?? 'Error'}\r\n${head}\r\n\r\n${body}`);
}

function jsonResponse(res: http.ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(statusCode, {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': lambdaRequestId(),
    ...(text ? { 'Content-Length': String(Buffer.byteLength(text)) } : {}),
    ...headers,
  });
  res.end(text);
}

function awsError(res: http.ServerResponse, statusCode: number, errorType: string, message: string) {
  jsonResponse(res, statusCode, { message }, { 'x-amzn-ErrorType': errorType });
}

/** Reads a request body; stops buffering (but keeps draining) past `limit` bytes. */
function readBody(req: http.IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts a local API Gateway v2 WebSocket API on one port: the WebSocket endpoint, the
 * @connections management API, the dev JWKS, the dev token endpoint and the demo page.
 * The handlers are the built bundles, each function in its own worker threads.
 */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const stage = options.stage ?? 'local';
  if (!/^[A-Za-z0-9_-]+$/.test(stage)) throw new Error(`stage "${stage}" must be letters, digits, - or _`);
  const host = options.host ?? '127.0.0.1';
  const distDir = path.resolve(options.distDir ?? defaultDistDir);
  const limits: GatewayLimits = { ...AWS_LIMITS, ...options.limits };
  const routes = { ...(options.routes ?? DEFAULT_ROUTES) };
  const authorizerName = options.authorizer === undefined ? 'authorizer' : options.authorizer;
  const broadcasterName =
    options.broadcaster === undefined
      ? existsSync(path.join(distDir, 'broadcaster', 'index.mjs'))
        ? 'broadcaster'
        : null
      : options.broadcaster;
  const identitySources = options.identitySources ?? ['route.request.querystring.token'];
  const publicTopicPrefixes = options.publicTopicPrefixes ?? ['public:'];
  const maxConnectionsPerUser = options.maxConnectionsPerUser ?? 10;
  const callbackLatencyMs = options.callbackLatencyMs ?? 0;
  const abnormalCloseDetectionMs = options.abnormalCloseDetectionMs ?? 0;
  const devEndpoints = options.devEndpoints ?? true;
  const stateDir = options.dataDir ? path.resolve(options.dataDir) : defaultStateDir;
  const accessLog = options.accessLog;
  const api: ApiFacts = { apiId: API_ID, stage, region: REGION, accountId: ACCOUNT_ID };
  const warnings: string[] = [];

  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`limits.${key} must be a positive number, got ${String(value)}`);
  }

  const idp = DevIdentityProvider.open(stateDir);

  // DynamoDB: embedded dynalite unless an endpoint is given.
  const tableDefinition = TABLE_DEFINITION;
  const tableName = options.tableName ?? `wskit-${stage}-connections`;
  let embedded: EmbeddedDynamo | undefined;
  let dynamodbEndpoint = options.dynamodbEndpoint;
  if (!dynamodbEndpoint) {
    embedded = await startDynalite(options.dataDir ? path.resolve(options.dataDir) : undefined);
    dynamodbEndpoint = embedded.endpoint;
  }
  const ddb = dynamoClient(dynamodbEndpoint, REGION);
  let stopSweeper: () => Promise<void> = async () => undefined;
  try {
    await ensureTable(ddb, tableName, tableDefinition);
    if (embedded) stopSweeper = startTtlSweeper(ddb, tableName, tableDefinition, options.ttlSweepIntervalMs ?? 60_000);
  } catch (err) {
    ddb.destroy();
    await embedded?.stop();
    throw new Error(`cannot prepare table ${tableName} at ${dynamodbEndpoint}: ${(err as Error).message}`);
  }

  const connections = new Map<string, Connection>();
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    perMessageDeflate: false,
    // The $connect integration may pick a subprotocol (Sec-WebSocket-Protocol in its response).
    handleProtocols: (_protocols, req) => selectedProtocols.get(req) ?? false,
  });
  const selectedProtocols = new WeakMap<http.IncomingMessage, string>();
  const extraUpgradeHeaders = new WeakMap<http.IncomingMessage, Record<string, string>>();
  wss.on('headers', (headers, req) => {
    for (const [name, value] of Object.entries(extraUpgradeHeaders.get(req) ?? {})) headers.push(`${name}: ${value}`);
  });

  let functions = new Map<string, LambdaFunction>();
  let port = 0;
  let stopping = false;

  const server = http.createServer((req, res) => {
    handleHttp(req, res).catch((err: unknown) => {
      if (!res.headersSent) awsError(res, 500, 'InternalServerErrorException', 'Internal server error');
      else res.destroy();
      accessLog?.({ event: 'http-error', error: (err as Error).message });
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    handleUpgrade(req, socket as Socket, head).catch((err: unknown) => {
      rejectUpgrade(socket, 500, 'Internal server error');
      accessLog?.({ event: 'upgrade-error', error: (err as Error).message });
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: NodeJS.ErrnoException) => {
    await stopSweeper();
    ddb.destroy();
    await embedded?.stop();
    if (err.code === 'EADDRINUSE') throw new Error(`port ${options.port} is in use: pass another --port (or PORT=0 for any free port)`);
    throw err;
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const httpUrl = `http://${urlHost}:${port}`;
  const wsUrl = `ws://${urlHost}:${port}`;
  const callbackUrl = `${httpUrl}/${stage}`;
  const jwksUrl = `${httpUrl}/.well-known/jwks.json`;

  // The functions, each with the environment Terraform gives it.
  const functionNames = new Set<string>(Object.values(routes));
  if (authorizerName) functionNames.add(authorizerName);
  if (broadcasterName) functionNames.add(broadcasterName);
  const logSink: FunctionLogSink | undefined =
    options.functionLogs === true
      ? (name, line) => process.stderr.write(`[${name}] ${line}\n`)
      : typeof options.functionLogs === 'function'
        ? options.functionLogs
        : undefined;
  const tableEnv = { WSKIT_TABLE_NAME: tableName, AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint };
  const envFor = (name: string): Record<string, string> => {
    switch (name) {
      case 'connect':
        // The callback URL lets connect ask GetConnection about rows a lost $disconnect left.
        return { ...tableEnv, WSKIT_CALLBACK_URL: callbackUrl, WSKIT_MAX_CONNECTIONS_PER_USER: String(maxConnectionsPerUser) };
      case 'disconnect':
        return { ...tableEnv };
      case 'message':
        return { ...tableEnv, WSKIT_CALLBACK_URL: callbackUrl, WSKIT_PUBLIC_TOPIC_PREFIXES: publicTopicPrefixes.join(',') };
      case 'broadcaster':
        return { ...tableEnv, WSKIT_CALLBACK_URL: callbackUrl, WSKIT_API_ID: API_ID, WSKIT_STAGE: stage };
      case 'authorizer':
        return {
          WSKIT_JWKS_URI: jwksUrl,
          WSKIT_JWT_ISSUER: DEV_ISSUER,
          WSKIT_JWT_AUDIENCE: DEV_AUDIENCE,
          WSKIT_JWT_ALGORITHMS: 'RS256',
          WSKIT_TOKEN_SOURCES: 'query:token',
        };
      default:
        return { ...tableEnv };
    }
  };
  try {
    for (const name of functionNames) {
      const functionName = `wskit-${stage}-${name}`;
      const memoryMb = options.functionMemoryMb ?? 256;
      const handlerFile = path.join(distDir, name, 'index.mjs');
      functions.set(
        name,
        new LambdaFunction({
          name,
          functionName,
          handlerFile,
          timeoutMs: options.functionTimeoutMs?.[name] ?? 10_000,
          memoryMb,
          maxConcurrency: options.functionConcurrency ?? 4,
          region: REGION,
          accountId: ACCOUNT_ID,
          log: logSink,
          environment: {
            PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
            LANG: 'en_US.UTF-8',
            AWS_REGION: REGION,
            AWS_DEFAULT_REGION: REGION,
            AWS_ACCESS_KEY_ID: 'local',
            AWS_SECRET_ACCESS_KEY: 'local',
            AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
            AWS_LAMBDA_FUNCTION_NAME: functionName,
            AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
            AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
            LAMBDA_TASK_ROOT: path.dirname(handlerFile),
            _HANDLER: 'index.handler',
            WSKIT_LOG_LEVEL: options.logLevel ?? 'INFO',
            ...envFor(name),
            ...(options.functionEnv?.[name] ?? {}),
          },
        }),
      );
    }
    const initErrors = await Promise.all([...functions.values()].map(async (fn) => [fn.name, await fn.warm()] as const));
    for (const [name, err] of initErrors) {
      if (err) warnings.push(`function ${name} failed to load (${err.errorType}: ${err.errorMessage}); its invocations will fail`);
    }
  } catch (err) {
    await Promise.all([...functions.values()].map((fn) => fn.stop()));
    functions = new Map();
    server.close();
    await stopSweeper();
    ddb.destroy();
    await embedded?.stop();
    throw err;
  }

  const invoke = (name: string, event: unknown): Promise<InvokeOutcome> => {
    const fn = functions.get(name);
    if (!fn) throw new Error(`no function ${name}`);
    return track(fn.invoke(event));
  };

  // DynamoDB Streams -> broadcaster, like an event source mapping.
  const pollers: StreamPoller[] = [];
  const stopPollers = () => Promise.all(pollers.splice(0).map((p) => p.stop()));
  if (options.streamSources?.length) {
    const stopAll = async () => {
      await stopPollers();
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
      server.close();
      await stopSweeper();
      ddb.destroy();
      await embedded?.stop();
    };
    if (embedded) {
      await stopAll();
      throw new Error('streamSources need a DynamoDB with streams: run DynamoDB Local (scripts/install-dynamodb-local.sh) and pass dynamodbEndpoint');
    }
    if (!broadcasterName) {
      await stopAll();
      throw new Error(`streamSources need the broadcaster: run ./build.sh so ${path.join(distDir, 'broadcaster', 'index.mjs')} exists`);
    }
    try {
      for (const source of options.streamSources) {
        pollers.push(
          await startStreamPoller({
            ...source,
            endpoint: dynamodbEndpoint,
            region: REGION,
            invoke: (event) => invoke(broadcasterName, event),
            log: (entry) => accessLog?.({ ...entry, table: source.tableName }),
          }),
        );
      }
    } catch (err) {
      await stopAll();
      throw err;
    }
  }

  // ---------------------------------------------------------------- connections

  function send(conn: Connection, text: string): boolean {
    if (conn.state !== 'open' || conn.ws.readyState !== WebSocket.OPEN) return false;
    conn.ws.send(text);
    touch(conn);
    return true;
  }

  function touch(conn: Connection) {
    conn.lastActiveAt = Date.now();
    conn.idleTimer?.refresh();
  }

  function closeByServer(conn: Connection, code: number, reason: string, clientReason = reason) {
    if (conn.state !== 'open') return;
    conn.serverClose = { code, reason };
    conn.state = 'closing';
    conn.ws.close(code, clientReason);
    // A client that never answers the close frame is cut off, as API Gateway would.
    setTimeout(() => conn.ws.terminate(), 5000).unref();
  }

  /** Sends `$disconnect` once, then forgets the connection. */
  function finalize(conn: Connection, code: number, reason: string) {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    clearTimeout(conn.idleTimer);
    clearTimeout(conn.maxTimer);
    clearTimeout(conn.dropTimer);
    connections.delete(conn.connectionId);
    accessLog?.({ event: '$disconnect', connectionId: conn.connectionId, code, reason });
    const route = routes.$disconnect;
    if (!route) return;
    void invoke(route, disconnectEvent(api, conn, code, reason, Date.now())).then((outcome) => {
      if (!outcome.ok) accessLog?.({ event: '$disconnect-error', connectionId: conn.connectionId, error: outcome.error.errorType });
    });
  }

  function onSocketClose(conn: Connection, code: number, reasonBuffer: Buffer) {
    if (conn.state === 'closed' || conn.state === 'dropped') return;
    if (conn.serverClose) {
      finalize(conn, conn.serverClose.code, conn.serverClose.reason);
      return;
    }
    if (code === 1006 && abnormalCloseDetectionMs > 0 && !stopping) {
      // No close frame: API Gateway finds out later. Until then the id still looks connected.
      conn.state = 'dropped';
      conn.dropTimer = setTimeout(() => finalize(conn, 1006, defaultDisconnectReason(1006)), abnormalCloseDetectionMs);
      conn.dropTimer.unref();
      return;
    }
    const reason = reasonBuffer.toString('utf8');
    finalize(conn, code, reason || defaultDisconnectReason(code));
  }

  function selectRoute(body: string): string | undefined {
    let action: unknown;
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) action = (parsed as Record<string, unknown>).action;
    } catch {
      // not JSON: only $default can take it
    }
    if (typeof action === 'string' && action !== '$connect' && action !== '$disconnect' && routes[action]) return action;
    return routes.$default ? '$default' : undefined;
  }

  async function onText(conn: Connection, body: string) {
    const routeKey = selectRoute(body);
    if (!routeKey) {
      // No route and no $default: API Gateway answers with this frame and keeps the connection.
      send(conn, JSON.stringify({ message: 'Forbidden', connectionId: conn.connectionId, requestId: apiGatewayId() }));
      return;
    }
    const event = messageEvent(api, conn, routeKey, body, Date.now());
    const outcome = await invoke(routes[routeKey]!, event);
    if (!outcome.ok) {
      accessLog?.({ event: 'message-error', connectionId: conn.connectionId, routeKey, error: outcome.error.errorType, message: outcome.error.errorMessage });
      send(conn, JSON.stringify({ message: 'Internal server error', connectionId: conn.connectionId, requestId: event.requestContext.requestId }));
      return;
    }
    // Two-way route: the integration response's body is one frame to the client.
    const result = outcome.result;
    if (result === null || result === undefined) return;
    let frame: string | undefined;
    if (typeof result === 'object' && !Array.isArray(result)) {
      const body = (result as { body?: unknown }).body;
      if (body !== undefined && body !== null) frame = typeof body === 'string' ? body : JSON.stringify(body);
    } else {
      frame = typeof result === 'string' ? result : JSON.stringify(result);
    }
    if (frame !== undefined && frame !== '') send(conn, frame);
  }

  function attach(conn: Connection) {
    const { ws } = conn;
    enforceFrameLimit(ws, limits.maxFrameBytes);
    conn.idleTimer = setTimeout(() => closeByServer(conn, 1001, 'Going away'), limits.idleTimeoutMs);
    conn.idleTimer.unref();
    conn.maxTimer = setTimeout(() => closeByServer(conn, 1001, 'Going away'), limits.maxConnectionMs);
    conn.maxTimer.unref();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (conn.state !== 'open') return;
      touch(conn);
      if (isBinary) {
        closeByServer(conn, 1003, 'Binary frames are not supported');
        return;
      }
      void onText(conn, data.toString('utf8'));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws has already started closing; remember why for $disconnect.
      if (conn.serverClose || conn.state !== 'open') return;
      const code = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 1009 : err.code === 'WS_ERR_INVALID_UTF8' ? 1007 : 1002;
      conn.serverClose = { code, reason: code === 1009 ? 'Message too big' : err.message };
      conn.state = 'closing';
    });
    ws.on('close', (code: number, reason: Buffer) => onSocketClose(conn, code, reason));
  }

  async function handleUpgrade(req: http.IncomingMessage, socket: Socket, head: Buffer) {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (stopping) return rejectUpgrade(socket, 503, 'Service Unavailable');
    if (url.pathname !== '/' && url.pathname !== `/${stage}` && url.pathname !== `/${stage}/`) {
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    // An invalid handshake is refused before any function runs, as API Gateway does.
    const key = req.headers['sec-websocket-key'];
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string' || !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())) {
      return rejectUpgrade(socket, 400, 'Bad Request');
    }
    if (req.headers['sec-websocket-version'] !== '13') {
      return rejectUpgrade(socket, 426, 'Upgrade Required', { 'Sec-WebSocket-Version': '13' });
    }
    const now = Date.now();
    const conn: ConnectionFacts = {
      connectionId: apiGatewayId(),
      connectedAt: now,
      sourceIp: sourceIpOf(socket),
      userAgent: req.headers['user-agent'],
      domainName: req.headers.host ?? `127.0.0.1:${port}`,
    };
    const maps = { ...connectHeaders({ rawHeaders: req.rawHeaders, query: url.searchParams, port }, conn, now), ...queryMaps(url.searchParams) };
    const log = (status: number, detail?: string) =>
      accessLog?.({ event: '$connect', connectionId: conn.connectionId, sourceIp: conn.sourceIp, status, ...(detail ? { detail } : {}) });

    if (authorizerName) {
      // API Gateway answers 401 without calling the authorizer when an identity source is missing.
      const missing = identitySources.find((source) => !identitySourcePresent(source, req, url.searchParams));
      if (missing) {
        log(401, `identity source ${missing} missing`);
        return rejectUpgrade(socket, 401, 'Unauthorized');
      }
      const started = Date.now();
      const outcome = await invoke(authorizerName, authorizerEvent(api, conn, maps, now));
      const decision = decideAuthorization(outcome, methodArn(api), Date.now() - started);
      if (!decision.allow) {
        log(decision.statusCode, decision.reason);
        return rejectUpgrade(socket, decision.statusCode, decision.message);
      }
      conn.authorizer = decision.authorizer;
    }

    const connectRoute = routes.$connect;
    let responseHeaders: Record<string, string> = {};
    if (connectRoute) {
      const outcome = await invoke(connectRoute, connectEvent(api, conn, maps, now));
      if (!outcome.ok) {
        log(500, `${outcome.error.errorType}: ${outcome.error.errorMessage}`);
        return rejectUpgrade(socket, 500, 'Internal server error');
      }
      const result = (outcome.result ?? {}) as { statusCode?: unknown; headers?: unknown; body?: unknown };
      const statusCode = typeof result.statusCode === 'number' ? result.statusCode : 200;
      if (statusCode < 200 || statusCode > 299) {
        log(statusCode);
        // The integration's status reaches the client; its body does not become a frame.
        return rejectUpgrade(socket, statusCode, http.STATUS_CODES[statusCode] ?? 'Error');
      }
      if (result.headers && typeof result.headers === 'object') {
        responseHeaders = Object.fromEntries(
          Object.entries(result.headers as Record<string, unknown>)
            .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
            .map(([k, v]) => [k, String(v)]),
        );
      }
    }

    if (socket.destroyed || stopping) {
      // The client left while $connect ran: the connection existed for the backend, so it hears $disconnect.
      const route = routes.$disconnect;
      if (route) void invoke(route, disconnectEvent(api, conn, 1006, defaultDisconnectReason(1006), Date.now()));
      return;
    }
    const protocolHeader = Object.entries(responseHeaders).find(([k]) => k.toLowerCase() === 'sec-websocket-protocol');
    if (protocolHeader) selectedProtocols.set(req, protocolHeader[1]);
    const passThrough = Object.fromEntries(
      Object.entries(responseHeaders).filter(([k]) => !['sec-websocket-protocol', 'connection', 'upgrade', 'content-length'].includes(k.toLowerCase())),
    );
    extraUpgradeHeaders.set(req, passThrough);

    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection: Connection = { ...conn, ws, lastActiveAt: Date.now(), state: 'open' };
      connections.set(conn.connectionId, connection);
      attach(connection);
      log(101);
    });
  }

  // ---------------------------------------------------------------- HTTP

  async function handleManagement(req: http.IncomingMessage, res: http.ServerResponse, connectionId: string) {
    const { body, tooLarge } = await readBody(req, limits.maxMessageBytes);
    if (callbackLatencyMs > 0) await delay(callbackLatencyMs);
    const method = req.method ?? 'GET';
    if (!['POST', 'GET', 'DELETE'].includes(method)) {
      return awsError(res, 403, 'ForbiddenException', 'Forbidden');
    }
    if (method === 'POST' && tooLarge) {
      return awsError(res, 413, 'PayloadTooLargeException', `Request entity too large: the limit is ${limits.maxMessageBytes} bytes`);
    }
    const conn = connections.get(connectionId);
    const socket = conn?.ws as (WebSocket & { _socket?: Socket }) | undefined;
    const alive = conn && conn.state === 'open' && conn.ws.readyState === WebSocket.OPEN && socket?._socket?.destroyed !== true;
    if (!conn || !alive) {
      // A connection the gateway has not yet seen go away is found dead now and gets its $disconnect.
      if (conn && (conn.state === 'dropped' || conn.state === 'open')) finalize(conn, 1006, defaultDisconnectReason(1006));
      return awsError(res, 410, 'GoneException', `Connection ${connectionId} is gone`);
    }
    switch (method) {
      case 'POST':
        send(conn, body.toString('utf8'));
        return jsonResponse(res, 200, undefined);
      case 'GET':
        return jsonResponse(res, 200, {
          connectedAt: new Date(conn.connectedAt).toISOString(),
          identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent ?? '' },
          lastActiveAt: new Date(conn.lastActiveAt).toISOString(),
        });
      default:
        closeByServer(conn, 1000, 'Connection Closed Normally', '');
        res.writeHead(204, { 'x-amzn-RequestId': lambdaRequestId() });
        return res.end();
    }
  }

  /**
   * `POST /dev/publish` with `{"topic", "data"}` or an array of them (at most 10, SQS's batch
   * size): the messages are handed to the broadcaster as one SQS-shaped event, the way an
   * SQS event source mapping would, and the answer says which were delivered.
   */
  async function handlePublish(req: http.IncomingMessage, res: http.ServerResponse) {
    const usage = 'POST a JSON body {"topic": "<topic>", "data": <any JSON>} or an array of up to 10 of them';
    if (req.method !== 'POST') {
      await readBody(req, 0);
      return jsonResponse(res, 405, { message: usage }, { Allow: 'POST' });
    }
    if (!isLoopback(sourceIpOf(req.socket))) {
      await readBody(req, 0);
      return jsonResponse(res, 403, { message: 'publishing is only open to loopback clients' });
    }
    if (!broadcasterName) {
      await readBody(req, 0);
      return jsonResponse(res, 501, { message: `no broadcaster function: run ./build.sh so ${path.join(distDir, 'broadcaster', 'index.mjs')} exists` });
    }
    // SQS allows 256 KB per message; the broadcaster refuses what would not fit a frame.
    const { body, tooLarge } = await readBody(req, 10 * 256 * 1024);
    if (tooLarge) return jsonResponse(res, 413, { message: 'the body is over 2.5 MB (10 SQS messages of 256 KB)' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return jsonResponse(res, 400, { message: `the body is not JSON: ${usage}` });
    }
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    if (messages.length === 0 || messages.length > 10) return jsonResponse(res, 400, { message: usage });
    const sentAt = Date.now();
    const records = messages.map((message) => {
      const messageId = randomUUID();
      const text = JSON.stringify(message);
      return {
        messageId,
        receiptHandle: `local-${messageId}`,
        body: text,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(sentAt),
          SenderId: 'LOCAL',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(text).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:wskit-${stage}-broadcast`,
        awsRegion: REGION,
      };
    });
    const outcome = await invoke(broadcasterName, { Records: records });
    if (!outcome.ok) {
      return jsonResponse(res, 502, { message: `the broadcaster failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}` });
    }
    const failures = new Set(
      ((outcome.result as { batchItemFailures?: Array<{ itemIdentifier?: unknown }> } | undefined)?.batchItemFailures ?? []).map((f) =>
        String(f.itemIdentifier),
      ),
    );
    const results = records.map((r) => ({ messageId: r.messageId, status: failures.has(r.messageId) ? 'failed' : 'delivered' }));
    return jsonResponse(res, 200, { results });
  }

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/');
    // /<stage>/@connections/<id>   ('@' may arrive percent-encoded)
    if (segments.length === 4 && segments[0] === '' && decodeURIComponent(segments[2]!) === '@connections') {
      if (segments[1] !== stage) {
        await readBody(req, 0);
        return awsError(res, 403, 'ForbiddenException', 'Forbidden');
      }
      let id: string;
      try {
        id = decodeURIComponent(segments[3]!);
      } catch {
        await readBody(req, 0);
        return awsError(res, 400, 'BadRequestException', 'Invalid connectionId');
      }
      return handleManagement(req, res, id);
    }
    if (url.pathname === '/.well-known/jwks.json' && req.method === 'GET') {
      return jsonResponse(res, 200, idp.jwks(), { 'Cache-Control': 'max-age=300' });
    }
    if (devEndpoints && url.pathname === '/dev/token') {
      if (req.method !== 'POST') return jsonResponse(res, 405, { message: 'POST a JSON body {"sub": "<user id>", "scope"?: "...", "ttlSeconds"?: n}' }, { Allow: 'POST' });
      if (!isLoopback(sourceIpOf(req.socket))) return jsonResponse(res, 403, { message: 'dev tokens are only minted for loopback clients' });
      const { body, tooLarge } = await readBody(req, 16 * 1024);
      let input: { sub?: unknown; scope?: unknown; ttlSeconds?: unknown };
      try {
        input = tooLarge ? {} : (JSON.parse(body.toString('utf8') || '{}') as typeof input);
      } catch {
        return jsonResponse(res, 400, { message: 'body must be JSON: {"sub": "<user id>"}' });
      }
      const sub = typeof input.sub === 'string' ? input.sub.trim() : '';
      if (!/^[A-Za-z0-9_.@:-]{1,128}$/.test(sub)) {
        return jsonResponse(res, 400, { message: 'sub must be 1-128 characters of letters, digits, _ . @ : -' });
      }
      const token = idp.mint({
        sub,
        scope: typeof input.scope === 'string' ? input.scope : undefined,
        ttlSeconds: typeof input.ttlSeconds === 'number' ? input.ttlSeconds : 3600,
      });
      return jsonResponse(res, 200, { token }, { 'Cache-Control': 'no-store' });
    }
    if (devEndpoints && url.pathname === '/dev/publish') return handlePublish(req, res);
    if (devEndpoints && url.pathname === '/dev/config' && req.method === 'GET') {
      return jsonResponse(res, 200, { stage, publicTopicPrefixes, limits, callbackPath: `/${stage}/@connections` });
    }
    if (devEndpoints && (req.method === 'GET' || req.method === 'HEAD') && (await serveStatic(url.pathname, req, res))) return;
    await readBody(req, 0);
    return jsonResponse(res, 404, { message: 'Not Found' });
  }

  // ---------------------------------------------------------------- the handle

  let stopped: Promise<void> | undefined;
  const gateway: Gateway = {
    wsUrl,
    httpUrl,
    callbackUrl,
    port,
    stage,
    apiId: API_ID,
    region: REGION,
    tableName,
    dynamodbEndpoint,
    jwksUrl,
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    limits,
    warnings,
    mintToken: async (mintOptions) => idp.mint(mintOptions),
    connections: () =>
      [...connections.values()].map((c) => ({
        connectionId: c.connectionId,
        connectedAt: c.connectedAt,
        lastActiveAt: c.lastActiveAt,
        sourceIp: c.sourceIp,
        userAgent: c.userAgent,
        authorizer: c.authorizer,
        state: c.state,
      })),
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        await stopPollers();
        server.close();
        // Close every connection with 1001 and give the backend its $disconnect events.
        for (const conn of [...connections.values()]) {
          if (conn.state === 'open') closeByServer(conn, 1001, 'Going away');
          finalize(conn, conn.serverClose?.code ?? 1001, conn.serverClose?.reason ?? 'Going away');
        }
        let giveUp: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise<void>((resolve) => {
            giveUp = setTimeout(resolve, 5000);
          }),
        ]);
        clearTimeout(giveUp);
        for (const client of wss.clients) client.terminate();
        server.closeAllConnections();
        await Promise.all([...functions.values()].map((fn) => fn.stop()));
        await stopSweeper();
        ddb.destroy();
        await embedded?.stop();
      })()),
  };
  return gateway;
}

function identitySourcePresent(source: string, req: http.IncomingMessage, query: URLSearchParams): boolean {
  const queryMatch = /^route\.request\.querystring\.(.+)$/.exec(source);
  if (queryMatch) return (query.get(queryMatch[1]!) ?? '') !== '';
  const headerMatch = /^route\.request\.header\.(.+)$/.exec(source);
  if (headerMatch) {
    const value = req.headers[headerMatch[1]!.toLowerCase()];
    return typeof value === 'string' ? value !== '' : Array.isArray(value) && value.length > 0;
  }
  return true;
}
