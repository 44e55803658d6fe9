/**
 * AWS X-Ray tracing without the X-Ray SDK: segment documents sent as UDP datagrams to the
 * X-Ray daemon Lambda runs beside the function (AWS_XRAY_DAEMON_ADDRESS), the way the SDKs
 * send them. A few hundred lines of SDK would cost every cold start; this costs a JSON line
 * and a datagram per traced call.
 *
 * What is traced, when tracing is on (WSKIT_TRACING, set from the Terraform tracing_mode)
 * and the invocation is sampled:
 *
 *   - every DynamoDB request of the module-scope client, every SQS send, every management
 *     API call outside a fan-out, and each fan-out as one subsegment (its counts, not 10,000
 *     subsegments), under the function's segment that Lambda writes (`_X_AMZN_TRACE_ID`);
 *   - a frame carrying a W3C `traceparent` continues that trace: the handler writes a segment
 *     of its own in the caller's trace (trace id 1-<8 hex>-<24 hex> from the traceparent's
 *     32, parent = its span id), with the Lambda trace id as an annotation, and the calls the
 *     frame causes go under it. So one user action is followed from the browser (which
 *     started the trace) to DynamoDB and the management API.
 *
 * Sampling: Lambda's decision for its own trace (Sampled=1); the traceparent's flag (01) for
 * a continued one. Nothing is sent when neither holds, or when tracing is off.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { TRACEPARENT_PATTERN } from '@wskit/protocol';

export interface TraceContext {
  /** X-Ray trace id, `1-<8 hex>-<24 hex>`. */
  traceId: string;
  /** The segment or subsegment new subsegments go under. */
  parentId: string;
}

interface Store {
  context: TraceContext | undefined;
}

const storage = new AsyncLocalStorage<Store>();
const HEADER = '{"format":"json","version":1}\n';

/** Whether this process sends traces: WSKIT_TRACING is `on` (Terraform sets it from tracing_mode Active). */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.WSKIT_TRACING?.trim().toLowerCase() === 'on';
}

/** `Root=1-...;Parent=...;Sampled=1` (Lambda's `_X_AMZN_TRACE_ID`): the context when sampled. */
export function lambdaTraceContext(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const fields = new Map(
    header.split(';').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const traceId = fields.get('Root');
  const parentId = fields.get('Parent');
  if (fields.get('Sampled') !== '1' || !traceId || !/^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(traceId) || !parentId || !/^[0-9a-f]{16}$/.test(parentId)) return undefined;
  return { traceId, parentId };
}

/** A W3C traceparent's trace as X-Ray ids, when it is valid and sampled (flags 01). */
export function traceparentContext(traceparent: string | undefined): TraceContext | undefined {
  if (!traceparent || !TRACEPARENT_PATTERN.test(traceparent)) return undefined;
  const [, traceHex, spanId, flags] = traceparent.split('-') as [string, string, string, string];
  if ((parseInt(flags, 16) & 1) !== 1) return undefined;
  return { traceId: `1-${traceHex.slice(0, 8)}-${traceHex.slice(8)}`, parentId: spanId };
}

/** `host:port`, or `tcp:host:port udp:host:port` (the UDP one). */
function daemonAddress(env: NodeJS.ProcessEnv): { host: string; port: number } | undefined {
  const raw = env.AWS_XRAY_DAEMON_ADDRESS?.trim();
  if (!raw) return undefined;
  const udp = raw.split(/\s+/).find((part) => part.startsWith('udp:'))?.slice(4) ?? raw.split(/\s+/).find((part) => !part.includes('tcp:'));
  const m = udp ? /^(.+):(\d{1,5})$/.exec(udp) : null;
  return m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } : undefined;
}

let socket: Promise<Socket | undefined> | undefined;

/** The socket to the daemon, opened at first use (a Node built-in: nothing to load). */
function daemon(): Promise<Socket | undefined> {
  socket ??= (async () => {
    const address = daemonAddress(process.env);
    if (!address) return undefined;
    const s = createSocket(address.host.includes(':') ? 'udp6' : 'udp4');
    s.on('error', () => undefined);
    s.unref();
    s.connect(address.port, address.host);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    return s;
  })().catch(() => {
    socket = undefined;
    return undefined;
  });
  return socket;
}

/** Sends one document; a lost datagram is a lost trace, never an error. */
export function sendDocument(document: Record<string, unknown>): void {
  void daemon().then((s) => {
    if (!s) return;
    try {
      s.send(HEADER + JSON.stringify(document));
    } catch {
      // the daemon went away: the trace is lost
    }
  });
}

export const newSegmentId = (): string => randomBytes(8).toString('hex');
const seconds = (ms: number) => ms / 1000;

/** The trace new subsegments go under in this async context, if it is traced. */
export function currentTrace(): TraceContext | undefined {
  return storage.getStore()?.context;
}

/**
 * Runs an invocation in its trace: Lambda's (from `_X_AMZN_TRACE_ID`) when tracing is on and
 * Lambda sampled it, else none.
 */
export function runInvocationTrace<T>(fn: () => Promise<T>): Promise<T> {
  const context = tracingEnabled() ? lambdaTraceContext(process.env._X_AMZN_TRACE_ID) : undefined;
  return storage.run({ context }, fn);
}

