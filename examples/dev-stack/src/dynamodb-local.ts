/**
 * DynamoDB Local as a child process this process owns: the examples need DynamoDB Streams,
 * which the gateway's embedded dynalite does not have. Installed by
 * `bash scripts/install-dynamodb-local.sh` into ~/.cache/wskit (Java 17).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DYNAMODB_LOCAL_VERSION = process.env.WSKIT_DYNAMODB_LOCAL_VERSION ?? '2.6.1';

export interface DynamoDbLocal {
  endpoint: string;
  /** Stops the Java process (SIGTERM, then SIGKILL after 5 s); resolves when it has exited. */
  stop(): Promise<void>;
}

function cacheRoot(): string {
  return process.env.WSKIT_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'wskit');
}

/** Where DynamoDB Local is installed, or an error that says exactly what to run. */
export function dynamoDbLocalLibDir(version = DYNAMODB_LOCAL_VERSION): string {
  const dir = join(cacheRoot(), `dynamodb-local-${version}`);
  const lib = join(dir, 'lib');
  if (!existsSync(join(dir, '.installed')) || !existsSync(lib) || !readdirSync(lib).some((f) => f.startsWith('DynamoDBLocal'))) {
    throw new Error(
      `the examples need DynamoDB Local ${version} (DynamoDB Streams; the embedded dynalite has none), and it is not installed in ${dir}. ` +
        'Run `bash scripts/install-dynamodb-local.sh` from the repository root (it needs Java 17 and Maven), ' +
        'or point the example at a DynamoDB with streams: `npm start -- --example <name> --dynamodb-endpoint http://127.0.0.1:8000`',
    );
  }
  return lib;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    // Any HTTP answer (DynamoDB Local replies 400 to a bare GET) means it is up.
    const response = await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Starts DynamoDB Local in memory on a free loopback port. */
export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const lib = dynamoDbLocalLibDir();
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(
      'java',
      [`-Djava.library.path=${lib}`, '-Xms64m', '-Xmx384m', '-cp', `${lib}/*`, 'com.amazonaws.services.dynamodbv2.local.main.ServerRunner', '-inMemory', '-disableTelemetry', '-port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    child.once('error', (error) => {
      output += `\n${String(error)}`;
    });
    // If this process ends without stop() (an uncaught error), the child goes with it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const stop = async () => {
      process.removeListener('exit', killOnExit);
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    };
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline) {
      if (await answers(endpoint)) return { endpoint, stop };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stop();
    lastOutput = output;
  }
  throw new Error(`DynamoDB Local did not start (is Java 17 installed? \`java -version\`): ${lastOutput.slice(-1500)}`);
}
