/**
 * The fan-out queue: an SQS standard queue as the functions see it, and the event source
 * mapping that feeds it to the broadcaster.
 *
 * The queue side answers SQS's JSON protocol (POST with `X-Amz-Target: AmazonSQS.<Action>`,
 * SigV4 for service `sqs`): SendMessage and SendMessageBatch, with SQS's checks (10 entries,
 * distinct ids, 256 KiB in all) and answers. Anything else is `UnsupportedOperation`.
 *
 * The mapping side runs `workers` pollers, like the parallel batches Lambda's pollers run:
 * each takes one message at a time (batch size 1: a shard job is a whole fan-out) and
 * invokes the broadcaster with the SQS event shape. A message the function reports failed
 * (ReportBatchItemFailures), or whose invocation fails, becomes visible again after the
 * visibility timeout; after `maxReceiveCount` receives it moves to the dead-letter list.
 */
import { createHash, randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import { awsError, jsonResponse, readBody } from './http-util';
import type { InvokeOutcome } from './lambda-host';
import { checkSignature, type AcceptedCredentials } from './sigv4-check';

export const FANOUT_QUEUE_NAME = 'wskit-fanout';
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export interface FanOutQueueOptions {
  region: string;
  accountId: string;
  /** The URL the queue is reached at (the gateway's port). */
  baseUrl: string;
  credentials: readonly AcceptedCredentials[];
  /** Parallel pollers (broadcaster invocations at once). */
  workers: number;
  invoke: (event: unknown) => Promise<InvokeOutcome>;
  /** Before a failed message is received again; default 2 s (SQS's default is 30 s). */
  visibilityTimeoutMs?: number;
  /** Receives before a message moves to the dead-letter list; default 3. */
  maxReceiveCount?: number;
  log: (entry: Record<string, unknown>) => void;
}

interface QueuedMessage {
  messageId: string;
  body: string;
  sentAt: number;
  receives: number;
  visibleAt: number;
}

export interface FanOutQueueStats {
  sent: number;
  received: number;
  deleted: number;
  deadLettered: number;
  /** Broadcaster invocations and their summed duration (what Lambda bills). */
  invocations: number;
  invocationMs: number;
}

export class LocalFanOutQueue {
  readonly url: string;
  readonly arn: string;
  private readonly pending: QueuedMessage[] = [];
  private readonly deadLetters: QueuedMessage[] = [];
  private readonly stats: FanOutQueueStats = { sent: 0, received: 0, deleted: 0, deadLettered: 0, invocations: 0, invocationMs: 0 };
  private wake: Array<() => void> = [];
  private stopped = false;
  private readonly workers: Array<Promise<void>> = [];
  private readonly inFlight = new Set<QueuedMessage>();

  constructor(private readonly o: FanOutQueueOptions) {
    this.url = `${o.baseUrl}/${o.accountId}/${FANOUT_QUEUE_NAME}`;
    this.arn = `arn:aws:sqs:${o.region}:${o.accountId}:${FANOUT_QUEUE_NAME}`;
    for (let i = 0; i < o.workers; i++) this.workers.push(this.poll());
  }

  /** Counters since start (benchmarks). */
  snapshot(): FanOutQueueStats & { pending: number; inFlight: number } {
    return { ...this.stats, pending: this.pending.length, inFlight: this.inFlight.size };
  }

  /** Whether a request is for this queue (an SQS JSON-protocol call). */
  static isSqsRequest(req: http.IncomingMessage): boolean {
    const target = req.headers['x-amz-target'];
    return req.method === 'POST' && typeof target === 'string' && target.startsWith('AmazonSQS.');
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { body, tooLarge } = await readBody(req, 2 * MAX_BATCH_BYTES);
    const refusal = await checkSignature({ method: 'POST', url: req.url ?? '/', headers: req.headers, body }, this.o.credentials, this.o.region, 'sqs');
    if (refusal) return sqsError(res, 403, refusal.errorType, refusal.message);
    if (tooLarge) return sqsError(res, 413, 'BatchRequestTooLong', `the request is over ${2 * MAX_BATCH_BYTES} bytes`);
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      return sqsError(res, 400, 'InvalidParameterValue', 'the request body is not a JSON object');
    }
    if (input.QueueUrl !== this.url) return sqsError(res, 400, 'QueueDoesNotExist', 'The specified queue does not exist.');
    const action = String(req.headers['x-amz-target']).slice('AmazonSQS.'.length);
    if (action === 'SendMessage') {
      const problem = messageProblem(input.MessageBody) ?? (delayOf(input.DelaySeconds) === undefined ? 'DelaySeconds must be a whole number from 0 to 900' : undefined);
      if (problem) return sqsError(res, 400, 'InvalidParameterValue', problem);
      return jsonResponse(res, 200, this.enqueue(input.MessageBody as string, delayOf(input.DelaySeconds)!));
    }
    if (action === 'SendMessageBatch') {
      const entries = input.Entries;
      if (!Array.isArray(entries) || entries.length === 0) return sqsError(res, 400, 'EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
      if (entries.length > MAX_BATCH_ENTRIES) return sqsError(res, 400, 'TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}.`);
      const ids = entries.map((e: unknown) => (e && typeof e === 'object' ? (e as { Id?: unknown }).Id : undefined));
      if (ids.some((id) => typeof id !== 'string' || !/^[\w-]{1,80}$/.test(id))) return sqsError(res, 400, 'InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores, at most 80.');
      if (new Set(ids).size !== ids.length) return sqsError(res, 400, 'BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
      const total = entries.reduce((sum: number, e: { MessageBody?: unknown }) => sum + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody) : 0), 0);
      if (total > MAX_BATCH_BYTES) return sqsError(res, 400, 'BatchRequestTooLong', `Batch requests cannot be longer than ${MAX_BATCH_BYTES} bytes.`);
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of entries as Array<{ Id: string; MessageBody?: unknown; DelaySeconds?: unknown }>) {
        const problem = messageProblem(entry.MessageBody) ?? (delayOf(entry.DelaySeconds) === undefined ? 'DelaySeconds must be a whole number from 0 to 900' : undefined);
        if (problem) Failed.push({ Id: entry.Id, SenderFault: true, Code: 'InvalidParameterValue', Message: problem });
        else Successful.push({ Id: entry.Id, ...this.enqueue(entry.MessageBody as string, delayOf(entry.DelaySeconds)!) });
      }
      return jsonResponse(res, 200, { Successful, Failed });
    }
    return sqsError(res, 400, 'UnsupportedOperation', `${action} is not served by the local fan-out queue (SendMessage and SendMessageBatch are)`);
  }

  private enqueue(body: string, delaySeconds = 0): { MessageId: string; MD5OfMessageBody: string } {
    const message: QueuedMessage = { messageId: randomUUID(), body, sentAt: Date.now(), receives: 0, visibleAt: delaySeconds > 0 ? Date.now() + delaySeconds * 1000 : 0 };
    this.pending.push(message);
    this.stats.sent++;
    this.wakeOne();
    return { MessageId: message.messageId, MD5OfMessageBody: createHash('md5').update(body).digest('hex') };
  }

  private wakeOne(): void {
    this.wake.shift()?.();
  }

  /** The next visible message, or undefined after waiting a little (or when stopped). */
  private async next(): Promise<QueuedMessage | undefined> {
    const now = Date.now();
    const index = this.pending.findIndex((m) => m.visibleAt <= now);
    if (index >= 0) return this.pending.splice(index, 1)[0];
    const soonest = this.pending.reduce((min, m) => Math.min(min, m.visibleAt), Infinity);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(5, Math.min(1000, soonest - now)));
      this.wake.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return undefined;
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      const message = await this.next();
      if (!message) continue;
      message.receives++;
      this.stats.received++;
      this.inFlight.add(message);
      const started = Date.now();
      const outcome = await this.o.invoke({ Records: [this.record(message)] });
      this.stats.invocations++;
      this.stats.invocationMs += outcome.durationMs || Date.now() - started;
      this.inFlight.delete(message);
      const failed = !outcome.ok || reportsFailure(outcome, message.messageId);
      if (!failed) {
        this.stats.deleted++;
        continue;
      }
      if (message.receives >= (this.o.maxReceiveCount ?? 3)) {
        this.deadLetters.push(message);
        this.stats.deadLettered++;
        this.o.log({ event: 'fanout-dead-letter', messageId: message.messageId, receives: message.receives });
        continue;
      }
      message.visibleAt = Date.now() + (this.o.visibilityTimeoutMs ?? 2000);
      this.pending.push(message);
      this.o.log({ event: 'fanout-retry', messageId: message.messageId, receives: message.receives, error: outcome.ok ? 'reported failed' : outcome.error.errorType });
    }
  }

  private record(message: QueuedMessage): Record<string, unknown> {
    return {
      messageId: message.messageId,
      receiptHandle: `${message.messageId}#${message.receives}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receives),
        SentTimestamp: String(message.sentAt),
        ApproximateFirstReceiveTimestamp: String(Date.now()),
        SenderId: 'AIDALOCALWSKIT',
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(message.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: this.o.region,
    };
  }

  /** Stops polling once the invocations under way end; what is queued is dropped. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wake.splice(0)) wake();
    await Promise.all(this.workers);
  }
}

/** DelaySeconds: absent = 0; a whole number up to 900; anything else undefined (refused). */
function delayOf(value: unknown): number | undefined {
  if (value === undefined) return 0;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 900 ? value : undefined;
}

function messageProblem(body: unknown): string | undefined {
  if (typeof body !== 'string' || body.length === 0) return 'The request must contain the parameter MessageBody.';
  if (Buffer.byteLength(body) > MAX_BATCH_BYTES) return `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_BATCH_BYTES} bytes.`;
  // SQS refuses characters outside #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
  if (/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body)) return 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF';
  return undefined;
}

function reportsFailure(outcome: InvokeOutcome, messageId: string): boolean {
  if (!outcome.ok) return true;
  const failures = (outcome.result as { batchItemFailures?: unknown } | undefined)?.batchItemFailures;
  return Array.isArray(failures) && failures.some((f) => f && typeof f === 'object' && (f as { itemIdentifier?: unknown }).itemIdentifier === messageId);
}

function sqsError(res: http.ServerResponse, status: number, code: string, message: string): void {
  jsonResponse(res, status, { __type: `com.amazonaws.sqs#${code}`, message }, { 'x-amzn-query-error': `AWS.SimpleQueueService.${code};Sender` });
}
