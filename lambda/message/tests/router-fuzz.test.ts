/**
 * Router fuzz: generated malformed frames (and some valid ones) through the real handler
 * against dynalite and the local management API. Reproduce a failure with the seed it
 * prints: WSKIT_FUZZ_SEED=<seed> npx jest lambda/message/tests/router-fuzz.test.ts
 */
import { captureLogs, lambdaContext, messageEvent, newConnectionId } from '@wskit/testing/events';
import { seededRandom } from '@wskit/testing/random';
import { handler } from '../src';
import { useHarness } from './support';

jest.setTimeout(180_000);
const harness = useHarness();
beforeAll(() => {
  // Rejections log at WARN; keep the run readable.
  process.env.WSKIT_LOG_LEVEL = 'ERROR';
  // 1,300 frames on one connection: this test is about what frames do, not how many; the
  // rate limits have tests of their own (message.test.ts).
  process.env.WSKIT_FRAME_RATE_LIMIT = '0';
  process.env.WSKIT_PUBLISH_RATE_LIMIT = '0';
});

const SEED = Number(process.env.WSKIT_FUZZ_SEED ?? 20_261_122);
const CASES = 1300;
const rand = seededRandom(SEED);
const int = (n: number) => Math.floor(rand() * n);
const chance = (p: number) => rand() < p;
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

const ACTIONS = ['hello', 'ping', 'subscribe', 'unsubscribe', 'publish', 'sendmessage'];
const JUNK_VALUES = ['null', 'true', 'false', '0', '-1', '1.5e308', '[]', '{}', '[1,2]', '{"a":1}', '""', '"x"', '1e999'];

function randomString(maxLength: number, alphabet?: string): string {
  const length = int(maxLength + 1);
  let out = '';
  for (let i = 0; i < length; i++) {
    if (alphabet) out += alphabet[int(alphabet.length)];
    else out += String.fromCodePoint(chance(0.8) ? 32 + int(95) : pick([0, 9, 10, 0x7f, 0xe9, 0x2713, 0x1f600, 0xfffd, 0xd800 + int(0x400)]));
  }
  return out;
}
const validId = () => randomString(chance(0.1) ? 128 : 16).slice(0, 128);
const goodTopic = () => pick(['public:', 'team.', 'user:fuzzer', 'lobby.']) + randomString(20, 'abcXYZ019_.:/-');
const badTopic = () =>
  pick(['', 'has space', 'tab\tx', 'a'.repeat(257 + int(5000)), 'new\nline', 'zero\u200bwidth', '\ufeffbom', 'nbsp\u00a0', 'ctl\u0007', 'lone\ud800', 'private\ue000', 'line\u2028sep']);
const forbiddenTopic = () => pick(['private.', 'user:someone', 'admin/', 'teams', 'Public:']) + randomString(10, 'abc');
const json = (value: unknown) => JSON.stringify(value);

/** An object frame as JSON text; `id` added (valid) with some probability. */
function frameText(fields: Record<string, string>, idText?: string): string {
  const parts = Object.entries(fields).map(([k, v]) => `${json(k)}:${v}`);
  const id = idText ?? (chance(0.6) ? json(validId()) : undefined);
  if (id !== undefined) parts.splice(int(parts.length + 1), 0, `"id":${id}`);
  return `{${parts.join(',')}}`;
}

type Generated = {
  kind: string;
  body: unknown;
  isBase64Encoded?: boolean;
  event?: (body: unknown) => unknown;
  valid?: boolean;
  /** The error code the frame must get, when the generator knows it. */
  code?: string;
};

