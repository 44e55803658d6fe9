/**
 * `npm start -- --example stocks`: DynamoDB Local (started here, stopped on exit), the two
 * application tables with streams, the local gateway reading both streams into its one
 * broadcaster and serving the page, and the market simulator writing to the tables.
 */
import * as path from 'node:path';
import { startGateway } from '@wskit/local';
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
import { MarketSimulator, type SimulatorOptions } from './simulator';
import { ALERT_TTL_ATTRIBUTE, SYMBOLS, STOCK_TOPIC_PREFIX, tableDefinitions, tableNames } from './model';

const exampleDir = path.resolve(__dirname, '..');

export interface StocksOptions extends ExampleOptions {
  /** Prefix of the two tables' names (default `stockpicker-`). */
  tablePrefix?: string;
  /** Simulator settings (rates, thresholds); the tables and client are the example's. */
  simulator?: Omit<SimulatorOptions, 'client' | 'tables'>;
  /** How often the gateway polls each stream when it is idle, ms (default 100). */
  streamPollIntervalMs?: number;
}

export interface RunningStocks extends RunningExample {
  readonly simulator: MarketSimulator;
  readonly dynamodbEndpoint: string;
  readonly tables: { prices: string; portfolios: string };
}

export async function start(options: StocksOptions = {}): Promise<RunningStocks> {
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
    const tables = tableNames(options.tablePrefix ?? 'stockpicker-');
    for (const definition of tableDefinitions(tables)) {
      await ensureTable(ddb, definition, definition.TableName === tables.portfolios ? ALERT_TTL_ATTRIBUTE : undefined);
    }

    const page = await buildPage(path.join(exampleDir, 'web'), path.join(exampleDir, 'dist', 'page'));
    log(`page bundled: ${(page.bytes / 1024).toFixed(0)} KiB (app.js, minified)`);

    const pollIntervalMs = options.streamPollIntervalMs ?? 100;
    const base = options.gateway ?? {};
    const gateway = await startGateway({
      ...base,
      dynamodbEndpoint: endpoint,
      // The broadcaster logs every batch at INFO and writes an EMF metrics line per fan-out:
      // several a second here. Its warnings and errors still show.
      logLevel: base.logLevel ?? 'WARN',
      functionLogs: base.functionLogs === true ? withoutMetricLines : base.functionLogs,
      // Anyone signed in may follow prices; user:<sub> is always the user's own.
      publicTopicPrefixes: [...new Set([...(base.publicTopicPrefixes ?? []), STOCK_TOPIC_PREFIX])],
      pageDir: page.dir,
      // Both tables feed the one broadcaster; each item carries its topic (attribute `topic`).
      streamSources: [
        { tableName: tables.prices, startingPosition: 'LATEST', batchSize: 100, pollIntervalMs },
        { tableName: tables.portfolios, startingPosition: 'LATEST', batchSize: 100, pollIntervalMs },
      ],
    });
    teardown.push('gateway', () => gateway.stop());

    const simulator = new MarketSimulator({
      ...options.simulator,
      client: ddb,
      tables,
      onError: options.simulator?.onError ?? ((error) => log(`simulator: write failed: ${error.message}`)),
    });
    await simulator.start();
    teardown.push('simulator', () => simulator.stop());

    const pageUrl = `${gateway.httpUrl}/`;
    return {
      gateway,
      pageUrl,
      simulator,
      dynamodbEndpoint: endpoint,
      tables,
      lines: [
        'wskit example: StockPicker, a live portfolio',
        `  Open           ${pageUrl}  and sign in as ${simulator.users.join(', ')}`,
        `  Topics         stock:<SYMBOL> (public, ${SYMBOLS.length} symbols), user:<sub> (portfolio, alerts)`,
        `  App tables     ${tables.prices}, ${tables.portfolios}: streams -> the broadcaster`,
        `  App DynamoDB   ${storage}`,
        `  Simulator      ${options.simulator?.updatesPerSecond ?? 8} price writes/s, a trade per user every ${(options.simulator?.tradeIntervalMs ?? 15_000) / 1000} s, alerts at ±${options.simulator?.alertThresholdPct ?? 1.5}%`,
      ],
      stop: () => teardown.run(),
    };
  });
}
