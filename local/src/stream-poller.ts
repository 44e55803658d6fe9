/**
 * A DynamoDB Streams poller that feeds a function the way a Lambda event source mapping
 * does: per shard, GetRecords batches become `{ Records: [...] }` events in the Lambda shape
 * (eventID, eventName, eventSource "aws:dynamodb", dynamodb.{Keys, NewImage, OldImage,
 * SequenceNumber, SizeBytes, StreamViewType, ApproximateCreationDateTime in epoch seconds},
 * eventSourceARN). With ReportBatchItemFailures semantics: when the function reports
 * failures, the shard resumes at the lowest failed sequence number; a batch that keeps
 * failing is retried `maxRetries` times, then skipped (logged), like MaximumRetryAttempts
 * with no on-failure destination. A function error retries the whole batch the same way.
 *
 * DynamoDB Local serves streams; dynalite does not.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { InvokeOutcome } from './lambda-host';

export interface StreamSource {
  /** The application table whose stream feeds the function (stream enabled, with images). */
  tableName: string;
  /** Where a new poller starts reading: LATEST (default) or TRIM_HORIZON. */
  startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  /** Records per event; default 100. */
  batchSize?: number;
  /** Retries of a failing batch before it is skipped; default 3. */
  maxRetries?: number;
  /** Pause between polls of an idle shard; default 250 ms. */
  pollIntervalMs?: number;
  /**
   * Like the mapping's MaximumBatchingWindowInSeconds: once records arrive, keep reading for up
   * to this long (or until `batchSize`) before invoking, so one event carries them all; default 0.
   */
  batchWindowMs?: number;
}

export interface StreamPoller {
  stop(): Promise<void>;
  /** Batches handed to the function so far (tests). */
  readonly batches: number;
}

interface Options extends StreamSource {
  endpoint: string;
  region: string;
  invoke: (event: unknown) => Promise<InvokeOutcome>;
  log?: (entry: Record<string, unknown>) => void;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** SDK AttributeValues back to the JSON shape Lambda delivers (binary as base64 text). */
function toLambdaShape(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toLambdaShape);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toLambdaShape(v)]));
  }
  return value;
}

export function lambdaStreamRecord(record: StreamRecord, streamArn: string, region: string): Record<string, unknown> {
  const d = record.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? region,
    dynamodb: toLambdaShape({
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : created,
      Keys: d.Keys,
      NewImage: d.NewImage,
      OldImage: d.OldImage,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    }),
    eventSourceARN: streamArn,
  };
}

