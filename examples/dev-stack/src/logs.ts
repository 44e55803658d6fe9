/** Function output for `npm start`: stderr, without the CloudWatch EMF metric lines (one per fan-out). */
export function withoutMetricLines(name: string, line: string): void {
  if (!line.startsWith('{"_aws":')) process.stderr.write(`[${name}] ${line}\n`);
}
