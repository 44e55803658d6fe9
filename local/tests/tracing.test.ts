// One user action followed end to end through the gateway and the built handlers: a frame
// carrying a W3C traceparent continues the caller's trace in X-Ray (the gateway's daemon
// stand-in receives what the functions send), the DynamoDB and management API calls it
// causes are subsegments under it, and its id is in the handler's log line.
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { startGateway, type Gateway, type SegmentDocument } from '../src';
import { connect, eventually, type TestClient } from './helpers';
import { realBundles } from './bundles';

jest.setTimeout(120_000);

let workDir: string;
let gw: Gateway;
const lines: string[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-tracing-'));
  gw = await startGateway({ distDir: realBundles(), dataDir: workDir, tracing: true, functionLogs: (name, line) => lines.push(`${name} ${line}`) });
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await gw?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

async function signIn(sub: string): Promise<TestClient> {
  const client = await connect(`${gw.wsUrl}/?token=${encodeURIComponent(await gw.mintToken({ sub }))}`);
  clients.push(client);
  return client;
}

const traceparent = () => {
  const traceHex = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { header: `00-${traceHex}-${spanId}-01`, xrayTraceId: `1-${traceHex.slice(0, 8)}-${traceHex.slice(8)}`, spanId };
};

const inTrace = (traceId: string) => gw.traces().filter((d) => d.trace_id === traceId);
const childrenOf = (documents: SegmentDocument[], parentId: unknown) => documents.filter((d) => d.parent_id === parentId);

it('a frame with a traceparent continues the caller\'s trace: its segment, then DynamoDB under it', async () => {
  const client = await signIn('tracy');
  const trace = traceparent();
  expect(await client.request({ action: 'subscribe', topic: 'public:traced', id: 'trace-sub-1', traceparent: trace.header })).toMatchObject({ type: 'ack' });

  const segment = await eventually(() => inTrace(trace.xrayTraceId).find((d) => d.type === undefined), (s) => s !== undefined);
  expect(segment).toMatchObject({
    name: 'wskit-message',
    parent_id: trace.spanId,
    origin: 'AWS::Lambda::Function',
    annotations: { action: 'subscribe', frame_id: 'trace-sub-1', lambda_trace_id: expect.stringMatching(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/) },
  });
  expect(Number(segment!.end_time)).toBeGreaterThanOrEqual(Number(segment!.start_time));
  // The Lambda trace the frame ran in: the function segment the gateway wrote, as Lambda does.
  const lambdaSegment = gw.traces().find((d) => d.trace_id === (segment!.annotations as Record<string, unknown>).lambda_trace_id && d.origin === 'AWS::Lambda::Function' && d.parent_id === undefined);
  expect(lambdaSegment).toMatchObject({ name: 'wskit-local-message' });

  const calls = await eventually(() => childrenOf(inTrace(trace.xrayTraceId), segment!.id), (c) => c.length >= 3);
  expect(calls.every((c) => c.type === 'subsegment' && c.namespace === 'aws' && c.name === 'DynamoDB')).toBe(true);
  // The subscribe: the connection item, the row, the check after it, the change entry.
  const operations = calls.map((c) => (c.aws as { operation: string }).operation);
  expect(operations).toEqual(expect.arrayContaining(['UpdateItem', 'PutItem', 'GetItem']));
  expect(calls.every((c) => (c.aws as { table_name?: string }).table_name === gw.tableName)).toBe(true);

  // The frame's id is in the handler's log line for it.
  const line = lines.find((l) => l.startsWith('message ') && l.includes('"frameId":"trace-sub-1"'));
  expect(line).toBeDefined();
  expect(JSON.parse(line!.slice('message '.length))).toMatchObject({ frameId: 'trace-sub-1', message: 'subscribed', traceparent: trace.header });
});

it('a publish shows its fan-out as one subsegment with its counts', async () => {
  const [publisher, follower] = await Promise.all([signIn('pub'), signIn('fol')]);
  expect(await follower.request({ action: 'subscribe', topic: 'public:traced-fan', id: 's' })).toMatchObject({ type: 'ack' });
  const trace = traceparent();
  expect(await publisher.request({ action: 'publish', topic: 'public:traced-fan', data: 1, id: 'trace-pub-1', traceparent: trace.header })).toMatchObject({ delivered: 1 });
  const fanOut = await eventually(
    () => inTrace(trace.xrayTraceId).find((d) => d.name === 'ApiGatewayManagementApi'),
    (d) => d !== undefined,
  );
  expect(fanOut).toMatchObject({ aws: { operation: 'PostToConnection' }, annotations: { fan_out: true, recipients: 1, delivered: 1, failed: 0 } });
});

it('without a traceparent the calls go under the function segment of the sampled invocation', async () => {
  const client = await signIn('plain');
  const before = gw.traces().length;
  expect(await client.request({ action: 'subscribe', topic: 'public:untraced', id: 'plain-1' })).toMatchObject({ type: 'ack' });
  const documents = await eventually(
    () => gw.traces().slice(before),
    (docs) => docs.some((d) => d.name === 'wskit-local-message') && docs.some((d) => d.name === 'DynamoDB'),
  );
  const functionSegment = documents.find((d) => d.name === 'wskit-local-message')!;
  const calls = documents.filter((d) => d.name === 'DynamoDB');
  expect(calls.length).toBeGreaterThanOrEqual(3);
  for (const call of calls) expect(call).toMatchObject({ trace_id: functionSegment.trace_id, parent_id: functionSegment.id });
  expect(documents.some((d) => d.name === 'wskit-message')).toBe(false);
});

it('lists a trace at GET /dev/traces', async () => {
  const trace = traceparent();
  const client = await signIn('lister');
  await client.request({ action: 'subscribe', topic: 'public:listed', id: 'l1', traceparent: trace.header });
  await eventually(() => inTrace(trace.xrayTraceId).length, (n) => n >= 2);
  const res = await fetch(`${gw.httpUrl}/dev/traces?trace_id=${trace.xrayTraceId}`);
  const { documents } = (await res.json()) as { documents: SegmentDocument[] };
  expect(documents.length).toBeGreaterThanOrEqual(2);
  expect(documents.every((d) => d.trace_id === trace.xrayTraceId)).toBe(true);
});
