/**
 * The router for every MESSAGE route: the protocol's actions, application routes that stand
 * for one (WSKIT_ACTION_ALIASES) and `$default`. API Gateway sends unknown actions and
 * non-JSON to `$default`, so the handler routes by the parsed body's `action`, not by
 * routeKey.
 *
 * Each frame gets exactly one reply, returned as the integration response of a two-way route:
 * `{ statusCode: 200, body: JSON.stringify(reply) }`, the frame's `id` echoed. A refused
 * frame writes nothing. The handler never throws: an unexpected failure is an `INTERNAL`
 * error that names the request id, logged and counted.
 *
 * Every frame, valid or not, counts against its connection's frame rate limit, and every
 * publish against its user's publish limit (RATE_LIMITED with `retryAfterMs`). Expired
 * sessions: past the token's `exp` (plus the clock tolerance) `ping` and `hello` still answer,
 * so a client can keep measuring the link and learn its connectionId while it rotates to a
 * fresh connection; every other action gets `TOKEN_EXPIRED`.
 */
import {
  ConfigError,
  ConnectionNotFoundError,
  ConnectionStore,
  MessageSender,
  Refusal,
  SubscriptionLimitError,
  TopicHistory,
  TopicService,
  continueTrace,
  fanOutSettingsFromEnv,
  publishAckFields,
  publishLogFields,
  actionAliasesFromEnv,
  clockToleranceSecondsFromEnv,
  defineHandler,
  emitMetrics,
  historySettingsFromEnv,
  lazy,
  maxTopicsPerConnectionFromEnv,
  publicTopicPrefixesFromEnv,
  rateLimitsFromEnv,
  serviceScope,
  sessionFromEvent,
  stringField,
  tableNameFromEnv,
  type Caller,
  type Invocation,
  type Session,
  type WebSocketResult,
} from '@wskit/shared';
import {
  QUALITY_STATES,
  REPORT_COUNTERS,
  errorFrame,
  parseClientFrame,
  serverLimits,
  type AckFrame,
  type ClientFrame,
  type ClientReport,
  type HistoryFrame,
  type PublishFrame,
  type ServerFrame,
  type SubscribeFrame,
} from '@wskit/protocol';

const SERVICE = 'wskit-message';
const scope = serviceScope(SERVICE);

/** Module-scope settings and clients, built once per execution environment at first use. */
const settings = lazy(() => {
  const tableName = tableNameFromEnv();
  return {
    tableName,
    maxTopicsPerConnection: maxTopicsPerConnectionFromEnv(),
    publicPrefixes: publicTopicPrefixesFromEnv(),
    rateLimits: rateLimitsFromEnv(),
    clockToleranceSeconds: clockToleranceSecondsFromEnv(),
    aliases: actionAliasesFromEnv(),
    history: historySettingsFromEnv(),
    fanOut: fanOutSettingsFromEnv(),
  };
});
const store = lazy(() => new ConnectionStore({ tableName: settings().tableName, maxTopicsPerConnection: settings().maxTopicsPerConnection, logger: scope.logger() }));
const history = lazy(() => new TopicHistory({ tableName: settings().tableName, settings: settings().history }));
const service = lazy(() =>
  TopicService.overTable({
    tableName: settings().tableName,
    store: store(),
    history: history(),
    logger: () => scope.logger(),
    unit: 'frame',
    publicPrefixes: settings().publicPrefixes,
    rateLimits: settings().rateLimits,
    clockToleranceSeconds: settings().clockToleranceSeconds,
    fanOut: settings().fanOut,
  }),
);

/** PostToConnection calls in flight at once while publishing. */
const FAN_OUT_CONCURRENCY = 32;
/** Client reports a connection may send per window of REPORT_WINDOW_SECONDS. */
const REPORTS_PER_WINDOW = 2;
const REPORT_WINDOW_SECONDS = 60;

const reply = (frame: ServerFrame): WebSocketResult => ({ statusCode: 200, body: JSON.stringify(frame) });

