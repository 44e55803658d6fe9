/**
 * One wrapper for every WebSocket handler: it reads the request's identifiers, gives the
 * handler a logger that adds them to every line, and owns the catch-all, so an unexpected
 * error is logged with the request id, counted as a `Faults` metric and answered, never
 * thrown. Module-scope state (logger, settings, clients) is built once per execution
 * environment by `lazy`, at first use and not at import; tests that need a different
 * environment load the handler afresh (`jest.isolateModules`).
 */
import { metricsNamespaceFromEnv } from './config';
import { requestContextOf, stringField, type LambdaContextLike, type WebSocketRequestContext } from './events';
import { createLogger, type Logger } from './logger';
import { emitMetrics, type MetricsTarget } from './metrics';
import type { RemainingTime } from './sender/types';
import { runInvocationTrace } from './tracing';

/** A value built on first use and kept; a build that throws is tried again next time. */
export function lazy<T>(build: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value;
  };
}

export interface Invocation {
  event: unknown;
  requestContext: WebSocketRequestContext;
  /** API Gateway's request id, else the Lambda request id. */
  requestId: string | undefined;
  connectionId: string | undefined;
  context: LambdaContextLike | undefined;
  /** The Lambda context, when it can tell the time left. */
  remaining: RemainingTime | undefined;
  log: Logger;
  /** Adds fields to every later log line of this invocation (e.g. the frame's id). */
  annotate(fields: Record<string, unknown>): void;
}

export interface HandlerDefinition<R> {
  /** `wskit-<function>`: the logger's service and the metrics' Service dimension. */
  service: string;
  run(invocation: Invocation): Promise<R>;
  /** The answer after an unexpected error (already logged and counted). */
  fault(invocation: Invocation, error: unknown): R;
}

export interface HandlerScope {
  logger(): Logger;
  metrics(): MetricsTarget;
}

/** The module-scope logger and metrics target of a service. */
export function serviceScope(service: string): HandlerScope {
  return {
    logger: lazy(() => createLogger(service)),
    metrics: lazy(() => ({ namespace: metricsNamespaceFromEnv(), service })),
  };
}

export function defineHandler<R>(definition: HandlerDefinition<R>): (event: unknown, context?: LambdaContextLike) => Promise<R> {
  const scope = serviceScope(definition.service);
  return async (event, context) => {
    const requestContext = requestContextOf(event);
    const requestId = stringField(requestContext.requestId, 128) ?? context?.awsRequestId;
    const connectionId = stringField(requestContext.connectionId, 128);
    const invocation: Invocation = {
      event,
      requestContext,
      requestId,
      connectionId,
      context,
      remaining: typeof context?.getRemainingTimeInMillis === 'function' ? (context as Required<LambdaContextLike>) : undefined,
      log: scope.logger(),
      annotate(fields) {
        this.log = this.log.child(fields);
      },
    };
    try {
      invocation.log = invocation.log.child({ requestId, connectionId });
      return await runInvocationTrace(() => definition.run(invocation));
    } catch (error) {
      invocation.log.error(`${definition.service} failed`, { error });
      try {
        emitMetrics(scope.metrics(), { Faults: 1 });
      } catch {
        // A broken metrics setting is already in the error above.
      }
      return definition.fault(invocation, error);
    }
  };
}
