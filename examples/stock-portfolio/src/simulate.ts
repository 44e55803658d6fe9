/**
 * The market simulator against real tables (the ones the Terraform root creates):
 *
 *   npm run -w @wskit/example-stock-portfolio simulate -- --region eu-west-1 \
 *     --prices-table stockpicker-prices --portfolios-table stockpicker-portfolios [--rate 8]
 *
 * Credentials come from the usual AWS chain (environment, profile, SSO). Ctrl+C stops it.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MarketSimulator } from './simulator';

const { values } = parseArgs({
  options: {
    region: { type: 'string' },
    endpoint: { type: 'string' },
    'prices-table': { type: 'string' },
    'portfolios-table': { type: 'string' },
    rate: { type: 'string', default: '8' },
    'alert-threshold': { type: 'string', default: '1.5' },
  },
});
const prices = values['prices-table'];
const portfolios = values['portfolios-table'];
if (!prices || !portfolios) {
  process.stderr.write('simulate: --prices-table and --portfolios-table are required (the Terraform outputs prices_table_name and portfolios_table_name)\n');
  process.exit(2);
}
const client = new DynamoDBClient({ region: values.region, endpoint: values.endpoint });
const simulator = new MarketSimulator({
  client,
  tables: { prices, portfolios },
  updatesPerSecond: Number(values.rate),
  alertThresholdPct: Number(values['alert-threshold']),
  onError: (error) => process.stderr.write(`simulate: write failed: ${error.name}: ${error.message}\n`),
});
simulator.start().then(
  () => {
    process.stderr.write(`simulate: writing ${values.rate} prices/s to ${prices}, trades and alerts to ${portfolios}; Ctrl+C stops\n`);
    const report = setInterval(() => process.stderr.write(`simulate: ${JSON.stringify(simulator.stats)}\n`), 10_000);
    process.on('SIGINT', () => {
      clearInterval(report);
      void simulator.stop().then(() => {
        client.destroy();
        process.exit(0);
      });
    });
  },
  (error: Error) => {
    process.stderr.write(`simulate: ${error.name}: ${error.message}\n`);
    process.exit(1);
  },
);