export async function startStreamPoller(options: Options): Promise<StreamPoller> {
  const ddb = new DynamoDBClient({ endpoint: options.endpoint, region: options.region, credentials });
  const streams = new DynamoDBStreamsClient({ endpoint: options.endpoint, region: options.region, credentials });
  const log = options.log ?? (() => undefined);
  const { Table } = await ddb.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = Table?.LatestStreamArn;
  if (!streamArn || !Table?.StreamSpecification?.StreamEnabled) {
    ddb.destroy();
    streams.destroy();
    throw new Error(`table ${options.tableName} has no stream: enable one (StreamViewType NEW_AND_OLD_IMAGES) to feed the broadcaster`);
  }
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maxRetries ?? 3;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const batchWindowMs = options.batchWindowMs ?? 0;
  let stopped = false;
  let batches = 0;
  const running = new Map<string, Promise<void>>();

  async function iteratorAt(shardId: string, type: 'LATEST' | 'TRIM_HORIZON' | 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER', seq?: string) {
    const out = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: type, SequenceNumber: seq }));
    return out.ShardIterator;
  }

  async function pollShard(shardId: string, startType: 'LATEST' | 'TRIM_HORIZON'): Promise<void> {
    let iterator: string | undefined;
    let lastDone: string | undefined; // last sequence number handed over successfully (or skipped)
    let failing: { seq: string; attempts: number } | undefined;
    const freshIterator = () => (lastDone ? iteratorAt(shardId, 'AFTER_SEQUENCE_NUMBER', lastDone) : iteratorAt(shardId, startType));
    while (!stopped) {
      let out;
      try {
        iterator ??= await freshIterator();
        if (!iterator) return; // the shard is closed and read to its end
        out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }));
      } catch (error) {
        // Expired iterators, and DynamoDB Local's TrimmedDataAccessException on a shard with
        // nothing in it yet: start again from the last record handed over.
        if (stopped) return;
        log({ event: 'stream-read-retry', shardId, error: (error as Error).name });
        iterator = undefined;
        await sleep(pollIntervalMs);
        continue;
      }
      const records = out.Records ?? [];
      let next = out.NextShardIterator;
      if (records.length > 0 && batchWindowMs > 0) {
        // The batching window: gather what arrives until it closes or the batch is full.
        const closes = Date.now() + batchWindowMs;
        while (next && records.length < batchSize && !stopped && Date.now() < closes) {
          await sleep(Math.min(pollIntervalMs, closes - Date.now()));
          try {
            const more = await streams.send(new GetRecordsCommand({ ShardIterator: next, Limit: batchSize - records.length }));
            records.push(...(more.Records ?? []));
            next = more.NextShardIterator;
          } catch {
            next = undefined; // hand over what we have; the next read starts after it
            break;
          }
        }
      }
      if (records.length === 0) {
        iterator = out.NextShardIterator;
        if (!iterator) return;
        await sleep(pollIntervalMs);
        continue;
      }
      batches++;
      const outcome = await options.invoke({ Records: records.map((r) => lambdaStreamRecord(r, streamArn!, options.region)) });
      let resumeAt: string | undefined;
      if (!outcome.ok) {
        resumeAt = records[0]!.dynamodb!.SequenceNumber;
        log({ event: 'stream-batch-error', shardId, error: `${outcome.error.errorType}: ${outcome.error.errorMessage}` });
      } else {
        const failures = ((outcome.result as { batchItemFailures?: Array<{ itemIdentifier?: unknown }> } | undefined)?.batchItemFailures ?? [])
          .map((f) => String(f.itemIdentifier))
          .filter((id) => records.some((r) => r.dynamodb?.SequenceNumber === id));
        // Sequence numbers are decimal digit strings: compare them as integers.
        resumeAt = failures.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0))[0];
      }
      if (resumeAt === undefined) {
        failing = undefined;
        lastDone = records[records.length - 1]!.dynamodb!.SequenceNumber;
        iterator = next;
        continue;
      }
      // Records before the lowest failure are done.
      const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === resumeAt);
      if (index > 0) lastDone = records[index - 1]!.dynamodb!.SequenceNumber;
      failing = failing?.seq === resumeAt ? { seq: resumeAt, attempts: failing.attempts + 1 } : { seq: resumeAt, attempts: 1 };
      if (failing.attempts > maxRetries) {
        log({ event: 'stream-record-skipped', shardId, sequenceNumber: resumeAt, attempts: failing.attempts });
        failing = undefined;
        lastDone = resumeAt;
      } else {
        log({ event: 'stream-batch-retry', shardId, sequenceNumber: resumeAt, attempt: failing.attempts });
        await sleep(Math.min(1000, 50 * 2 ** failing.attempts));
      }
      iterator = undefined; // re-read from just after lastDone: the failed record comes first
    }
  }

  // Shards are discovered now and then again (DynamoDB opens new ones over time).
  const discover = async (startType: 'LATEST' | 'TRIM_HORIZON') => {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      const id = shard.ShardId!;
      if (running.has(id)) continue;
      running.set(
        id,
        pollShard(id, startType).catch((error: unknown) => {
          if (!stopped) log({ event: 'stream-shard-error', shardId: id, error: (error as Error).message });
        }),
      );
    }
  };
  await discover(options.startingPosition ?? 'LATEST');
  const rediscover = setInterval(() => {
    // Shards found later are read from their start: nothing written to them is missed.
    discover('TRIM_HORIZON').catch((error: unknown) => log({ event: 'stream-describe-error', error: (error as Error).message }));
  }, 5000);
  rediscover.unref();

  return {
    get batches() {
      return batches;
    },
    async stop() {
      stopped = true;
      clearInterval(rediscover);
      await Promise.all(running.values());
      ddb.destroy();
      streams.destroy();
    },
  };
}
