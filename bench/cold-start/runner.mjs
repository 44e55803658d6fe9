// Child process of run.mjs: imports one bundle and reports, as JSON on stdout, how long
// the import (module init) took inside this process; with INVOKE_EVENT set it then calls
// the handler twice (first = cold invocation, second = warm) and reports those too.
import { pathToFileURL } from 'node:url';

const cpu = process.cpuUsage();
const started = performance.now();
const module = await import(pathToFileURL(process.argv[2]).href);
const imported = performance.now();
const cpuUsed = process.cpuUsage(cpu);
const report = { importMs: imported - started, importCpuMs: (cpuUsed.user + cpuUsed.system) / 1000 };
if (process.env.INVOKE_EVENT) {
  const event = JSON.parse(process.env.INVOKE_EVENT);
  const t0 = performance.now();
  await module.handler(event);
  const t1 = performance.now();
  await module.handler(event);
  const t2 = performance.now();
  Object.assign(report, { firstInvokeMs: t1 - t0, warmInvokeMs: t2 - t1 });
}
process.stdout.write(`${JSON.stringify(report)}\n`);
