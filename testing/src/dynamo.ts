/**
 * Test support (never bundled): a real DynamoDB API on loopback with the wskit table.
 *
 *   const db = await startDynamo('dynalite');        // in-process, no Java
 *   const db = await startDynamo('dynamodb-local');  // Java 17, installed by scripts/install-dynamodb-local.sh
 *   ... db.endpoint, db.tableName, db.client (low-level DynamoDBClient) ...
 *   await db.stop();
 *
 * The table is created from terraform/modules/connections-table/table.json, the same
 * definition Terraform and the local gateway use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TABLE_DEFINITION, createTableInput } from '@wskit/shared/table';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';

export type DynamoBackend = 'dynalite' | 'dynamodb-local';

/**
 * A client for the same endpoint whose requests wait before they are sent, by `delayMs(commandName,
 * input)`: it widens the windows between the steps of a multi-request operation, so a
 * concurrency test meets the interleavings it is about on every run instead of by luck.
 */
export function delayingClient(endpoint: string, delayMs: (commandName: string, input: Record<string, unknown>) => number): DynamoDBClient {
  const client = localClient(endpoint);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const ms = delayMs(String(context.commandName), args.input as Record<string, unknown>);
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      return next(args);
    },
    { step: 'initialize', name: 'wskitTestDelay' },
  );
  return client;
}
export const DYNAMO_BACKENDS: DynamoBackend[] = ['dynalite', 'dynamodb-local'];

export interface DynamoHandle {
  backend: DynamoBackend;
  endpoint: string;
  tableName: string;
  client: DynamoDBClient;
  /** Every item of the table, sorted by pk then sk (for before/after comparisons). */
  dump(): Promise<Array<Record<string, AttributeValue>>>;
  stop(): Promise<void>;
}

export const DYNAMODB_LOCAL_VERSION = process.env.WSKIT_DYNAMODB_LOCAL_VERSION ?? '2.6.1';

/** Creates the wskit table, waits until it and its indexes are ACTIVE, enables TTL where supported. */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const definition = TABLE_DEFINITION;
  await client.send(new CreateTableCommand(createTableInput(tableName, definition)));
  for (let i = 0; ; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) break;
    if (i > 200) throw new Error(`table ${tableName} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 25));
  }
  if (definition.ttlAttribute) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
        }),
      );
    } catch (error) {
      // dynalite has no UpdateTimeToLive; expiry is then only the application's filter.
      if ((error as Error).name !== 'UnknownOperationException') throw error;
    }
  }
}

/** A client for a local endpoint (dummy credentials, a few retries). */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}

let tableCounter = 0;
function uniqueTableName(): string {
  tableCounter += 1;
  return `wskit-test-${process.pid}-${Date.now().toString(36)}-${tableCounter}`;
}

async function dumpTable(client: DynamoDBClient, tableName: string): Promise<Array<Record<string, AttributeValue>>> {
  const items: Array<Record<string, AttributeValue>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const key = (item: Record<string, AttributeValue>) => `${item.pk?.S ?? ''}\u0000${item.sk?.S ?? ''}`;
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export async function startDynamo(backend: DynamoBackend): Promise<DynamoHandle> {
  const started = backend === 'dynalite' ? await startDynalite() : await startDynamoDbLocal();
  const client = localClient(started.endpoint);
  const tableName = uniqueTableName();
  try {
    await createTable(client, tableName);
  } catch (error) {
    client.destroy();
    await started.stop();
    throw error;
  }
  return {
    backend,
    endpoint: started.endpoint,
    tableName,
    client,
    dump: () => dumpTable(client, tableName),
    stop: async () => {
      client.destroy();
      await started.stop();
    },
  };
}

interface Started {
  endpoint: string;
  stop(): Promise<void>;
}

async function startDynalite(): Promise<Started> {
  // dynalite ships no types; it returns an http.Server.
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections?.();
        server.close(() => resolveClose());
      }),
  };
}

export function cacheRoot(): string {
  return process.env.WSKIT_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'wskit');
}

/** The installed DynamoDB Local lib directory, or an error that says how to install it. */
export function dynamoDbLocalLibDir(version: string = DYNAMODB_LOCAL_VERSION): string {
  const dir = join(cacheRoot(), `dynamodb-local-${version}`);
  const lib = join(dir, 'lib');
  if (!existsSync(join(dir, '.installed')) || !existsSync(lib) || !readdirSync(lib).some((f) => f.startsWith('DynamoDBLocal'))) {
    throw new Error(
      `DynamoDB Local ${version} is not installed (looked in ${dir}): run \`bash scripts/install-dynamodb-local.sh\` ` +
        'from the repository root (it needs Java 17 and Maven), then run the tests again',
    );
  }
  return lib;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
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

async function startDynamoDbLocal(): Promise<Started> {
  const lib = dynamoDbLocalLibDir();
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child: ChildProcess = spawn(
      'java',
      [
        `-Djava.library.path=${lib}`,
        '-Xms64m',
        '-Xmx512m',
        '-cp',
        `${lib}/*`,
        'com.amazonaws.services.dynamodbv2.local.main.ServerRunner',
        '-inMemory',
        '-disableTelemetry',
        '-port',
        String(port),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let exited = false;
    const exitPromise = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
    child.once('error', (error) => {
      output += `\n${String(error)}`;
    });
    const stop = async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    };
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline) {
      if (await answers(endpoint)) return { endpoint, stop };
      await new Promise((r) => setTimeout(r, 100));
    }
    await stop();
    lastOutput = output;
  }
  throw new Error(`DynamoDB Local did not start: ${lastOutput.slice(-2000)}`);
}

/**
 * The items a connection still has (its connection item, subscription rows and tombstones),
 * leaving out the topics' change entries (`chg#<n>`): those are a log the subscriber caches
 * read, kept for an hour by TTL whatever became of the connection.
 */
export function itemsOfConnection<T extends { connectionId?: { S?: string }; sk?: { S?: string } }>(items: readonly T[], connectionId: string): T[] {
  return items.filter((i) => i.connectionId?.S === connectionId && !i.sk?.S?.startsWith('chg#'));
}
