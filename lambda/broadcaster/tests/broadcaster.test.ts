/**
 * The broadcaster against real parts: dynalite for the table, the real SDK management
 * client, a real HTTP + WebSocket server (@wskit/testing/ws-harness) and real `ws`
 * clients. Events are shaped like the ones Lambda's event source mappings deliver.
 */
import { ConnectionStore, MessageSender, SubscriberCache, TopicHistory, TopicPublisher, createLogger, destroyManagementClients, type RemainingTime } from '@wskit/shared';
import { startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';
import { captureLogs, lambdaContext } from '@wskit/testing/events';
import { seededRandom } from '@wskit/testing/random';
import { closeClients, openClients, seedSubscribers, until, type TestClient } from '@wskit/testing/audience';
import { startWsGateway, type WsGateway } from '@wskit/testing/ws-harness';
import { processBatch, settingsFromEnv, streamMappingFromEnv, type BroadcasterDependencies } from '../src';

jest.setTimeout(90_000);

const ENV = { ...process.env };
let db: DynamoHandle;
let gw: WsGateway;
let store: ConnectionStore;
let cache: CountingCache;
let clients: TestClient[] = [];
const logLines: string[] = [];
const metricLines: Array<Record<string, unknown>> = [];

/** Counts the subscriber reads per topic (each publish batch reads a topic's list once). */
class CountingCache extends SubscriberCache {
  queries: string[] = [];
  override read(topic: string, options?: { listUpTo?: number }) {
    this.queries.push(topic);
    return super.read(topic, options);
  }
}

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_REGION = 'us-east-1';
  [db, gw] = await Promise.all([startDynamo('dynalite'), startWsGateway({ stage: 'test' })]);
  store = new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client });
  cache = new CountingCache({ tableName: db.tableName, dynamoDb: db.client });
  const ids = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}Qw=`);
  const room = ids('room', 40);
  const orders = ids('ord', 10);
  clients = await openClients(gw.wsUrl, [...room, ...orders]);
  await seedSubscribers(db.client, db.tableName, [
    ...room.map((connectionId) => ({ connectionId, topics: ['room.a'] })),
    ...orders.map((connectionId, i) => ({ connectionId, topics: ['order:42', ...(i < 5 ? ['room.b'] : [])] })),
  ]);
});
afterAll(async () => {
  process.env = ENV;
  await closeClients(clients);
  destroyManagementClients();
  await Promise.all([db?.stop(), gw?.stop()]);
});
beforeEach(() => {
  cache.queries = [];
  for (const c of clients) c.received.length = 0;
  logLines.length = 0;
  metricLines.length = 0;
});

function deps(env: Record<string, string> = {}, retry = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 }): BroadcasterDependencies {
  const settings = settingsFromEnv({ WSKIT_TABLE_NAME: db.tableName, ...env });
  const history = new TopicHistory({ tableName: db.tableName, dynamoDb: db.client, settings: { retentionSeconds: 600, maxMessages: 1000 } });
  const metrics = { namespace: 'wskit', service: 'wskit-broadcaster', write: (line: string) => metricLines.push(JSON.parse(line) as Record<string, unknown>) };
  return {
    settings,
    logger: createLogger('wskit-broadcaster', { write: (line: string) => logLines.push(line) }),
    metrics,
    publisher: (context: RemainingTime | undefined) =>
      new TopicPublisher({
        store,
        history,
        clockToleranceSeconds: 5,
        subscribers: cache,
        sender: new MessageSender({ endpoint: gw.callbackUrl, store, context, concurrency: settings.concurrency, retry, random: seededRandom(1), requestTimeoutMs: 30_000, metrics }),
      }),
  };
}

const inTopic = (topic: string) => clients.filter((c) => (topic === 'room.a' ? c.id.startsWith('room') : topic === 'order:42' ? c.id.startsWith('ord') : false));
const frames = (c: TestClient) => c.received.map((r) => JSON.parse(r) as { type: string; topic: string; data: unknown; mid: string; ts: number; seq: number });
const dropped = () => metricLines.filter((l) => l.DroppedRecords === 1).map((l) => l.itemIdentifier);

const sqs = (messageId: string, body: string) => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body,
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1767225600000', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: '1767225600001' },
  messageAttributes: {},
  md5OfBody: 'x',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:wskit-broadcast',
  awsRegion: 'us-east-1',
});

let sequence = 100;
const streamRecord = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', image: Record<string, unknown>, old?: Record<string, unknown>) => {
  const seq = String(++sequence).padStart(21, '0');
  return {
    eventID: `evt-${seq}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: 1767225600,
      Keys: { pk: { S: 'x' } },
      ...(eventName === 'REMOVE' ? { OldImage: old ?? image } : { NewImage: image, ...(old ? { OldImage: old } : {}) }),
      SequenceNumber: seq,
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
  };
};

