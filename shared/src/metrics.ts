/**
 * CloudWatch Embedded Metric Format: one JSON line on stdout per event worth counting, which
 * Lambda ships to CloudWatch Logs and CloudWatch turns into metrics. Every wskit metric has
 * the dimension `Service` (`wskit-<function>`), in the namespace WSKIT_METRICS_NAMESPACE
 * (Terraform sets `wskit/<name>`, where its alarms look). Extra dimensions must stay bounded
 * (an environment, a client version), never a user, a connection or a topic.
 */

export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes' | 'None';

export interface MetricsTarget {
  /** CloudWatch namespace. */
  namespace: string;
  /** Value of the `Service` dimension, e.g. `wskit-broadcaster`. */
  service: string;
  /** Where the line goes. Default: process.stdout (Lambda ships it to CloudWatch Logs). */
  write?: (line: string) => void;
}

export interface MetricsLineOptions {
  /** Unit per metric name; Count when not given. */
  units?: Record<string, MetricUnit>;
  /**
   * Bounded extra dimensions. The line then carries two dimension sets: `Service` alone (what
   * alarms watch: an alarm needs exact dimensions) and `Service` with these.
   */
  dimensions?: Record<string, string>;
  /** Searchable properties of the line that are not metrics (e.g. a message id). */
  properties?: Record<string, unknown>;
  timestamp?: number;
}

export function metricsLine(target: MetricsTarget, values: Record<string, number>, options: MetricsLineOptions = {}): string {
  const dimensions = options.dimensions ?? {};
  return JSON.stringify({
    _aws: {
      Timestamp: options.timestamp ?? Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: target.namespace,
          Dimensions: Object.keys(dimensions).length > 0 ? [['Service'], ['Service', ...Object.keys(dimensions)]] : [['Service']],
          Metrics: Object.keys(values).map((name) => ({ Name: name, Unit: options.units?.[name] ?? 'Count' })),
        },
      ],
    },
    ...options.properties,
    ...dimensions,
    Service: target.service,
    ...values,
  });
}

export function emitMetrics(target: MetricsTarget, values: Record<string, number>, options: MetricsLineOptions = {}): void {
  const line = metricsLine(target, values, options);
  if (target.write) target.write(line);
  else process.stdout.write(`${line}\n`);
}