/**
 * Runs `fn` in the trace a frame's traceparent names: a segment `service` in the caller's
 * trace, written when `fn` ends, annotated with the Lambda trace it ran in. Without a valid,
 * sampled traceparent (or with tracing off) `fn` runs in the invocation's trace.
 */
export async function continueTrace<T>(traceparent: string | undefined, service: string, fields: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const caller = tracingEnabled() ? traceparentContext(traceparent) : undefined;
  if (!caller) return fn();
  const id = newSegmentId();
  const started = Date.now();
  const lambdaRoot = /(?:^|;)\s*Root=(1-[0-9a-f]{8}-[0-9a-f]{24})/.exec(process.env._X_AMZN_TRACE_ID ?? '')?.[1];
  let failed: unknown;
  try {
    return await storage.run({ context: { traceId: caller.traceId, parentId: id } }, fn);
  } catch (error) {
    failed = error;
    throw error;
  } finally {
    const annotations: Record<string, string> = { ...fields };
    if (lambdaRoot) annotations.lambda_trace_id = lambdaRoot;
    sendDocument({
      name: service,
      id,
      trace_id: caller.traceId,
      parent_id: caller.parentId,
      start_time: seconds(started),
      end_time: seconds(Date.now()),
      origin: 'AWS::Lambda::Function',
      annotations,
      ...(failed ? { fault: true, cause: { exceptions: [{ id: newSegmentId(), type: (failed as Error)?.name ?? 'Error', message: String((failed as Error)?.message ?? failed).slice(0, 200) }] } } : {}),
    });
  }
}

export interface SubsegmentInfo {
  /** `DynamoDB`, `SQS`, `ApiGatewayManagementApi`, ... */
  name: string;
  /** `aws` for AWS calls (the service map draws them as AWS resources). */
  namespace?: 'aws' | 'remote';
  aws?: Record<string, unknown>;
  /** Searchable with filter expressions (annotation.<key>). */
  annotations?: Record<string, string | number | boolean>;
  metadata?: Record<string, unknown>;
}

/** The outcome fields of an error: throttle (429), error (other 4xx) or fault (5xx, no answer). */
function errorFields(error: unknown): Record<string, unknown> {
  const status = Number((error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode);
  const name = (error as Error)?.name ?? 'Error';
  const kind = status === 429 || /Throttl|LimitExceeded|ProvisionedThroughputExceeded/.test(name) ? { throttle: true, error: true } : status >= 400 && status < 500 ? { error: true } : { fault: true };
  return { ...kind, ...(Number.isFinite(status) ? { http: { response: { status } } } : {}), cause: { exceptions: [{ id: newSegmentId(), type: name, message: String((error as Error)?.message ?? '').slice(0, 200) }] } };
}

/**
 * Runs `fn` as a subsegment of the current trace (when there is one). `nested: false`: the
 * calls `fn` makes are not traced one by one (a fan-out's thousands of requests).
 */
export async function traced<T>(
  info: SubsegmentInfo | (() => SubsegmentInfo),
  fn: () => Promise<T>,
  outcome?: (result: T) => Partial<SubsegmentInfo>,
  options: { nested?: boolean } = {},
): Promise<T> {
  const context = currentTrace();
  if (!context) return fn();
  const id = newSegmentId();
  const started = Date.now();
  const write = (extra: Record<string, unknown>) => {
    const { name, namespace = 'aws', aws, annotations, metadata } = typeof info === 'function' ? info() : info;
    sendDocument({
      type: 'subsegment',
      name,
      id,
      trace_id: context.traceId,
      parent_id: context.parentId,
      start_time: seconds(started),
      end_time: seconds(Date.now()),
      namespace,
      ...(aws ? { aws } : {}),
      ...(annotations ? { annotations } : {}),
      ...(metadata ? { metadata: { wskit: metadata } } : {}),
      ...extra,
    });
  };
  try {
    const result = await storage.run({ context: options.nested === false ? undefined : { traceId: context.traceId, parentId: id } }, fn);
    const more = outcome?.(result);
    write(more ? { ...(more.annotations ? { annotations: more.annotations } : {}), ...(more.metadata ? { metadata: { wskit: more.metadata } } : {}) } : {});
    return result;
  } catch (error) {
    write(errorFields(error));
    throw error;
  }
}

const DOCUMENT_OPERATIONS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

/**
 * An SDK v3 middleware that records each request of a client as a subsegment (operation,
 * table or queue, request id, retries), for `client.middlewareStack.add(...)`.
 */
export function tracingMiddleware(service: string) {
  return <A extends { input: unknown }, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    (args: A): Promise<R> => {
      if (!currentTrace()) return next(args);
      const command = String(context.commandName ?? '').replace(/Command$/, '');
      // The document client's commands carry the DynamoDB operation they become.
      const operation = Object.hasOwn(DOCUMENT_OPERATIONS, command) ? DOCUMENT_OPERATIONS[command]! : command;
      const input = (args.input ?? {}) as Record<string, unknown>;
      const aws: Record<string, unknown> = { operation };
      if (typeof input.TableName === 'string') aws.table_name = input.TableName;
      if (typeof input.QueueUrl === 'string') aws.queue_url = input.QueueUrl;
      return traced({ name: service, aws }, () => next(args));
    };
}