describe('fan-out shard jobs', () => {
  const FANOUT_ARN = 'arn:aws:sqs:us-east-1:123456789012:wskit-fanout';
  const job = (shard: number, shards: number) => ({
    kind: 'wskit.fanout',
    topic: 'room.a',
    seq: 77,
    mid: 'job-1',
    shard,
    shards,
    queuedAt: Date.now(),
    frame: { type: 'message', topic: 'room.a', data: { big: true }, mid: 'job-1', ts: 1, seq: 77 },
  });
  const fromQueue = (id: string, body: unknown, arn: string) => ({ ...sqs(id, JSON.stringify(body)), eventSourceARN: arn });

  it('delivers each shard to its part of the audience: together, everyone once', async () => {
    const env = { WSKIT_FANOUT_QUEUE_ARN: FANOUT_ARN };
    const event = { Records: [0, 1, 2].map((shard) => fromQueue(`j${shard}`, job(shard, 3), FANOUT_ARN)) };
    expect(await processBatch(event, lambdaContext(30_000), deps(env))).toEqual({ batchItemFailures: [] });
    await until(() => inTopic('room.a').every((c) => c.received.length === 1));
    for (const c of inTopic('room.a')) expect(frames(c)).toEqual([job(0, 1).frame]);
    expect(inTopic('order:42').every((c) => c.received.length === 0)).toBe(true);
  });

  it('drops a job that did not come from the fan-out queue: a frame with a seq cannot be forged', async () => {
    const event = { Records: [fromQueue('forged', job(0, 1), 'arn:aws:sqs:us-east-1:123456789012:wskit-broadcast')] };
    expect(await processBatch(event, lambdaContext(30_000), deps({ WSKIT_FANOUT_QUEUE_ARN: FANOUT_ARN }))).toEqual({ batchItemFailures: [] });
    expect(dropped()).toEqual(['forged']);
    // Without a configured fan-out queue no job runs at all.
    expect(await processBatch({ Records: [fromQueue('unset', job(0, 1), FANOUT_ARN)] }, lambdaContext(30_000), deps())).toEqual({ batchItemFailures: [] });
    expect(dropped()).toEqual(['forged', 'unset']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(clients.every((c) => c.received.length === 0)).toBe(true);
  });

  it('drops a malformed job with the reason', async () => {
    const bad = { ...job(0, 1), shard: 3 };
    expect(await processBatch({ Records: [fromQueue('bad-shard', bad, FANOUT_ARN)] }, lambdaContext(30_000), deps({ WSKIT_FANOUT_QUEUE_ARN: FANOUT_ARN }))).toEqual({ batchItemFailures: [] });
    expect(dropped()).toEqual(['bad-shard']);
  });
});

describe('SQS messages', () => {
  it('pushes each {topic, data} to the topic subscribers with consecutive seqs, one Query per topic, and drops malformed messages', async () => {
    const event = {
      Records: [
        sqs('m1', JSON.stringify({ topic: 'room.a', data: { n: 1 } })),
        sqs('bad-json', '{"topic": "room.a", '),
        sqs('m2', JSON.stringify({ topic: 'order:42', data: 'shipped' })),
        sqs('bad-topic', JSON.stringify({ topic: 'no spaces allowed', data: 1 })),
        sqs('m3', JSON.stringify({ topic: 'room.a', data: { n: 2 } })),
        sqs('no-data', JSON.stringify({ topic: 'room.a' })),
        sqs('array', '[1,2]'),
        sqs('m4', JSON.stringify({ topic: 'room.a', data: null })),
      ],
    };
    const result = await processBatch(event, lambdaContext(30_000), deps());
    // Nothing that can never succeed comes back: dropped, logged and counted.
    expect(result.batchItemFailures).toEqual([]);
    expect(dropped()).toEqual(['bad-json', 'bad-topic', 'no-data', 'array']);
    expect(cache.queries.sort()).toEqual(['order:42', 'room.a']);
    await until(() => inTopic('room.a').every((c) => c.received.length === 3) && inTopic('order:42').every((c) => c.received.length === 1));
    for (const c of inTopic('room.a')) {
      expect(frames(c).map(({ data, mid, seq }) => ({ data, mid, seq }))).toEqual([
        { data: { n: 1 }, mid: 'm1', seq: 1 },
        { data: { n: 2 }, mid: 'm3', seq: 2 },
        { data: null, mid: 'm4', seq: 3 },
      ]);
      expect(frames(c)[0]).toMatchObject({ type: 'message', topic: 'room.a', ts: 1767225600000 });
    }
    for (const c of inTopic('order:42')) expect(frames(c)).toEqual([{ type: 'message', topic: 'order:42', data: 'shipped', mid: 'm2', ts: 1767225600000, seq: 1 }]);
    const refusals = logLines.map((l) => JSON.parse(l)).filter((l) => l.message === 'record dropped: it can never be published');
    expect(refusals.map((l) => l.itemIdentifier)).toEqual(['bad-json', 'bad-topic', 'no-data', 'array']);
    expect(refusals[0].reason).toMatch(/not JSON/);
    expect(refusals[1].reason).toMatch(/not a topic/);
  });

  it('drops a message over the size limit without holding back the others', async () => {
    const big = 'x'.repeat(130_000);
    const result = await processBatch(
      { Records: [sqs('too-big', JSON.stringify({ topic: 'order:42', data: big })), sqs('after', JSON.stringify({ topic: 'order:42', data: 'small' }))] },
      lambdaContext(30_000),
      deps(),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(dropped()).toEqual(['too-big']);
    await until(() => inTopic('order:42').every((c) => c.received.length === 1));
    for (const c of inTopic('order:42')) expect(frames(c)[0]).toMatchObject({ data: 'small', mid: 'after' });
    const line = logLines.map((l) => JSON.parse(l)).find((l) => l.itemIdentifier === 'too-big');
    expect(line.reason).toMatch(/over the 129024-byte limit/);
  });

  it('reports a message failed when subscribers could not be reached after retries, and keeps the others', async () => {
    gw.setOptions({ throttleRate: 1 });
    try {
      const result = await processBatch(
        { Records: [sqs('t1', JSON.stringify({ topic: 'order:42', data: 1 }))] },
        lambdaContext(30_000),
        deps({}, { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 }),
      );
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: 't1' }]);
    } finally {
      gw.setOptions({ throttleRate: 0 });
    }
    expect(await subscriberCount('order:42')).toBe(10);
  });
});

