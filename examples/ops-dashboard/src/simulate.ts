/**
 * The fleet simulator against the real table (the one the Terraform root creates):
 *
 *   npm run -w @wskit/example-ops-dashboard simulate -- --region eu-west-1 --table opsdash-metrics [--interval-ms 250]
 *
 * Credentials come from the usual AWS chain. Ctrl+C stops it.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MetricsSimulator } from './simulator';

const { values } = parseArgs({
  options: {
    region: { type: 'string' },
    endpoint: { type: 'string' },
    table: { type: 'string' },
    'interval-ms': { type: 'string', default: '250' },
    'incident-every-s': { type: 'string', default: '90' },
  },
});
if (!values.table) {
  process.stderr.write('simulate: --table is required (the Terraform output metrics_table_name)\n');
  process.exit(2);
}
const client = new DynamoDBClient({ region: values.region, endpoint: values.endpoint });
const simulator = new MetricsSimulator({
  client,
  table: values.table,
  intervalMs: Number(values['interval-ms']),
  incidentEveryMs: Number(values['incident-every-s']) * 1000,
  onError: (error) => process.stderr.write(`simulate: write failed: ${error.name}: ${error.message}\n`),
});
simulator.start();
process.stderr.write(`simulate: writing to ${values.table} every ${values['interval-ms']} ms; Ctrl+C stops\n`);
const report = setInterval(() => process.stderr.write(`simulate: ${JSON.stringify(simulator.stats)}\n`), 10_000);
process.on('SIGINT', () => {
  clearInterval(report);
  void simulator.stop().then(() => {
    client.destroy();
    process.exit(0);
  });
});
