/**
 * The HTTP API (API Gateway HTTP API, payload format 2.0): a topic's history and publish
 * over plain HTTPS, for the client's polling fallback and for backends.
 *
 *   GET  /topics/{topic}/messages?since=&limit=   -> the `history` reply
 *   POST /topics/{topic}/messages  {"data": ...}  -> the publish `ack`
 *
 * The same routes under `/iam` are for backends signing with IAM credentials (API Gateway
 * authorizes them with AWS_IAM; they may use every topic their IAM policy lets them call).
 * The others carry a user's token, checked by the wskit authorizer: the topic policy
 * applies as over WebSocket. Errors answer with the protocol's status (HTTP_STATUS_OF) and
 * an `error` frame as the body; 429 carries Retry-After. Never throws.
 */
import {
  ConfigError,
  ConnectionStore,
  MessageSender,
  Refusal,
  TopicHistory,
  TopicService,
  continueTrace,
  fanOutSettingsFromEnv,
  publishAckFields,
  publishLogFields,
  clockToleranceSecondsFromEnv,
  defineHandler,
  emitMetrics,
  historySettingsFromEnv,
  iamPrincipalFromHttpEvent,
  lazy,
  publicTopicPrefixesFromEnv,
  rateLimitsFromEnv,
  serviceScope,
  sessionFromHttpEvent,
  tableNameFromEnv,
  type Caller,
  type Invocation,
} from '@wskit/shared';
import { HISTORY_MAX_LIMIT, HTTP_STATUS_OF, LIMITS, checkJsonStructure, errorFrame, utf8Bytes, type ErrorCode } from '@wskit/protocol';

const SERVICE = 'wskit-http';
const scope = serviceScope(SERVICE);
const settings = lazy(() => ({
  tableName: tableNameFromEnv(),
  publicPrefixes: publicTopicPrefixesFromEnv(),
  rateLimits: rateLimitsFromEnv(),
  clockToleranceSeconds: clockToleranceSecondsFromEnv(),
  history: historySettingsFromEnv(),
  fanOut: fanOutSettingsFromEnv(),
}));
const store = lazy(() => new ConnectionStore({ tableName: settings().tableName, logger: scope.logger() }));
const service = lazy(() =>
  TopicService.overTable({
    tableName: settings().tableName,
    store: store(),
    history: new TopicHistory({ tableName: settings().tableName, settings: settings().history }),
    logger: () => scope.logger(),
    unit: 'request',
    publicPrefixes: settings().publicPrefixes,
    rateLimits: settings().rateLimits,
    clockToleranceSeconds: settings().clockToleranceSeconds,
    fanOut: settings().fanOut,
  }),
);

/** PostToConnection calls in flight at once while publishing. */
const FAN_OUT_CONCURRENCY = 32;

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const json = (statusCode: number, value: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  body: JSON.stringify(value),
});

function refused(code: ErrorCode, message: string, retryAfterMs?: number): HttpResult {
  const extra = retryAfterMs === undefined ? {} : { retryAfterMs };
  const headers: Record<string, string> = retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
  return json(HTTP_STATUS_OF[code], errorFrame(code, message, undefined, extra), headers);
}

interface HttpEvent {
  routeKey?: unknown;
  /** Lower-case names (payload format 2.0). */
  headers?: Record<string, unknown> | null;
  pathParameters?: Record<string, unknown> | null;
  queryStringParameters?: Record<string, unknown> | null;
  body?: unknown;
  isBase64Encoded?: unknown;
  requestContext?: { http?: { method?: unknown } };
}

export const handler = defineHandler<HttpResult>({
  service: SERVICE,
  async run(invocation) {
    const event = (invocation.event ?? {}) as HttpEvent;
    // A request with a W3C traceparent header continues its caller's trace (tracing.ts).
    const traceparent = own(event.headers, 'traceparent');
    try {
      return await continueTrace(typeof traceparent === 'string' ? traceparent : undefined, SERVICE, { route: typeof event.routeKey === 'string' ? event.routeKey : '' }, () => route(invocation, event));
    } catch (error) {
      if (error instanceof Refusal) {
        if (error.code === 'RATE_LIMITED') emitMetrics(scope.metrics(), { RateLimited: 1 });
        return refused(error.code, error.message, error.retryAfterMs);
      }
      if (error instanceof ConfigError) invocation.annotate({ configVariable: error.variable });
      throw error;
    }
  },
  fault: (invocation) => refused('INTERNAL', `internal error, request id ${invocation.requestId ?? 'unknown'}`),
});

