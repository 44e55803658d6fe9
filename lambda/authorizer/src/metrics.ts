/**
 * One CloudWatch Embedded Metric Format line per invocation, on stdout, so an alarm can
 * tell a fault from a refused token. Every refusal makes the authorizer throw
 * `Unauthorized` (the only way to get a 401), which Lambda counts as an error: the Lambda
 * Errors metric mixes bad tokens with real faults, these metrics do not.
 *
 * Dimensions: [["Service"]] only. Nothing per user or per reason is a dimension; `reason`
 * is a plain property of the line (searchable in Logs Insights, not a metric).
 */

/** The service name in log lines and the metrics' Service dimension. */
export const SERVICE = 'wskit-authorizer';

/** The metric names, kept exactly: alarms and dashboards look them up. */
export const AUTHORIZER_METRICS = ['Allowed', 'Refused', 'JwksUnavailable', 'Faults'] as const;
export type AuthorizerMetric = (typeof AUTHORIZER_METRICS)[number];

export type Outcome =
  /** Allow policy returned. */
  | { kind: 'allowed' }
  /** The caller's token was refused (401). */
  | { kind: 'refused'; reason: string }
  /** Refused (401) because no JWKS could be fetched and no usable cached key existed. */
  | { kind: 'jwks-unavailable'; reason: string }
  /** An unexpected error on the catch-all path, answered 401. */
  | { kind: 'fault'; reason: string }
  /** The deployment's configuration is broken: the invocation fails (API Gateway answers 500). */
  | { kind: 'config-error'; reason: string };

/** The count of each metric for one outcome (see the README's table). */
export function countsOf(outcome: Outcome): Record<AuthorizerMetric, 0 | 1> {
  return {
    Allowed: outcome.kind === 'allowed' ? 1 : 0,
    Refused: outcome.kind === 'refused' || outcome.kind === 'jwks-unavailable' || outcome.kind === 'fault' ? 1 : 0,
    JwksUnavailable: outcome.kind === 'jwks-unavailable' ? 1 : 0,
    Faults: outcome.kind === 'fault' || outcome.kind === 'config-error' ? 1 : 0,
  };
}

export function metricsLine(namespace: string, outcome: Outcome, timestamp = Date.now()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [['Service']],
          Metrics: AUTHORIZER_METRICS.map((name) => ({ Name: name, Unit: 'Count' })),
        },
      ],
    },
    Service: SERVICE,
    ...(outcome.kind === 'allowed' ? {} : { reason: outcome.reason }),
    ...countsOf(outcome),
  });
}

export type MetricsWriter = (line: string) => void;

/** stdout, one line each: the Lambda runtime hands stdout to CloudWatch Logs, which extracts EMF. */
export const writeStdout: MetricsWriter = (line) => {
  process.stdout.write(`${line}\n`);
};
