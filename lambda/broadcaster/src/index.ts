/**
 * @wskit/broadcaster: DynamoDB Streams records (from any application table) and SQS
 * messages -> topic fan-out to WebSocket subscribers, through the same TopicPublisher as a
 * client's publish (seq, history, expired tokens, big fan-outs handed off).
 *
 * It also runs the shard jobs of handed-off fan-outs (fanout-queue.ts in @wskit/shared), but
 * only those that arrive from the fan-out queue (WSKIT_FANOUT_QUEUE_ARN): a job carries a
 * frame with its seq, which must not be forged by whoever can write to another queue. Each
 * job is one shard: its recipients at its part of the @connections quota.
 *
 * Per batch: records are parsed; one that can never be published (malformed, or a message
 * over the size limit) is dropped with a log line and a `DroppedRecords` metric instead of
 * being retried: reported as failed it would come back until its retries run out, and on a
 * stream it would hold back every record after it. The others are grouped by topic; each
 * topic's subscribers are read once and its records are published in order. The result
 * reports partial batch failures (`batchItemFailures`, itemIdentifier = SequenceNumber for
 * streams and messageId for SQS) for what may succeed on a retry. Needs
 * ReportBatchItemFailures on the event source mapping.
 */
import {
  ConnectionStore,
  FanOutJobError,
  FanOutQueue,
  MAX_SHARD_ATTEMPTS,
  MessageSender,
  SubscriberCache,
  parseFanOutJob,
  runInvocationTrace,
  shardPace,
  type FanOutJob,
  PayloadTooLargeError,
  TopicHistory,
  TopicPublisher,
  clockToleranceSecondsFromEnv,
  emitMetrics,
  historySettingsFromEnv,
  serviceScope,
  type LambdaContextLike,
  type Logger,
  type FanOutSummary,
  type MetricsTarget,
  type RemainingTime,
} from '@wskit/shared';
import { settingsFromEnv, type BroadcasterSettings } from './config';
import { parseSqsRecord, parseStreamRecord, RecordError, type Broadcast, type SqsRecordLike, type StreamRecordLike } from './records';

export { settingsFromEnv, streamMappingFromEnv, type BroadcasterSettings, type StreamMapping } from './config';
export { parseSqsRecord, parseStreamRecord, RecordError, type Broadcast } from './records';
export { fromImage, fromAttributeValue } from './attribute-value';

export interface BatchItemFailure {
  itemIdentifier: string;
}
export interface BatchResponse {
  batchItemFailures: BatchItemFailure[];
}

interface Item {
  /** SequenceNumber (streams) or messageId (SQS): what a failure is reported as. */
  id: string;
  source: 'sqs' | 'stream';
  broadcast?: Broadcast;
}

interface Job {
  id: string;
  job: FanOutJob;
}

export interface BroadcasterDependencies {
  /** A publisher whose sender honours the invocation's remaining time. */
  publisher: (context: RemainingTime | undefined) => TopicPublisher;
  settings: BroadcasterSettings;
  logger: Logger;
  metrics: MetricsTarget;
}

const SERVICE = 'wskit-broadcaster';
const scope = serviceScope(SERVICE);

let defaults: BroadcasterDependencies | undefined;

/** Module-scope store, history and sender settings, built at first use (not at init) from the environment. */
function dependenciesFromEnv(): BroadcasterDependencies {
  if (defaults) return defaults;
  const env = process.env;
  const settings = settingsFromEnv(env);
  const logger = scope.logger();
  const metrics = scope.metrics();
  const store = new ConnectionStore({ tableName: settings.tableName, logger });
  const history = new TopicHistory({ tableName: settings.tableName, settings: historySettingsFromEnv(env) });
  const clockToleranceSeconds = clockToleranceSecondsFromEnv(env);
  const stage = env.WSKIT_STAGE?.trim();
  const subscribers = new SubscriberCache({ tableName: settings.tableName });
  const publisher = (context: RemainingTime | undefined) => {
    const sender = MessageSender.forApi({ apiId: env.WSKIT_API_ID?.trim(), stage }, { store, logger, context, concurrency: settings.concurrency, metrics });
    const { queueUrl } = settings.fanOut;
    return new TopicPublisher({
      store,
      history,
      clockToleranceSeconds,
      logger,
      sender,
      subscribers,
      handoff: queueUrl ? { queue: new FanOutQueue({ queueUrl, region: sender.region, credentials: () => sender.credentials() }), settings: settings.fanOut } : undefined,
    });
  };
  defaults = { publisher, settings, logger, metrics };
  return defaults;
}