const own = (record: Record<string, unknown> | null | undefined, key: string): unknown =>
  record && typeof record === 'object' && Object.hasOwn(record, key) ? record[key] : undefined;

async function route(invocation: Invocation, event: HttpEvent): Promise<HttpResult> {
  const routeKey = typeof event.routeKey === 'string' ? event.routeKey : '';
  const match = /^(GET|POST) (\/iam)?\/topics\/\{topic\}\/messages$/.exec(routeKey);
  if (!match) throw new Refusal('BAD_REQUEST', `no such route ${JSON.stringify(routeKey.slice(0, 80))}: use GET or POST /topics/{topic}/messages`);
  const [, method, iam] = match;
  const caller = callerOf(event, Boolean(iam));
  const topic = own(event.pathParameters, 'topic');
  if (typeof topic !== 'string') throw new Refusal('BAD_REQUEST', 'the path names no topic: /topics/{topic}/messages, the topic percent-encoded twice');
  invocation.annotate(caller.kind === 'user' ? { userId: caller.session.userId, topic } : { principal: caller.principal, topic });
  const requester = caller.kind === 'user' ? caller.session.userId : `iam#${caller.principal}`;
  await service().take(`http#${requester}`, settings().rateLimits.framesPerConnection, 'requests by this caller');
  if (method === 'GET') {
    const since = wholeNumber(own(event.queryStringParameters, 'since'), 'since', Number.MAX_SAFE_INTEGER);
    const limit = wholeNumber(own(event.queryStringParameters, 'limit'), 'limit', HISTORY_MAX_LIMIT, 1);
    return json(200, await service().history(caller, topic, { since, limit }));
  }
  const data = publishedData(event);
  const outcome = await service().publish(caller, topic, data, {
    sender: MessageSender.forApi({}, { store: store(), logger: invocation.log, context: invocation.remaining, concurrency: FAN_OUT_CONCURRENCY, metrics: scope.metrics() }),
    logger: invocation.log,
  });
  invocation.log.info('published', publishLogFields(outcome));
  return json(200, { type: 'ack', action: 'publish', topic, ...publishAckFields(outcome) });
}

function callerOf(event: HttpEvent, iam: boolean): Caller {
  if (iam) {
    const principal = iamPrincipalFromHttpEvent(event);
    if (!principal) throw new Refusal('FORBIDDEN', 'no IAM principal on this request: sign it with SigV4 (service execute-api)');
    return { kind: 'service', principal };
  }
  const session = sessionFromHttpEvent(event);
  if (!session) throw new Refusal('FORBIDDEN', 'no signed-in user on this request: send Authorization: Bearer <token>');
  service().checkSession(session);
  return { kind: 'user', session };
}

function wholeNumber(raw: unknown, name: string, max: number, min = 0): number | undefined {
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Refusal('BAD_REQUEST', `"${name}" must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** The `data` of a publish body `{"data": <any JSON>}`. */
function publishedData(event: HttpEvent): unknown {
  const usage = 'send a JSON body {"data": <any JSON>}';
  if (typeof event.body !== 'string' || event.body === '') throw new Refusal('BAD_REQUEST', `the request has no body: ${usage}`);
  const text = event.isBase64Encoded === true ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.length > LIMITS.maxMessageBytes || utf8Bytes(text) > LIMITS.maxMessageBytes) {
    throw new Refusal('PAYLOAD_TOO_LARGE', `the body is over ${LIMITS.maxMessageBytes} bytes: send less data`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Refusal('BAD_REQUEST', `the body is not JSON: ${usage}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.hasOwn(parsed, 'data')) {
    throw new Refusal('BAD_REQUEST', `the body has no "data": ${usage}`);
  }
  const problem = checkJsonStructure(parsed);
  if (problem) throw new Refusal('BAD_REQUEST', problem);
  return (parsed as { data: unknown }).data;
}
