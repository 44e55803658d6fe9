/**
 * IOps dashboard's data: one metrics table, one item per sample.
 *
 *   metrics   service (hash), sk = <ts, 13 digits>#<metric> (range)
 *             service, metric, value, ts (epoch ms), expiresAt (TTL, one hour)
 *
 * The stream carries every sample; the coalescer turns each stream batch into one
 * METRICS_UPDATE per service, published on `metrics:<service>`.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const METRICS_TOPIC_PREFIX = 'metrics:';
export const metricsTopic = (service: string) => `${METRICS_TOPIC_PREFIX}${service}`;

export const SERVICES = ['checkout', 'search', 'payments', 'auth'] as const;
/** requests: requests in the sample's second; latency in ms; errors: failed requests in that second. */
export const METRICS = ['requests', 'latency_p50', 'latency_p99', 'errors'] as const;
export type MetricName = (typeof METRICS)[number];

export interface MetricSample {
  service: string;
  metric: string;
  value: number;
  ts: number;
}

export interface MetricPoint {
  metric: string;
  value: number;
  ts: number;
}

/** One push per topic per stream batch: every sample of the batch for that service. */
export interface MetricsUpdate {
  type: 'METRICS_UPDATE';
  service: string;
  /** Samples coalesced into this update. */
  records: number;
  /** Earliest and latest sample time in it. */
  from: number;
  to: number;
  /** Every sample, in stream order. */
  points: MetricPoint[];
  /** The newest value of each metric in the batch. */
  latest: Record<string, { value: number; ts: number }>;
}

export const TTL_ATTRIBUTE = 'expiresAt';
export const sortKey = (ts: number, metric: string) => `${String(ts).padStart(13, '0')}#${metric}`;

export function metricsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'service', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'service', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  };
}

/** Where a service stops looking healthy on the dashboard. */
export const THRESHOLDS = { latencyP99Ms: 800, errorRatePct: 5 };