/** The shard job in an SQS record, undefined when its body is no job; FanOutJobError for a job that must not run. */
function fanOutJobOf(record: SqsRecordLike & { eventSourceARN?: unknown }, queueArn: string | undefined): FanOutJob | undefined {
  if (typeof record.body !== 'string' || !record.body.includes('"wskit.fanout"')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return undefined;
  }
  const job = parseFanOutJob(body);
  if (job && (queueArn === undefined || record.eventSourceARN !== queueArn)) {
    throw new FanOutJobError(`a fan-out job arrived from ${typeof record.eventSourceARN === 'string' ? record.eventSourceARN : 'an unknown source'}: jobs run only from the fan-out queue (WSKIT_FANOUT_QUEUE_ARN)`);
  }
  return job;
}

function identify(record: unknown): { id?: string; source?: 'sqs' | 'stream' } {
  if (record === null || typeof record !== 'object') return {};
  const r = record as { eventSource?: unknown; messageId?: unknown; dynamodb?: { SequenceNumber?: unknown } };
  if (r.eventSource === 'aws:sqs' || (typeof r.messageId === 'string' && r.dynamodb === undefined)) {
    return { id: typeof r.messageId === 'string' ? r.messageId : undefined, source: 'sqs' };
  }
  if (r.eventSource === 'aws:dynamodb' || r.dynamodb !== undefined) {
    const seq = r.dynamodb?.SequenceNumber;
    return { id: typeof seq === 'string' ? seq : undefined, source: 'stream' };
  }
  return {};
}

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Processes one batch with the given dependencies (the handler uses those from the environment). */
export async function processBatch(event: unknown, context: LambdaContextLike | undefined, deps: BroadcasterDependencies): Promise<BatchResponse> {
  const started = Date.now();
  const log = deps.logger.child({ requestId: context?.awsRequestId });
  const records = (event as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) {
    log.error('the event has no Records array: the broadcaster takes DynamoDB Streams and SQS events only');
    return { batchItemFailures: [] };
  }
  const failed = new Set<string>();
  const items: Item[] = [];
  const jobs: Job[] = [];
  let skipped = 0;
  let dropped = 0;
  const drop = (id: string, source: string, reason: string) => {
    dropped++;
    log.error('record dropped: it can never be published', { itemIdentifier: id, source, reason });
    emitMetrics(deps.metrics, { DroppedRecords: 1 }, { properties: { itemIdentifier: id, reason } });
  };
  for (const [index, record] of records.entries()) {
    const { id, source } = identify(record);
    if (!id || !source) {
      // Nothing to report it under; Lambda's own retry of the whole batch would not help.
      log.error('record is neither an SQS message nor a DynamoDB stream record, or has no id; dropped', { index });
      continue;
    }
    try {
      if (source === 'sqs') {
        const job = fanOutJobOf(record as SqsRecordLike, deps.settings.fanOut.queueArn);
        if (job) jobs.push({ id, job });
        else items.push({ id, source, broadcast: parseSqsRecord(record as SqsRecordLike) });
      } else {
        const parsed = parseStreamRecord(record as StreamRecordLike, deps.settings.mapping);
        if (parsed.kind === 'broadcast') items.push({ id, source, broadcast: parsed.broadcast });
        else skipped++;
      }
    } catch (error) {
      if (error instanceof RecordError || error instanceof FanOutJobError) drop(id, source, error.message);
      else {
        failed.add(id);
        log.error('record could not be read', { itemIdentifier: id, source, error });
      }
    }
  }

  const byTopic = new Map<string, Item[]>();
  for (const item of items) {
    const list = byTopic.get(item.broadcast!.topic) ?? [];
    list.push(item);
    byTopic.set(item.broadcast!.topic, list);
  }
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? (context as RemainingTime) : undefined;
  const publisher = byTopic.size > 0 || jobs.length > 0 ? deps.publisher(remaining) : undefined;
  const totals = { delivered: 0, gone: 0, failed: 0, retried: 0, recipients: 0, expired: 0, queued: 0 };
  const count = (summary: FanOutSummary, expired: number) => {
    totals.recipients += summary.total;
    totals.delivered += summary.delivered;
    totals.gone += summary.gone;
    totals.failed += summary.failed;
    totals.retried += summary.retried;
    totals.expired += expired;
  };
  // Retrying helps only when some recipient failed for a reason that can pass.
  const worthRetrying = (summary: FanOutSummary) => summary.failures.some((f) => f.retryable !== false) || summary.failed > summary.failures.length;

  // Shard jobs: one fan-out each, at the same time (each keeps to its part of the quota).
  // Recipients that failed for a reason that can pass are queued again on their own (a later
  // attempt, after a delay), so the rest of the shard is not sent the message twice; only
  // when that is not possible is the whole job reported failed for SQS to run again.
  await Promise.all(
    jobs.map(async ({ id, job }) => {
      const where = { itemIdentifier: id, topic: job.topic, seq: job.seq, shard: job.shard, attempt: job.attempt ?? 0 };
      try {
        const { summary, expired, retry } = await publisher!.deliverShard(job, shardPace(job.shards, deps.settings.fanOut));
        count(summary, expired);
        emitMetrics(deps.metrics, { ShardDeliveryLatency: Date.now() - job.queuedAt }, { units: { ShardDeliveryLatency: 'Milliseconds' }, properties: { topic: job.topic, seq: job.seq, shard: job.shard } });
        if (retry.length === 0) return;
        if (await publisher!.retryShard(job, retry)) {
          log.warn('some recipients of the shard did not get the message; they are queued again', { ...where, retrying: retry.length });
        } else if ((job.attempt ?? 0) + 1 >= MAX_SHARD_ATTEMPTS) {
          log.error('some recipients of the shard did not get the message after every attempt; their clients recover it from history', { ...where, missed: retry.length });
          emitMetrics(deps.metrics, { ShardRecipientsMissed: retry.length }, { properties: { topic: job.topic, seq: job.seq } });
        } else {
          failed.add(id);
          log.warn('some recipients of the shard did not get the message; the job is reported failed so it is retried', { ...where, failed: retry.length });
        }
      } catch (error) {
        failed.add(id);
        log.error('shard job failed; it is reported failed so it is retried', { ...where, error });
      }
    }),
  );

  await runLimited([...byTopic], deps.settings.topicConcurrency, async ([topic, topicItems]) => {
    // Too large to ever be sent: dropped before anything is written.
    const publishable = topicItems.filter((item) => {
      try {
        publisher!.checkSize({ topic, data: item.broadcast!.data, mid: item.broadcast!.mid, ts: item.broadcast!.ts });
        return true;
      } catch (error) {
        if (!(error instanceof PayloadTooLargeError)) throw error;
        drop(item.id, item.source, error.message);
        return false;
      }
    });
    const outcomes = await publisher!.publishMany(
      topic,
      publishable.map(({ broadcast }) => ({ data: broadcast!.data, mid: broadcast!.mid, ts: broadcast!.ts })),
    );
    outcomes.forEach((outcome, index) => {
      const item = publishable[index]!;
      if ('error' in outcome) {
        failed.add(item.id);
        log.error('publish failed; the record is reported failed so it is retried', { itemIdentifier: item.id, topic, mid: item.broadcast!.mid, error: outcome.error });
        return;
      }
      const { summary } = outcome;
      if (!summary) {
        totals.queued++;
        return;
      }
      count(summary, outcome.expired);
      if (worthRetrying(summary)) {
        failed.add(item.id);
        log.warn('some subscribers did not get the message; the record is reported failed so it is retried', {
          itemIdentifier: item.id, topic, mid: outcome.mid, seq: outcome.seq, failed: summary.failed, sample: summary.failures.slice(0, 3).map((f) => f.errorName),
        });
      }
    });
  });

  // Report in record order (Lambda retries a stream from the lowest failed sequence number).
  const batchItemFailures = records.map((r) => identify(r).id).filter((id): id is string => id !== undefined && failed.has(id));
  const unique = [...new Set(batchItemFailures)].map((itemIdentifier) => ({ itemIdentifier }));
  log.info('batch done', {
    records: records.length, broadcasts: items.length, shardJobs: jobs.length, skipped, dropped, topics: byTopic.size, failedRecords: unique.length, ...totals, durationMs: Date.now() - started,
  });
  return { batchItemFailures: unique };
}

/** The Lambda handler: `index.handler`. An unexpected error fails the batch (Lambda retries it) and counts as `Faults`. */
export async function handler(event: unknown, context?: LambdaContextLike): Promise<BatchResponse> {
  try {
    return await runInvocationTrace(() => processBatch(event, context, dependenciesFromEnv()));
  } catch (error) {
    scope.logger().error(`${SERVICE} failed; the batch is retried`, { requestId: context?.awsRequestId, error });
    try {
      emitMetrics(scope.metrics(), { Faults: 1 });
    } catch {
      // A broken metrics setting is already in the error above.
    }
    throw error;
  }
}
