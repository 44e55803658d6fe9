/**
 * The coalescing step: a DynamoDB stream batch of metric samples becomes one METRICS_UPDATE
 * per service. Pure: no I/O, so the Lambda handler and the tests share it.
 */
import { metricsTopic, type MetricSample, type MetricsUpdate } from './model';

/** The part of a Lambda DynamoDB stream record the coalescer reads. */
export interface StreamRecord {
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, { S?: string; N?: string }>; SequenceNumber?: string };
}

export interface Coalesced {
  topic: string;
  data: MetricsUpdate;
  /** The stream records the update carries (reported failed together if its publish fails). */
  sequenceNumbers: string[];
}

export interface CoalesceResult {
  updates: Coalesced[];
  /** Records that are not metric samples (logged and dropped: retrying cannot fix them). */
  skipped: Array<{ sequenceNumber: string | undefined; reason: string }>;
}

/** A sample from a stream record's new image, or why it is not one. */
export function sampleOf(record: StreamRecord): MetricSample | string {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return `event ${String(record.eventName)} is not a new sample`;
  const image = record.dynamodb?.NewImage;
  if (!image) return 'no NewImage (the stream needs NEW_IMAGE or NEW_AND_OLD_IMAGES)';
  const service = image.service?.S;
  const metric = image.metric?.S;
  const value = Number(image.value?.N);
  const ts = Number(image.ts?.N);
  if (!service || !/^[A-Za-z0-9_.-]{1,64}$/.test(service)) return 'service is missing or not a plain name';
  if (!metric) return 'metric is missing';
  if (image.value?.N === undefined || !Number.isFinite(value)) return 'value is missing or not a number';
  if (image.ts?.N === undefined || !Number.isFinite(ts)) return 'ts is missing or not a number';
  return { service, metric, value, ts };
}

/**
 * Groups the batch by service, in stream order. `maxPoints` bounds one update (a message must
 * stay well under wskit's 128 KB); a service with more samples in one batch gets several.
 */
export function coalesce(records: readonly StreamRecord[], maxPoints = 500): CoalesceResult {
  const byService = new Map<string, { samples: MetricSample[]; sequenceNumbers: string[] }>();
  const skipped: CoalesceResult['skipped'] = [];
  for (const record of records) {
    const sample = sampleOf(record);
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (typeof sample === 'string') {
      skipped.push({ sequenceNumber, reason: sample });
      continue;
    }
    let group = byService.get(sample.service);
    if (!group) byService.set(sample.service, (group = { samples: [], sequenceNumbers: [] }));
    group.samples.push(sample);
    if (sequenceNumber !== undefined) group.sequenceNumbers.push(sequenceNumber);
  }
  const updates: Coalesced[] = [];
  for (const [service, group] of byService) {
    for (let start = 0; start < group.samples.length; start += maxPoints) {
      const samples = group.samples.slice(start, start + maxPoints);
      // Metric names come from the table: a Map, so `toString` or `__proto__` is a name like any.
      const latest = new Map<string, { value: number; ts: number }>();
      for (const { metric, value, ts } of samples) {
        const seen = latest.get(metric);
        if (!seen || ts >= seen.ts) latest.set(metric, { value, ts });
      }
      updates.push({
        topic: metricsTopic(service),
        data: {
          type: 'METRICS_UPDATE',
          service,
          records: samples.length,
          from: Math.min(...samples.map((s) => s.ts)),
          to: Math.max(...samples.map((s) => s.ts)),
          points: samples.map(({ metric, value, ts }) => ({ metric, value, ts })),
          latest: Object.fromEntries(latest) as MetricsUpdate['latest'],
        },
        sequenceNumbers: group.sequenceNumbers.slice(start, start + maxPoints),
      });
    }
  }
  return { updates, skipped };
}
