/**
 * @wskit/broadcaster: DynamoDB Streams records (from any application table) and SQS
 * messages -> topic fan-out to WebSocket subscribers.
 *
 * Per batch: records are parsed (a bad one is reported failed, never crashes the batch),
 * grouped by topic, each topic's subscribers are read once with a paginated Query, and each
 * record is pushed to them in order with MessageSender.fanOut. The result reports partial
 * batch failures (`batchItemFailures`, itemIdentifier = SequenceNumber for streams and
 * messageId for SQS), so only failed records come back. Needs ReportBatchItemFailures on
 * the event source mapping.
 */
import {
  ConnectionStore,
  MessageSender,
  createLogger,
  type LambdaContextLike,
  type Logger,
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

export interface BroadcasterDependencies {
  store: ConnectionStore;
  sender: (context: RemainingTime | undefined) => MessageSender;
  settings: BroadcasterSettings;
  logger: Logger;
}

const baseLogger = createLogger('wskit-broadcaster');

let defaults: { key: string; deps: BroadcasterDependencies } | undefined;

/** Module-scope store and sender settings, built at first use (not at init) from the environment. */
function dependenciesFromEnv(): BroadcasterDependencies {
  const env = process.env;
  const key = [
    'WSKIT_TABLE_NAME', 'WSKIT_CALLBACK_URL', 'WSKIT_API_ID', 'WSKIT_STAGE', 'AWS_REGION', 'WSKIT_STREAM_TOPIC_ATTRIBUTE',
    'WSKIT_STREAM_TOPIC_TEMPLATE', 'WSKIT_STREAM_DATA_ATTRIBUTE', 'WSKIT_STREAM_EVENT_NAMES', 'WSKIT_FANOUT_CONCURRENCY',
    'WSKIT_TOPIC_CONCURRENCY', 'WSKIT_METRICS_NAMESPACE', 'AWS_ENDPOINT_URL_DYNAMODB',
  ].map((name) => env[name] ?? '').join('\u0000');
  if (defaults?.key === key) return defaults.deps;
  const settings = settingsFromEnv(env);
  const store = new ConnectionStore({ tableName: settings.tableName, logger: baseLogger });
  const stage = env.WSKIT_STAGE?.trim();
  const sender = (context: RemainingTime | undefined) =>
    MessageSender.forApi(
      { apiId: env.WSKIT_API_ID?.trim(), stage },
      {
        store,
        logger: baseLogger,
        context,
        concurrency: settings.concurrency,
        metrics: { namespace: settings.metricsNamespace, service: 'wskit-broadcaster' },
      },
    );
  const deps = { store, sender, settings, logger: baseLogger };
  defaults = { key, deps };
  return deps;
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
  let skipped = 0;
  for (const [index, record] of records.entries()) {
    const { id, source } = identify(record);
    if (!id || !source) {
      // Nothing to report it under; Lambda's own retry of the whole batch would not help.
      log.error('record is neither an SQS message nor a DynamoDB stream record, or has no id; dropped', { index });
      continue;
    }
    try {
      if (source === 'sqs') {
        items.push({ id, source, broadcast: parseSqsRecord(record as SqsRecordLike) });
      } else {
        const parsed = parseStreamRecord(record as StreamRecordLike, deps.settings.mapping);
        if (parsed.kind === 'broadcast') items.push({ id, source, broadcast: parsed.broadcast });
        else skipped++;
      }
    } catch (error) {
      failed.add(id);
      log.error('record refused', { itemIdentifier: id, source, reason: error instanceof RecordError ? error.message : String(error) });
    }
  }

  // One subscribers Query per topic per batch, however many records target it.
  const byTopic = new Map<string, Item[]>();
  for (const item of items) {
    const list = byTopic.get(item.broadcast!.topic) ?? [];
    list.push(item);
    byTopic.set(item.broadcast!.topic, list);
  }
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? (context as RemainingTime) : undefined;
  const sender = byTopic.size > 0 ? deps.sender(remaining) : undefined;
  const totals = { delivered: 0, gone: 0, failed: 0, retried: 0, recipients: 0 };

  await runLimited([...byTopic], deps.settings.topicConcurrency, async ([topic, topicItems]) => {
    let audience: string[];
    try {
      audience = [];
      for await (const page of deps.store.subscribers(topic)) for (const s of page) audience.push(s.connectionId);
    } catch (error) {
      for (const item of topicItems) failed.add(item.id);
      log.error('could not read the subscribers of a topic; its records are reported failed', { topic, error });
      return;
    }
    totals.recipients += audience.length;
    for (const item of topicItems) {
      const { mid, ts, data } = item.broadcast!;
      const payload = JSON.stringify({ type: 'message', topic, data, mid, ts });
      if (audience.length === 0) continue;
      const gone = new Set<string>();
      try {
        const summary = await sender!.fanOut(audience, payload, {
          topic,
          metricProperties: { mid, source: item.source },
          onResult: (r) => {
            if (r.status === 'gone') gone.add(r.connectionId);
          },
        });
        totals.delivered += summary.delivered;
        totals.gone += summary.gone;
        totals.failed += summary.failed;
        totals.retried += summary.retried;
        // Retrying helps only when some recipient failed for a reason that can pass.
        if (summary.failures.some((f) => f.retryable !== false) || summary.failed > summary.failures.length) {
          failed.add(item.id);
          log.warn('some subscribers did not get the message; the record is reported failed so it is retried', {
            itemIdentifier: item.id, topic, mid, failed: summary.failed, sample: summary.failures.slice(0, 3).map((f) => f.errorName),
          });
        }
      } catch (error) {
        failed.add(item.id);
        log.error('fan-out failed', { itemIdentifier: item.id, topic, mid, error: error instanceof Error ? { name: error.name, message: error.message } : String(error) });
      }
      if (gone.size > 0) audience = audience.filter((id) => !gone.has(id));
    }
  });

  // Report in record order (Lambda retries a stream from the lowest failed sequence number).
  const batchItemFailures = records.map((r) => identify(r).id).filter((id): id is string => id !== undefined && failed.has(id));
  const unique = [...new Set(batchItemFailures)].map((itemIdentifier) => ({ itemIdentifier }));
  log.info('batch done', {
    records: records.length, broadcasts: items.length, skipped, topics: byTopic.size, failedRecords: unique.length, ...totals, durationMs: Date.now() - started,
  });
  return { batchItemFailures: unique };
}

/** The Lambda handler: `index.handler`. */
export async function handler(event: unknown, context?: LambdaContextLike): Promise<BatchResponse> {
  return processBatch(event, context, dependenciesFromEnv());
}