async function subscriberCount(topic: string): Promise<number> {
  let n = 0;
  for await (const page of store.subscribers(topic, { consistentRead: true })) n += page.length;
  return n;
}

describe('DynamoDB Streams records', () => {
  const order = (id: string, extra: Record<string, unknown> = {}) => ({
    pk: { S: `order#${id}` },
    entity_type: { S: 'order' },
    entity_id: { N: id },
    status: { S: 'paid' },
    total: { N: '12.50' },
    ...extra,
  });

  it('maps records with a topic template, skips REMOVE by default, and drops the poisoned records', async () => {
    const mapping = { WSKIT_STREAM_TOPIC_TEMPLATE: '${entity_type}:${entity_id}' };
    const good1 = streamRecord('INSERT', order('42'));
    const poisoned = streamRecord('MODIFY', { pk: { S: 'order#x' }, entity_type: { S: 'order' } }); // no entity_id
    const good2 = streamRecord('MODIFY', order('42', { status: { S: 'shipped' } }), order('42'));
    const removed = streamRecord('REMOVE', order('42'));
    const garbled = streamRecord('INSERT', { entity_type: { S: 'order' }, entity_id: { Q: 'what' } });
    const result = await processBatch({ Records: [good1, poisoned, good2, removed, garbled] }, lambdaContext(30_000), deps(mapping));
    expect(result.batchItemFailures).toEqual([]);
    expect(dropped()).toEqual([poisoned.dynamodb.SequenceNumber, garbled.dynamodb.SequenceNumber]);
    expect(cache.queries).toEqual(['order:42']);
    await until(() => inTopic('order:42').every((c) => c.received.length === 2));
    for (const c of inTopic('order:42')) {
      const got = frames(c);
      expect(got.map((f) => f.mid)).toEqual([good1.eventID, good2.eventID]);
      expect(got[0]).toEqual({
        type: 'message',
        topic: 'order:42',
        mid: good1.eventID,
        ts: 1767225600000,
        data: { event: 'INSERT', item: { pk: 'order#42', entity_type: 'order', entity_id: 42, status: 'paid', total: 12.5 } },
        seq: expect.any(Number),
      });
      expect(got[1]!.seq).toBe(got[0]!.seq + 1);
      expect((got[1]!.data as { item: { status: string } }).item.status).toBe('shipped');
    }
    const reason = logLines.map((l) => JSON.parse(l)).find((l) => l.itemIdentifier === poisoned.dynamodb.SequenceNumber)?.reason;
    expect(reason).toMatch(/no attribute "entity_id"/);
  });

  it('maps by attribute names, pushes only the data attribute, and broadcasts REMOVE when selected', async () => {
    const env = { WSKIT_STREAM_TOPIC_ATTRIBUTE: 'channel', WSKIT_STREAM_DATA_ATTRIBUTE: 'payload', WSKIT_STREAM_EVENT_NAMES: 'REMOVE' };
    const item = { pk: { S: 'n#1' }, channel: { S: 'room.b' }, payload: { M: { text: { S: 'bye' }, tags: { SS: ['a', 'b'] }, big: { N: '12345678901234567890' } } } };
    const inserted = streamRecord('INSERT', item);
    const removed = streamRecord('REMOVE', item);
    const result = await processBatch({ Records: [inserted, removed] }, lambdaContext(30_000), deps(env));
    expect(result.batchItemFailures).toEqual([]);
    const roomB = clients.filter((c) => /^ord[0-4]Qw=$/.test(c.id));
    expect(roomB).toHaveLength(5);
    await until(() => roomB.every((c) => c.received.length === 1));
    for (const c of roomB) expect(frames(c)).toEqual([{ type: 'message', topic: 'room.b', mid: removed.eventID, ts: 1767225600000, data: { text: 'bye', tags: ['a', 'b'], big: '12345678901234567890' }, seq: 1 }]);
    for (const c of clients.filter((c) => !roomB.includes(c))) expect(c.received).toEqual([]);
  });

  it('asks for the images when the stream view type carries none', async () => {
    const record = streamRecord('INSERT', order('1'));
    delete (record.dynamodb as { NewImage?: unknown }).NewImage;
    const result = await processBatch({ Records: [record] }, lambdaContext(30_000), deps({ WSKIT_STREAM_TOPIC_TEMPLATE: '${entity_type}:${entity_id}' }));
    expect(result.batchItemFailures).toEqual([]);
    expect(dropped()).toEqual([record.dynamodb.SequenceNumber]);
    expect(logLines.join('\n')).toMatch(/StreamViewType to NEW_AND_OLD_IMAGES/);
  });

  it('queries each topic once however many records of a batch target it, and keeps their order', async () => {
    const records = Array.from({ length: 30 }, (_, i) => streamRecord('INSERT', { topic: { S: i % 3 ? 'room.a' : 'order:42' }, n: { N: String(i) } }));
    const result = await processBatch({ Records: records }, lambdaContext(30_000), deps());
    expect(result.batchItemFailures).toEqual([]);
    expect(cache.queries.sort()).toEqual(['order:42', 'room.a']);
    await until(() => inTopic('room.a').every((c) => c.received.length === 20) && inTopic('order:42').every((c) => c.received.length === 10));
    for (const c of inTopic('room.a')) {
      expect(frames(c).map((f) => (f.data as { item: { n: number } }).item.n)).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3));
    }
  });
});