const generators: Record<string, () => Generated> = {
  badJson: () => {
    const text = frameText({ action: json(pick(ACTIONS)), topic: json(goodTopic()), data: json({ a: [1, 2] }) });
    const cut = int(text.length);
    const mutated = pick([
      text.slice(0, cut),
      text.slice(0, cut) + pick(['{', '"', ',', '\\', ']', ':', "'"]) + text.slice(cut),
      text.replace(/"/g, "'"),
      `${text}}`,
      `${text} trailing`,
      text.replace(':', ''),
      `{action:"ping"}`,
      `{"action":"ping",}`,
      `{"action":NaN}`,
      `\uFEFF${text}`,
    ]);
    return { kind: 'badJson', body: mutated };
  },
  wrongTypes: () => {
    const target = pick(['action', 'topic', 'ts', 'since', 'missingTopic', 'missingData', 'missingAction']);
    const action = target === 'ts' ? 'ping' : target === 'since' ? 'subscribe' : pick(ACTIONS.slice(2));
    const fields: Record<string, string> = { action: json(action), topic: json(goodTopic()), data: json('d') };
    if (target === 'action') fields.action = pick(JUNK_VALUES.filter((v) => !v.startsWith('"')));
    else if (target === 'topic') fields.topic = pick(JUNK_VALUES);
    else if (target === 'ts') fields.ts = pick(['"123"', 'null', '[]', '{}', 'true', '"NaN"']);
    else if (target === 'since') fields.since = pick(['-1', '1.5', '"5"', 'null', '1e300', '{}', '[]']);
    else if (target === 'missingTopic') delete fields.topic;
    else if (target === 'missingAction') delete fields.action;
    else {
      fields.action = json(pick(['publish', 'sendmessage']));
      delete fields.data;
    }
    return { kind: 'wrongTypes', body: frameText(fields), code: 'BAD_REQUEST' };
  },
  hugeFields: () => {
    const which = pick(['topic', 'id', 'action', 'data', 'body']);
    if (which === 'id') return { kind: 'hugeFields', code: 'BAD_REQUEST', body: frameText({ action: '"ping"' }, json('i'.repeat(129 + int(2000)))) };
    if (which === 'action') return { kind: 'hugeFields', code: 'UNKNOWN_ACTION', body: frameText({ action: json('a'.repeat(100 + int(20_000))) }) };
    if (which === 'topic') {
      return { kind: 'hugeFields', code: 'BAD_REQUEST', body: frameText({ action: '"subscribe"', topic: json('t'.repeat(129 + int(20_000))) }) };
    }
    if (which === 'data') {
      const data = json('x'.repeat(131_000 + int(10_000)));
      return { kind: 'hugeFields', code: 'PAYLOAD_TOO_LARGE', body: frameText({ action: '"publish"', topic: json(goodTopic()), data }) };
    }
    return { kind: 'hugeFields', code: 'PAYLOAD_TOO_LARGE', body: frameText({ action: '"ping"', pad: json('é'.repeat(65_600 + int(2000))) }) };
  },
  unknownActions: () => ({
    kind: 'unknownActions',
    code: 'UNKNOWN_ACTION',
    body: frameText({
      action: json(pick(['PING', 'Ping', ' ping', 'ping\u0000', '$default', '$connect', 'delete', '', 'hello ', randomString(30)])),
    }),
  }),
  protoKeys: () => {
    const key = pick(['__proto__', 'constructor', 'prototype']);
    const nested = (depth: number): string => (depth === 0 ? `{${json(key)}:{"polluted":true}}` : `{"k":${nested(depth - 1)}}`);
    const where = pick(['top', 'data', 'array']);
    if (where === 'top') {
      return { kind: 'protoKeys', code: 'BAD_REQUEST', body: frameText({ action: json(pick(ACTIONS)), topic: json(goodTopic()), [key]: '{"polluted":true}', data: '1' }) };
    }
    const data = where === 'data' ? nested(int(10)) : `[1,${nested(int(5))}]`;
    return { kind: 'protoKeys', code: 'BAD_REQUEST', body: frameText({ action: '"publish"', topic: json(goodTopic()), data }) };
  },
  deepNesting: () => {
    const depth = 32 + int(5000);
    const open = chance(0.5) ? '['.repeat(depth) : '{"a":'.repeat(depth);
    const close = open.startsWith('[') ? ']'.repeat(depth) : '}'.repeat(depth);
    return { kind: 'deepNesting', code: 'BAD_REQUEST', body: frameText({ action: '"publish"', topic: json('public:deep'), data: `${open}1${close}` }) };
  },
  nonStringIds: () => ({
    kind: 'nonStringIds',
    code: 'BAD_REQUEST',
    body: frameText({ action: json(pick(ACTIONS)), topic: json(goodTopic()) }, pick(['1', '0', '-1', '1.5', 'null', 'true', 'false', '{}', '[]', '["x"]', '{"a":1}'])),
  }),
  binaryJunk: () => {
    const bytes = Buffer.from(Array.from({ length: 1 + int(300) }, () => int(256)));
    return pick<Generated>([
      { kind: 'binaryJunk', code: 'BAD_REQUEST', body: bytes.toString('latin1') },
      { kind: 'binaryJunk', code: 'BAD_REQUEST', body: bytes.toString('utf8') },
      { kind: 'binaryJunk', code: 'BAD_REQUEST', body: bytes.toString('base64'), isBase64Encoded: true },
      { kind: 'binaryJunk', code: 'BAD_REQUEST', body: Buffer.from('{"action":"ping","id":"b"}').toString('base64'), isBase64Encoded: true },
    ]);
  },
  emptyBodies: () => ({
    kind: 'emptyBodies',
    code: 'BAD_REQUEST',
    body: pick<unknown>(['', null, undefined, ' ', '\n', 'null', '[]', '""', '0', 'true', '[{"action":"ping"}]', 123, { action: 'ping' }, ['x']]),
  }),
  badTopics: () => ({ kind: 'badTopics', code: 'BAD_REQUEST', body: frameText({ action: json(pick(['subscribe', 'unsubscribe', 'publish', 'sendmessage'])), topic: json(badTopic()), data: '1' }) }),
  forbiddenTopics: () => ({ kind: 'forbiddenTopics', code: 'FORBIDDEN', body: frameText({ action: json(pick(['subscribe', 'publish', 'sendmessage'])), topic: json(forbiddenTopic()), data: '{"x":1}' }) }),
  weirdEvents: () => {
    const body = frameText({ action: json(pick(['subscribe', 'publish'])), topic: json(goodTopic()), data: '1' });
    const shape = pick(['nullEvent', 'noContext', 'authorizerJunk', 'noConnection', 'expJunk', 'contextArray']);
    return {
      kind: 'weirdEvents',
      body,
      event: (b: unknown) => {
        const event = messageEvent(b as string, { connectionId: 'x' }) as Record<string, unknown>;
        const rc = event.requestContext as Record<string, unknown>;
        if (shape === 'nullEvent') return null;
        if (shape === 'noContext') return { body: b };
        if (shape === 'contextArray') return { body: b, requestContext: [] };
        if (shape === 'authorizerJunk') rc.authorizer = pick<unknown>([null, 'x', [], { userId: {} }, { userId: 42, exp: 'abc' }, { principalId: '' }]);
        if (shape === 'noConnection') delete rc.connectionId;
        if (shape === 'expJunk') rc.authorizer = { userId: 'fuzzer', exp: pick(['abc', '', '-1', '0', '-1e300', '1e300', 'Infinity']) };
        return event;
      },
    };
  },
};

const validFrames = (): Generated => {
  const topic = pick(['public:fz.a', 'public:fz.b', 'team.fz', 'user:fuzzer']);
  return {
    kind: 'valid',
    valid: true,
    body: pick([
      frameText({ action: '"ping"', ts: String(int(1e9)) }),
      frameText({ action: '"hello"' }),
      frameText({ action: '"subscribe"', topic: json(topic) }),
      frameText({ action: '"unsubscribe"', topic: json(topic) }),
      frameText({ action: json(pick(['publish', 'sendmessage'])), topic: json(topic), data: json({ n: int(100) }) }),
    ]),
  };
};

/**
 * The spec for echoing: an event whose text body (not base64) is within 128 KB and parses
 * to an object with a string id of at most 128 characters.
 */
function expectedId(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object') return undefined;
  const { body, isBase64Encoded } = event as { body?: unknown; isBase64Encoded?: unknown };
  if (isBase64Encoded === true || typeof body !== 'string' || Buffer.byteLength(body, 'utf8') > 131_072) return undefined;
  try {
    const value = JSON.parse(body) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const id = (value as Record<string, unknown>).id;
    return Object.hasOwn(value, 'id') && typeof id === 'string' && id.length <= 128 ? id : undefined;
  } catch {
    return undefined;
  }
}

it(`survives ${CASES} generated frames (seed ${SEED}): one reply each, id echoed, rejected frames write nothing`, async () => {
  const { db, store, api } = harness();
  const connectionId = newConnectionId();
  await store.putConnection({ connectionId, userId: 'fuzzer', connectedAt: Date.now() });
  api.connect(connectionId);
  const session = { connectionId, userId: 'fuzzer', scope: 'topics:team.' };
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

  const names = Object.keys(generators);
  const failures: string[] = [];
  const counts: Record<string, number> = {};
  let rejected = 0;
  const state = async () => (await db.dump()).filter((item) => !item.pk?.S?.startsWith('rate#'));
  let table = await state();

  for (let index = 0; index < CASES; index++) {
    const generated = chance(0.08) ? validFrames() : generators[names[index % names.length]!]!();
    counts[generated.kind] = (counts[generated.kind] ?? 0) + 1;
    const event = generated.event
      ? generated.event(generated.body)
      : { ...messageEvent(null, session), body: generated.body, isBase64Encoded: generated.isBase64Encoded ?? false };
    const id = expectedId(event);
    const describe = () => `#${index} ${generated.kind} body=${JSON.stringify(String(generated.body).slice(0, 120))}`;
    const requestsBefore = api.requests.length;

    let result: { statusCode: number; body?: string };
    try {
      // Metrics lines go to stdout; the run stays quiet.
      result = (await captureLogs(() => handler(event, lambdaContext()))).result;
    } catch (error) {
      failures.push(`${describe()}: threw ${String(error)}`);
      continue;
    }
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(result.body ?? '') as Record<string, unknown>;
    } catch {
      failures.push(`${describe()}: reply is not JSON: ${String(result.body).slice(0, 200)}`);
      continue;
    }
    if (result.statusCode !== 200) failures.push(`${describe()}: statusCode ${result.statusCode}`);
    if (!['welcome', 'pong', 'ack', 'error'].includes(String(reply.type))) failures.push(`${describe()}: reply type ${String(reply.type)}`);
    if (id !== undefined && reply.id !== id) failures.push(`${describe()}: expected id ${JSON.stringify(id)}, got ${JSON.stringify(reply.id)}`);
    if (id === undefined && Object.hasOwn(reply, 'id')) failures.push(`${describe()}: reply carries id ${JSON.stringify(reply.id)} but the frame had no valid id`);

    const after = await state();
    if (generated.code !== undefined && (reply.type !== 'error' || reply.code !== generated.code)) {
      failures.push(`${describe()}: expected ${generated.code}, got ${String(reply.type)} ${String(reply.code ?? '')} ${String(reply.message ?? '')}`);
    }
    if (reply.type === 'error') {
      rejected++;
      if (generated.valid) failures.push(`${describe()}: a valid frame was rejected: ${String(reply.code)} ${String(reply.message)}`);
      if (JSON.stringify(after) !== JSON.stringify(table)) failures.push(`${describe()}: rejected (${String(reply.code)}) but the table changed`);
      if (api.requests.length !== requestsBefore) failures.push(`${describe()}: rejected but something was sent`);
      if (!['BAD_REQUEST', 'UNKNOWN_ACTION', 'FORBIDDEN', 'PAYLOAD_TOO_LARGE', 'TOKEN_EXPIRED'].includes(String(reply.code))) {
        failures.push(`${describe()}: unexpected error code ${String(reply.code)}: ${String(reply.message)}`);
      }
    }
    table = after;
    if (failures.length > 20) break;
  }

  expect(failures).toEqual([]);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(rejected).toBeGreaterThanOrEqual(1000);
  for (const name of names) expect(counts[name]).toBeGreaterThan(50);
});
