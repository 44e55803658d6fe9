/**
 * The router for every MESSAGE route: `hello`, `ping`, `subscribe`, `unsubscribe`,
 * `publish`, `sendmessage` and `$default`. API Gateway sends unknown actions and non-JSON
 * to `$default`, so the handler routes by the parsed body's `action`, not by routeKey.
 *
 * Each frame gets exactly one reply, returned as the integration response of a two-way
 * route: `{ statusCode: 200, body: JSON.stringify(reply) }`. The frame's `id` is echoed.
 * A rejected frame writes nothing. The handler never throws: an unexpected failure is an
 * `INTERNAL` error that names the request id, and is logged.
 *
 * Expired sessions: when the authorizer's `exp` has passed, `ping` and `hello` still
 * answer (so a client can keep measuring the link and learn its connectionId while it
 * rotates to a fresh connection); every other action gets `TOKEN_EXPIRED`.
 */
import {
  handlerScope,
  ConfigError,
  ConnectionNotFoundError,
  MessageSender,
  metricsNamespaceFromEnv,
  SubscriptionLimitError,
  publicTopicPrefixesFromEnv,
  requestContextOf,
  sessionFromEvent,
  stringField,
  type LambdaContextLike,
  type Logger,
  type Session,
  type WebSocketRequestContext,
  type WebSocketResult,
} from '@wskit/shared';
import {
  LIMITS,
  errorFrame,
  isTopicAllowed,
  parseClientFrame,
  utf8Bytes,
  type AckFrame,
  type ClientFrame,
  type ErrorCode,
  type MessageFrame,
  type PublishFrame,
  type ServerFrame,
} from '@wskit/protocol';

const scope = handlerScope('wskit-message', { topicLimitFromEnv: true });
const getLogger = scope.logger;
const getStore = scope.store;

/** Subscribers fetched per Query page while publishing. */
const SUBSCRIBER_PAGE_SIZE = 500;
/** PostToConnection calls in flight at once while publishing. */
const FAN_OUT_CONCURRENCY = 32;

const reply = (frame: ServerFrame): WebSocketResult => ({ statusCode: 200, body: JSON.stringify(frame) });

class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Invocation {
  frame: ClientFrame;
  session: Session;
  connectionId: string;
  requestContext: WebSocketRequestContext;
  context: LambdaContextLike | undefined;
  log: Logger;
}

export async function handler(event: unknown, context?: LambdaContextLike): Promise<WebSocketResult> {
  let id: string | undefined;
  let requestId: string | undefined;
  let log = getLogger();
  try {
    const requestContext = requestContextOf(event);
    requestId = stringField(requestContext.requestId, 128) ?? context?.awsRequestId;
    const connectionId = stringField(requestContext.connectionId, 128);
    log = log.child({ requestId, connectionId });

    const raw = event !== null && typeof event === 'object' ? (event as Record<string, unknown>) : {};
    if (raw.isBase64Encoded === true) {
      return reply(errorFrame('BAD_REQUEST', 'binary frames are not supported: send UTF-8 JSON text frames'));
    }
    const parsed = parseClientFrame(raw.body);
    if (!parsed.ok) {
      log.debug('frame rejected', { code: parsed.error.code });
      return reply(errorFrame(parsed.error.code, parsed.error.message, parsed.id));
    }
    const frame = parsed.frame;
    id = frame.id;

    if (frame.action === 'ping') {
      return reply(frame.ts === undefined ? withId({ type: 'pong' }, id) : withId({ type: 'pong', ts: frame.ts }, id));
    }
    const session = sessionFromEvent(event);
    if (!session) {
      log.warn('frame without authorizer context');
      return reply(errorFrame('FORBIDDEN', 'no signed-in user on this connection: connect with a valid token', id));
    }
    if (!connectionId) {
      return reply(errorFrame('BAD_REQUEST', 'the event has no requestContext.connectionId', id));
    }
    if (frame.action !== 'hello' && session.exp !== undefined && session.exp * 1000 <= Date.now()) {
      return reply(
        errorFrame(
          'TOKEN_EXPIRED',
          `the token of this connection expired at ${formatEpochSeconds(session.exp)}: reconnect with a fresh token`,
          id,
        ),
      );
    }
    return reply(await route({ frame, session, connectionId, requestContext, context, log: log.child({ userId: session.userId }) }));
  } catch (error) {
    if (error instanceof Refusal) return reply(errorFrame(error.code, error.message, id));
    log.error('message handler failed', { error, configVariable: error instanceof ConfigError ? error.variable : undefined });
    return reply(errorFrame('INTERNAL', `internal error, request id ${requestId ?? 'unknown'}`, id));
  }
}

function formatEpochSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `epoch second ${seconds}` : date.toISOString();
}

function withId<T extends ServerFrame>(frame: T, id: string | undefined): T {
  return id === undefined ? frame : { ...frame, id };
}