interface Frame {
  frame: ClientFrame;
  session: Session;
  caller: Caller;
  connectionId: string;
  invocation: Invocation;
}

export const handler = defineHandler<WebSocketResult>({
  service: SERVICE,
  async run(invocation) {
    const { connectionId } = invocation;
    const raw = invocation.event !== null && typeof invocation.event === 'object' ? (invocation.event as Record<string, unknown>) : {};
    const binary = raw.isBase64Encoded === true;
    const parsed = binary ? undefined : parseClientFrame(raw.body, { aliases: settings().aliases });
    const id = parsed?.ok ? parsed.frame.id : parsed?.id;
    if (id !== undefined) invocation.annotate({ frameId: id });
    // A frame with a W3C traceparent continues its caller's trace (tracing.ts).
    const traceparent = parsed?.ok ? parsed.frame.traceparent : undefined;
    const traceFields: Record<string, string> = parsed?.ok ? { action: parsed.frame.action } : {};
    if (id !== undefined) traceFields.frame_id = id;
    return continueTrace(traceparent, SERVICE, traceFields, async () => {
      try {
        if (connectionId) await service().take(`frames#${connectionId}`, settings().rateLimits.framesPerConnection, 'frames on this connection');
        if (binary) throw new Refusal('BAD_REQUEST', 'binary frames are not supported: send UTF-8 JSON text frames');
        if (!parsed!.ok) {
          invocation.log.debug('frame rejected', { code: parsed!.error.code });
          throw new Refusal(parsed!.error.code, parsed!.error.message);
        }
        const frame = parsed!.frame;
        if (frame.traceparent) invocation.annotate({ traceparent: frame.traceparent });
        if (frame.action === 'ping') return reply(withId(frame.ts === undefined ? { type: 'pong' } : { type: 'pong', ts: frame.ts }, id));
        const session = sessionFromEvent(invocation.event);
        if (!session) {
          invocation.log.warn('frame without a usable identity in the authorizer context');
          throw new Refusal('FORBIDDEN', 'no signed-in user on this connection: connect with a valid token');
        }
        if (!connectionId) throw new Refusal('BAD_REQUEST', 'the event has no requestContext.connectionId');
        invocation.annotate({ userId: session.userId });
        if (frame.action !== 'hello') service().checkSession(session);
        return reply(await route({ frame, session, caller: { kind: 'user', session }, connectionId, invocation }));
      } catch (error) {
        if (error instanceof Refusal) {
          if (error.code === 'RATE_LIMITED') emitMetrics(scope.metrics(), { RateLimited: 1 });
          if (error.code === 'FORBIDDEN') invocation.log.info('refused', { reason: error.message });
          return reply(errorFrame(error.code, error.message, id, error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }));
        }
        if (error instanceof ConfigError) invocation.annotate({ configVariable: error.variable });
        throw error;
      }
    });
  },
  fault(invocation) {
    const raw = invocation.event as { body?: unknown } | null;
    const parsed = parseClientFrame(raw?.body);
    const id = parsed.ok ? parsed.frame.id : parsed.id;
    return reply(errorFrame('INTERNAL', `internal error, request id ${invocation.requestId ?? 'unknown'}`, id));
  },
});

function withId<T extends ServerFrame>(frame: T, id: string | undefined): T {
  return id === undefined ? frame : { ...frame, id };
}

function ack(request: Frame, fields: Omit<AckFrame, 'type' | 'action' | 'id'> = {}): AckFrame {
  return withId({ type: 'ack', action: request.frame.action, ...fields }, request.frame.id);
}