describe('bad input never crashes the batch', () => {
  it.each([
    ['undefined', undefined],
    ['a string', 'hello'],
    ['no Records', { foo: 1 }],
    ['Records not an array', { Records: 'x' }],
    ['records of the wrong kind', { Records: [null, 7, 'x', { eventSource: 'aws:s3' }] }],
  ])('%s', async (_name, event) => {
    await expect(processBatch(event, lambdaContext(5_000), deps())).resolves.toEqual({ batchItemFailures: [] });
  });

  it('drops SQS messages and stream records with broken fields, logged under their ids', async () => {
    const s = streamRecord('INSERT', { topic: { S: 'room.a' } });
    const broken = [
      { messageId: 'no-body', eventSource: 'aws:sqs' },
      { ...s, eventName: 'UPSERT' },
      { eventSource: 'aws:dynamodb', eventName: 'INSERT', dynamodb: { SequenceNumber: '9', NewImage: 'nope' } },
      { eventSource: 'aws:dynamodb', eventName: 'INSERT', dynamodb: { SequenceNumber: '10', NewImage: { topic: { S: 'x'.repeat(300) } } } },
    ];
    const result = await processBatch({ Records: broken }, lambdaContext(5_000), deps());
    expect(result.batchItemFailures).toEqual([]);
    expect(dropped()).toEqual(['no-body', s.dynamodb.SequenceNumber, '9', '10']);
  });
});