function ack(invocation: Invocation, fields: Omit<AckFrame, 'type' | 'action' | 'id'> = {}): AckFrame {
  return withId({ type: 'ack', action: invocation.frame.action, ...fields }, invocation.frame.id);
}

function requireTopic(invocation: Invocation, topic: string, operation: 'subscribe' | 'publish'): void {
  const allowed = isTopicAllowed(topic, operation, invocation.session, { publicPrefixes: publicTopicPrefixesFromEnv() });
  if (!allowed) {
    invocation.log.info('topic refused', { topic, operation });
    throw new Refusal('FORBIDDEN', `not allowed to ${operation} to topic "${topic}"`);
  }
}

async function route(invocation: Invocation): Promise<ServerFrame> {
  const { frame, session, connectionId } = invocation;
  switch (frame.action) {
    case 'hello':
      return withId(
        {
          type: 'welcome',
          connectionId,
          userId: session.userId,
          limits: {
            maxMessageBytes: LIMITS.maxMessageBytes,
            maxFrameBytes: LIMITS.maxFrameBytes,
            idleTimeoutSeconds: LIMITS.idleTimeoutSeconds,
            maxConnectionSeconds: LIMITS.maxConnectionSeconds,
          },
        },
        frame.id,
      );
    case 'ping':
      // Answered before the session checks; kept for exhaustiveness.
      return withId({ type: 'pong' }, frame.id);
    case 'subscribe': {
      requireTopic(invocation, frame.topic, 'subscribe');
      try {
        await getStore().subscribe(connectionId, frame.topic);
      } catch (error) {
        if (error instanceof ConnectionNotFoundError) {
          throw new Refusal('FORBIDDEN', 'this connection is not registered (its record expired or was removed): reconnect');
        }
        if (error instanceof SubscriptionLimitError) {
          throw new Refusal('FORBIDDEN', `this connection already has ${error.limit} subscriptions, the maximum: unsubscribe first`);
        }
        throw error;
      }
      invocation.log.info('subscribed', { topic: frame.topic });
      return ack(invocation, { topic: frame.topic });
    }
    case 'unsubscribe': {
      // Always allowed: giving up a subscription needs no grant.
      const { removed } = await getStore().unsubscribe(connectionId, frame.topic);
      invocation.log.info('unsubscribed', { topic: frame.topic, removed });
      return ack(invocation, { topic: frame.topic });
    }
    case 'publish':
    case 'sendmessage':
      return publish(invocation, frame);
    case 'history':
    case 'report':
      // In the protocol ahead of their server side, which lands with the recovery and client-report work.
      throw new Refusal('UNKNOWN_ACTION', `${frame.action} is not served by this version of the message handler`);
  }
}

async function publish(invocation: Invocation, frame: PublishFrame): Promise<ServerFrame> {
  requireTopic(invocation, frame.topic, 'publish');
  const message: MessageFrame = { type: 'message', topic: frame.topic, data: frame.data, mid: crypto.randomUUID(), ts: Date.now() };
  const payload = JSON.stringify(message);
  const bytes = utf8Bytes(payload);
  if (bytes > LIMITS.maxMessageBytes) {
    throw new Refusal(
      'PAYLOAD_TOO_LARGE',
      `the message to deliver would be ${bytes} bytes, over the ${LIMITS.maxMessageBytes}-byte limit: send less data`,
    );
  }
  const connections = getStore();
  const { requestContext, context, log } = invocation;
  const sender = MessageSender.forApi(
    { apiId: stringField(requestContext.apiId, 128), stage: stringField(requestContext.stage, 128) },
    {
      store: connections,
      logger: log,
      context: typeof context?.getRemainingTimeInMillis === 'function' ? (context as Required<LambdaContextLike>) : undefined,
      concurrency: FAN_OUT_CONCURRENCY,
      metrics: { namespace: metricsNamespaceFromEnv(), service: 'wskit-message' },
    },
  );
  async function* subscriberIds(): AsyncGenerator<string> {
    for await (const page of connections.subscribers(frame.topic, { pageSize: SUBSCRIBER_PAGE_SIZE })) {
      for (const subscriber of page) yield subscriber.connectionId;
    }
  }
  const summary = await sender.fanOut(subscriberIds(), payload, { topic: frame.topic, metricProperties: { mid: message.mid } });
  log.info('published', {
    topic: frame.topic,
    mid: message.mid,
    bytes,
    total: summary.total,
    delivered: summary.delivered,
    gone: summary.gone,
    failed: summary.failed,
    retried: summary.retried,
    durationMs: summary.durationMs,
  });
  return ack(invocation, {
    topic: frame.topic,
    mid: message.mid,
    delivered: summary.delivered,
    gone: summary.gone,
    failed: summary.failed,
  });
}