async function route(request: Frame): Promise<ServerFrame> {
  const { frame, session, connectionId } = request;
  switch (frame.action) {
    case 'hello':
      return withId({ type: 'welcome', connectionId, userId: session.userId, limits: serverLimits() }, frame.id);
    case 'ping':
      // Answered before the session checks; kept for exhaustiveness.
      return withId({ type: 'pong' }, frame.id);
    case 'subscribe':
      return subscribe(request, frame);
    case 'unsubscribe': {
      // Always allowed: giving up a subscription needs no grant.
      const { removed } = await store().unsubscribe(connectionId, frame.topic);
      request.invocation.log.info('unsubscribed', { topic: frame.topic, removed });
      return ack(request, { topic: frame.topic });
    }
    case 'publish':
    case 'sendmessage':
      return publish(request, frame);
    case 'history':
      return readHistory(request, frame);
    case 'report':
      return report(request, frame.report);
  }
}

async function subscribe(request: Frame, frame: SubscribeFrame): Promise<ServerFrame> {
  service().authorize(request.caller, frame.topic, 'subscribe');
  try {
    await store().subscribe(request.connectionId, frame.topic);
  } catch (error) {
    if (error instanceof ConnectionNotFoundError) {
      throw new Refusal('FORBIDDEN', 'this connection is not registered (its record expired or was removed): reconnect');
    }
    if (error instanceof SubscriptionLimitError) {
      throw new Refusal('FORBIDDEN', `this connection already has ${error.limit} subscriptions, the maximum: unsubscribe first`);
    }
    throw error;
  }
  // Read after the subscription is stored: a message with a later seq finds this subscriber.
  const head = await history().head(frame.topic);
  request.invocation.log.info('subscribed', { topic: frame.topic, seq: head.seq });
  if (frame.since === undefined) return ack(request, { topic: frame.topic, seq: head.seq });
  const recovered = await history().recoverable(frame.topic, frame.since, head);
  return ack(request, { topic: frame.topic, seq: head.seq, recovered });
}

async function readHistory(request: Frame, frame: HistoryFrame): Promise<ServerFrame> {
  return withId(await service().history(request.caller, frame.topic, { since: frame.since, limit: frame.limit }), frame.id);
}

async function publish(request: Frame, frame: PublishFrame): Promise<ServerFrame> {
  const { invocation } = request;
  const sender = MessageSender.forApi(
    { apiId: stringField(invocation.requestContext.apiId, 128), stage: stringField(invocation.requestContext.stage, 128) },
    { store: store(), logger: invocation.log, context: invocation.remaining, concurrency: FAN_OUT_CONCURRENCY, metrics: scope.metrics() },
  );
  const outcome = await service().publish(request.caller, frame.topic, frame.data, { sender, logger: invocation.log });
  invocation.log.info('published', publishLogFields(outcome));
  return ack(request, { topic: frame.topic, ...publishAckFields(outcome) });
}

/** A client's experience summary, as CloudWatch metrics per client version (never per user). */
async function report(request: Frame, clientReport: ClientReport): Promise<ServerFrame> {
  await service().take(`reports#${request.connectionId}`, REPORTS_PER_WINDOW, 'client reports on this connection', REPORT_WINDOW_SECONDS);
  const values: Record<string, number> = { ClientReports: 1 };
  const units: Record<string, 'Count' | 'Milliseconds'> = {};
  for (const name of REPORT_COUNTERS) {
    const value = clientReport.counters[name];
    if (value !== undefined) values[`Client${name[0]!.toUpperCase()}${name.slice(1)}`] = value;
  }
  if (clientReport.rttMs) {
    values.ClientRttP50 = clientReport.rttMs.p50;
    values.ClientRttP95 = clientReport.rttMs.p95;
    units.ClientRttP50 = 'Milliseconds';
    units.ClientRttP95 = 'Milliseconds';
  }
  for (const state of QUALITY_STATES) {
    const ms = clientReport.qualityMs?.[state];
    if (ms === undefined) continue;
    const name = `ClientQuality${state[0]!.toUpperCase()}${state.slice(1)}`;
    values[name] = ms;
    units[name] = 'Milliseconds';
  }
  emitMetrics(scope.metrics(), values, { units, dimensions: { ClientVersion: clientReport.clientVersion }, properties: { periodMs: clientReport.periodMs } });
  return ack(request);
}
