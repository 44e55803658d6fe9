/**
 * `npm start -- --example ops-dashboard`: DynamoDB Local (started here, stopped on exit), the
 * metrics table with its stream, the coalescer reading that stream the way its Lambda event
 * source mapping does (the gateway's stream poller, one batch a second) and publishing one
 * METRICS_UPDATE per service per batch through the gateway's /dev/publish (the broadcaster's
 * SQS path), the gateway serving the dashboard, and the fleet simulator.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { startGateway, startStreamPoller } from '@wskit/local';
import {
  Teardown,
  buildPage,
  ensureTable,
  localDynamoClient,
  startDynamoDbLocal,
  withoutMetricLines,
  type ExampleOptions,
  type RunningExample,
} from '@wskit/example-dev-stack';
import { createHandler, type StreamEvent } from './handler';
import { METRICS_TOPIC_PREFIX, SERVICES, TTL_ATTRIBUTE, metricsTableDefinition } from './model';
import { DevPublishPublisher } from './publishers';
import { MetricsSimulator, type MetricsSimulatorOptions } from './simulator';

const exampleDir = path.resolve(__dirname, '..');

export interface OpsOptions extends ExampleOptions {
  /** The metrics table's name (default `opsdash-metrics`). */
  tableName?: string;
  simulator?: Omit<MetricsSimulatorOptions, 'client' | 'table'>;
  /**
   * The coalescer's batching window, ms (default 1000: one update per service per second), as
   * the mapping's maximum_batching_window_in_seconds = 1 does in AWS.
   */
  batchWindowMs?: number;
}

export interface RunningOps extends RunningExample {
  readonly simulator: MetricsSimulator;
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
}

export async function start(options: OpsOptions = {}): Promise<RunningOps> {
  const log = options.log ?? (() => undefined);
  const teardown = new Teardown();
  return teardown.guard(async () => {
    let endpoint = options.gateway?.dynamodbEndpoint;
    let storage = endpoint ?? '';
    if (!endpoint) {
      log('starting DynamoDB Local (the examples need DynamoDB Streams)');
      const local = await startDynamoDbLocal();
      teardown.push('DynamoDB Local', () => local.stop());
      endpoint = local.endpoint;
      storage = `DynamoDB Local on ${endpoint} (in memory, stopped with this process)`;
    }
    const ddb = localDynamoClient(endpoint);
    teardown.push('DynamoDB client', () => ddb.destroy());
    const tableName = options.tableName ?? 'opsdash-metrics';
    await ensureTable(ddb, metricsTableDefinition(tableName), TTL_ATTRIBUTE);

    const page = await buildPage(path.join(exampleDir, 'web'), path.join(exampleDir, 'dist', 'page'));
    log(`page bundled: ${(page.bytes / 1024).toFixed(0)} KiB (app.js, minified)`);

    const base = options.gateway ?? {};
    const gateway = await startGateway({
      ...base,
      dynamodbEndpoint: endpoint,
      logLevel: base.logLevel ?? 'WARN',
      functionLogs: base.functionLogs === true ? withoutMetricLines : base.functionLogs,
      publicTopicPrefixes: [...new Set([...(base.publicTopicPrefixes ?? []), METRICS_TOPIC_PREFIX])],
      pageDir: page.dir,
    });
    teardown.push('gateway', () => gateway.stop());

    // The coalescer, fed as its event source mapping would feed it in AWS.
    const coalescer = createHandler(new DevPublishPublisher(`${gateway.httpUrl}/dev/publish`), (line) => {
      if (!line.includes('"level":"INFO"')) log(`coalescer: ${line}`);
    });
    const poller = await startStreamPoller({
      tableName,
      endpoint,
      region: gateway.region,
      startingPosition: 'LATEST',
      batchSize: 1000,
      maxRetries: 3,
      pollIntervalMs: 250,
      batchWindowMs: options.batchWindowMs ?? 1000,
      invoke: async (event) => {
        const started = Date.now();
        try {
          const result = await coalescer(event as StreamEvent);
          return { ok: true, result, awsRequestId: randomUUID(), durationMs: Date.now() - started };
        } catch (error) {
          return { ok: false, error: { errorType: (error as Error).name, errorMessage: (error as Error).message }, awsRequestId: randomUUID(), durationMs: Date.now() - started };
        }
      },
      log: (entry) => log(`coalescer stream: ${JSON.stringify(entry)}`),
    });
    teardown.push('coalescer stream poller', () => poller.stop());

    const simulator = new MetricsSimulator({
      ...options.simulator,
      client: ddb,
      table: tableName,
      onError: options.simulator?.onError ?? ((error) => log(`simulator: write failed: ${error.message}`)),
    });
    simulator.start();
    teardown.push('simulator', () => simulator.stop());

    const pageUrl = `${gateway.httpUrl}/`;
    const services = options.simulator?.services ?? SERVICES;
    return {
      gateway,
      pageUrl,
      simulator,
      dynamodbEndpoint: endpoint,
      tableName,
      lines: [
        'wskit example: IOps dashboard, live service metrics',
        `  Open           ${pageUrl}  and sign in as anyone`,
        `  Topics         metrics:<service> (public): ${services.join(', ')}`,
        `  App table      ${tableName}: stream -> coalescer (one METRICS_UPDATE per service per batch) -> /dev/publish -> broadcaster`,
        `  App DynamoDB   ${storage}`,
        `  Simulator      ${services.length * 4} samples every ${options.simulator?.intervalMs ?? 250} ms; an incident every ${(options.simulator?.incidentEveryMs ?? 90_000) / 1000} s`,
      ],
      stop: () => teardown.run(),
    };
  });
}