describe('the Lambda handler with settings from the environment', () => {
  /** The handler module as a fresh execution environment loads it. */
  const freshHandler = () => {
    let loaded: typeof import('../src')['handler'] | undefined;
    jest.isolateModules(() => {
      loaded = (require('../src') as typeof import('../src')).handler;
    });
    return loaded!;
  };

  it('uses WSKIT_TABLE_NAME, WSKIT_CALLBACK_URL and the standard DynamoDB endpoint variable', async () => {
    const handler = freshHandler();
    Object.assign(process.env, {
      WSKIT_TABLE_NAME: db.tableName,
      WSKIT_CALLBACK_URL: gw.callbackUrl,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      WSKIT_STREAM_TOPIC_TEMPLATE: '',
    });
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    let result;
    try {
      result = await handler({ Records: [sqs('env-1', JSON.stringify({ topic: 'order:42', data: 'via env' })), sqs('env-bad', 'x')] }, lambdaContext(30_000));
    } finally {
      spy.mockRestore();
    }
    expect(result).toEqual({ batchItemFailures: [] });
    await until(() => inTopic('order:42').every((c) => c.received.length === 1));
    const emf = writes.flatMap((w) => w.split('\n').filter(Boolean)).map((w) => JSON.parse(w)).filter((l) => l._aws);
    expect(emf.filter((l) => l.Recipients !== undefined)).toEqual([expect.objectContaining({ Service: 'wskit-broadcaster', topic: 'order:42', mid: 'env-1', Recipients: 10, Delivered: 10 })]);
    expect(emf.filter((l) => l.DroppedRecords === 1)).toEqual([expect.objectContaining({ Service: 'wskit-broadcaster', itemIdentifier: 'env-bad' })]);
  });

  it('names the variable to set when the table is not configured', async () => {
    delete process.env.WSKIT_TABLE_NAME;
    const { lines } = await captureLogs(() => expect(freshHandler()({ Records: [] })).rejects.toThrow(/WSKIT_TABLE_NAME/));
    expect(lines.some((line) => line.includes('"Faults":1'))).toBe(true);
  });
});

describe('settings', () => {
  it('refuses malformed mapping settings with a message naming the variable', () => {
    expect(() => streamMappingFromEnv({ WSKIT_STREAM_EVENT_NAMES: 'INSERT,UPSERT' })).toThrow(/WSKIT_STREAM_EVENT_NAMES.*INSERT, MODIFY, REMOVE/);
    expect(() => streamMappingFromEnv({ WSKIT_STREAM_TOPIC_TEMPLATE: 'static' })).toThrow(/names no attribute/);
    expect(() => streamMappingFromEnv({ WSKIT_STREAM_TOPIC_ATTRIBUTE: 'a b' })).toThrow(/WSKIT_STREAM_TOPIC_ATTRIBUTE/);
    expect(() => settingsFromEnv({ WSKIT_TABLE_NAME: 't', WSKIT_FANOUT_CONCURRENCY: '0' })).toThrow(/WSKIT_FANOUT_CONCURRENCY/);
    expect(streamMappingFromEnv({})).toMatchObject({ topicAttribute: 'topic', eventNames: new Set(['INSERT', 'MODIFY']) });
  });
});
