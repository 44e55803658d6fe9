/**
 * Starts the gateway in a child process (support/gateway-child.mjs) so a crash is seen as
 * the process ending, as `npm start` would end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export interface ChildGateway {
  port: number;
  child: ChildProcess;
  /** Everything it wrote to stderr (its access log, one JSON entry a line). */
  stderr(): string;
  /** Whether it is still running. */
  alive(): boolean;
  /** SIGTERM; resolves with its exit code and whether it said STOPPED. */
  stop(): Promise<{ code: number | null; stopped: boolean }>;
}

export async function startChildGateway(options: Record<string, unknown>): Promise<ChildGateway> {
  const child = spawn(process.execPath, [path.join(__dirname, 'gateway-child.mjs')], {
    env: { ...process.env, WSKIT_GATEWAY_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exited = code))));
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.length > 4_000_000) err = err.slice(-2_000_000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 60 s; stderr:\n${err.slice(-4000)}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited with ${code} before it was ready; stderr:\n${err.slice(-4000)}`));
    });
  });
  return {
    port,
    child,
    stderr: () => err,
    alive: () => exited === undefined,
    async stop() {
      if (exited === undefined) child.kill('SIGTERM');
      const code = await exit;
      return { code, stopped: out.includes('STOPPED') };
    },
  };
}
