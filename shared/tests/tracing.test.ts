/**
 * The X-Ray emitter against a real UDP socket standing in for the daemon: what it sends,
 * and that it sends nothing unless tracing is on and the invocation is sampled.
 */
import * as dgram from 'node:dgram';
import { continueTrace, runInvocationTrace, traced, tracingEnabled } from '../src';
import { lambdaTraceContext, traceparentContext, tracingMiddleware } from '../src/tracing';

const ENV = { ...process.env };
let daemon: dgram.Socket;
let received: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  daemon = dgram.createSocket('udp4');
  daemon.on('message', (datagram) => {
    const [header, body] = datagram.toString('utf8').split('\n');
    expect(JSON.parse(header!)).toEqual({ format: 'json', version: 1 });
    received.push(JSON.parse(body!) as Record<string, unknown>);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', () => resolve()));
  // The socket is opened on first use with the address of that moment.
  process.env.AWS_XRAY_DAEMON_ADDRESS = `tcp:127.0.0.1:2000 udp:127.0.0.1:${daemon.address().port}`;
});
afterAll(() => {
  process.env = ENV;
  daemon.close();
});
beforeEach(() => {
  received = [];
  process.env.WSKIT_TRACING = 'on';
  process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
});

const settle = async (count: number) => {
  for (let i = 0; i < 200 && received.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 20));
};

it('reads Lambda\'s trace header and a traceparent, sampled only', () => {
  expect(lambdaTraceContext('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')).toEqual({ traceId: '1-5759e988-bd862e3fe1be46a994272793', parentId: '53995c3f42cd8ad8' });
  expect(lambdaTraceContext('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0')).toBeUndefined();
  expect(lambdaTraceContext('Root=bad;Parent=53995c3f42cd8ad8;Sampled=1')).toBeUndefined();
  expect(lambdaTraceContext(undefined)).toBeUndefined();
  expect(traceparentContext('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({ traceId: '1-4bf92f35-77b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7' });
  expect(traceparentContext('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')).toBeUndefined();
  expect(traceparentContext('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
  expect(tracingEnabled({ WSKIT_TRACING: 'off' })).toBe(false);
  expect(tracingEnabled({})).toBe(false);
});

it('writes a subsegment under the function segment, with throttles and faults told apart', async () => {
  await runInvocationTrace(async () => {
    await traced({ name: 'DynamoDB', aws: { operation: 'GetItem', table_name: 't' } }, async () => 1);
    const throttle = Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    await expect(traced({ name: 'DynamoDB', aws: { operation: 'PutItem' } }, async () => Promise.reject(throttle))).rejects.toBe(throttle);
    const fault = Object.assign(new Error('boom'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    await expect(traced({ name: 'SQS' }, async () => Promise.reject(fault))).rejects.toBe(fault);
  });
  await settle(3);
  expect(received).toHaveLength(3);
  const [ok, throttled, failed] = received;
  expect(ok).toMatchObject({ type: 'subsegment', name: 'DynamoDB', namespace: 'aws', trace_id: '1-5759e988-bd862e3fe1be46a994272793', parent_id: '53995c3f42cd8ad8', aws: { operation: 'GetItem', table_name: 't' } });
  expect(ok!.id).toMatch(/^[0-9a-f]{16}$/);
  expect(Number(ok!.end_time)).toBeGreaterThanOrEqual(Number(ok!.start_time));
  expect(throttled).toMatchObject({ throttle: true, error: true, http: { response: { status: 400 } }, cause: { exceptions: [{ type: 'ThrottlingException' }] } });
  expect(failed).toMatchObject({ fault: true, http: { response: { status: 500 } } });
});

it('continues a traceparent: a segment in the caller\'s trace, with what it caused under it', async () => {
  await runInvocationTrace(() =>
    continueTrace('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'wskit-message', { frame_id: 'f1' }, () =>
      traced({ name: 'DynamoDB', aws: { operation: 'UpdateItem' } }, () => traced({ name: 'inner', namespace: 'remote' }, async () => 'done')),
    ),
  );
  await settle(3);
  const segment = received.find((d) => d.name === 'wskit-message')!;
  const call = received.find((d) => d.name === 'DynamoDB')!;
  const inner = received.find((d) => d.name === 'inner')!;
  expect(segment).toMatchObject({ trace_id: '1-4bf92f35-77b34da6a3ce929d0e0e4736', parent_id: '00f067aa0ba902b7', annotations: { frame_id: 'f1', lambda_trace_id: '1-5759e988-bd862e3fe1be46a994272793' } });
  expect(segment.type).toBeUndefined();
  expect(call).toMatchObject({ trace_id: segment.trace_id, parent_id: segment.id });
  expect(inner).toMatchObject({ trace_id: segment.trace_id, parent_id: call.id });
});

it('sends nothing when tracing is off, the invocation is not sampled, or the traceparent is not sampled', async () => {
  process.env.WSKIT_TRACING = 'off';
  await runInvocationTrace(() => continueTrace('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 's', {}, () => traced({ name: 'DynamoDB' }, async () => 1)));
  process.env.WSKIT_TRACING = 'on';
  process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0';
  await runInvocationTrace(() => continueTrace('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', 's', {}, () => traced({ name: 'DynamoDB' }, async () => 1)));
  await traced({ name: 'outside any invocation' }, async () => 1);
  await settle(1);
  expect(received).toEqual([]);
});

it('names the DynamoDB operation a document client command becomes', async () => {
  const middleware = tracingMiddleware('DynamoDB');
  await runInvocationTrace(async () => {
    await middleware(async () => ({ output: {} }), { commandName: 'UpdateCommand' })({ input: { TableName: 'wskit' } });
    await middleware(async () => ({ output: {} }), { commandName: 'QueryCommand' })({ input: { TableName: 'wskit' } });
  });
  await settle(2);
  expect(received.map((d) => d.aws)).toEqual([{ operation: 'UpdateItem', table_name: 'wskit' }, { operation: 'Query', table_name: 'wskit' }]);
});
