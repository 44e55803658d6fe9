import { MAX_JSON_DEPTH, checkJsonStructure, isValidTopic, parseClientFrame, validateClientFrame } from '../src';

const ok = (body: string) => {
  const result = parseClientFrame(body);
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.frame;
};
const err = (body: unknown) => {
  const result = parseClientFrame(body);
  if (result.ok) throw new Error(`expected an error for ${String(body)}`);
  return result;
};

describe('parseClientFrame', () => {
  it('accepts every action with its fields and keeps only known fields', () => {
    expect(ok('{"action":"hello","id":"1","extra":true}')).toEqual({ action: 'hello', id: '1' });
    expect(ok('{"action":"ping","ts":5}')).toEqual({ action: 'ping', ts: 5 });
    expect(ok('{"action":"subscribe","topic":"a.b","since":0}')).toEqual({ action: 'subscribe', topic: 'a.b', since: 0 });
    expect(ok('{"action":"unsubscribe","topic":"x"}')).toEqual({ action: 'unsubscribe', topic: 'x' });
    expect(ok('{"action":"publish","topic":"x","data":null}')).toEqual({ action: 'publish', topic: 'x', data: null });
    expect(ok('{"action":"sendmessage","topic":"x","data":{"a":[1]}}')).toEqual({ action: 'sendmessage', topic: 'x', data: { a: [1] } });
  });

  it('refuses empty, non-text, non-JSON and non-object frames with BAD_REQUEST', () => {
    for (const body of [null, undefined, '', 42, {}, 'nope', '[1]', '"s"', '3', 'null']) {
      expect(err(body).error.code).toBe('BAD_REQUEST');
    }
  });

  it('echoes only a valid string id of at most 128 characters', () => {
    expect(err('{"action":"nope","id":"abc"}')).toMatchObject({ id: 'abc', error: { code: 'UNKNOWN_ACTION' } });
    expect(ok(`{"action":"ping","id":"${'x'.repeat(128)}"}`).id).toHaveLength(128);
    for (const id of [`"${'x'.repeat(129)}"`, '1', 'null', '{}', '[]', 'true']) {
      const result = err(`{"action":"ping","id":${id}}`);
      expect(result.error.code).toBe('BAD_REQUEST');
      expect(result.id).toBeUndefined();
    }
  });

  it('distinguishes a missing or non-string action from an unknown one', () => {
    expect(err('{"id":"a"}')).toMatchObject({ id: 'a', error: { code: 'BAD_REQUEST' } });
    expect(err('{"action":1}').error.code).toBe('BAD_REQUEST');
    expect(err('{"action":"PING"}').error.code).toBe('UNKNOWN_ACTION');
    expect(err(`{"action":"${'z'.repeat(5000)}"}`).error.message.length).toBeLessThan(200);
  });

  it('validates topics, data, ts and since', () => {
    expect(err('{"action":"subscribe"}').error.message).toMatch(/"topic" is required/);
    expect(err('{"action":"subscribe","topic":""}').error.code).toBe('BAD_REQUEST');
    expect(err(`{"action":"subscribe","topic":"${'t'.repeat(257)}"}`).error.code).toBe('BAD_REQUEST');
    expect(ok(`{"action":"subscribe","topic":"${'t'.repeat(256)}"}`)).toMatchObject({ action: 'subscribe' });
    expect(err('{"action":"subscribe","topic":"a b"}').error.message).toMatch(/no spaces, control or format characters/);
    expect(err('{"action":"publish","topic":"x"}').error.message).toMatch(/"data" is required/);
    expect(err('{"action":"ping","ts":"1"}').error.code).toBe('BAD_REQUEST');
    for (const since of ['-1', '1.5', '"1"', '1e300']) expect(err(`{"action":"subscribe","topic":"x","since":${since}}`).error.code).toBe('BAD_REQUEST');
  });

  it('refuses __proto__, constructor and prototype keys at any depth without polluting', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      expect(err(`{"action":"ping","id":"p","${key}":{"polluted":1}}`)).toMatchObject({ id: 'p', error: { code: 'BAD_REQUEST' } });
      expect(err(`{"action":"publish","topic":"x","data":[{"a":{"${key}":1}}]}`).error.message).toContain(key);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A value equal to a forbidden word is fine; only keys are refused.
    expect(ok('{"action":"publish","topic":"x","data":"__proto__"}')).toMatchObject({ data: '__proto__' });
  });

  it(`accepts nesting up to ${MAX_JSON_DEPTH} levels and refuses deeper, without recursion`, () => {
    const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(ok(`{"action":"publish","topic":"x","data":${nest(MAX_JSON_DEPTH - 1)}}`)).toMatchObject({ action: 'publish' });
    expect(err(`{"action":"publish","topic":"x","data":${nest(MAX_JSON_DEPTH)}}`).error.message).toMatch(/nested deeper/);
    expect(checkJsonStructure(JSON.parse(nest(50_000)))).toMatch(/nested deeper/);
  });

  it('refuses a body over 128 KB (UTF-8 bytes) with PAYLOAD_TOO_LARGE', () => {
    const pad = (n: number, ch: string) => `{"action":"ping","p":"${ch.repeat(n)}"}`;
    const base = pad(0, 'x').length;
    expect(ok(pad(131_072 - base, 'x'))).toMatchObject({ action: 'ping' });
    expect(err(pad(131_072 - base + 1, 'x')).error.code).toBe('PAYLOAD_TOO_LARGE');
    // 2-byte characters: short in UTF-16 units, over the limit in bytes.
    expect(err(pad(66_000, 'é')).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('validateClientFrame refuses arrays and primitives', () => {
    for (const value of [[], 1, 'x', null, undefined, true]) expect(validateClientFrame(value).ok).toBe(false);
  });

  it('reads own properties only: an inherited action, topic or data is not there', () => {
    const inherited = Object.create({ action: 'publish', topic: 'x', data: 1 }) as Record<string, unknown>;
    expect(validateClientFrame(inherited)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const noTopic = Object.assign(Object.create({ topic: 'x', data: 1 }) as object, { action: 'publish' });
    expect(validateClientFrame(noTopic)).toMatchObject({ ok: false, error: { message: '"topic" is required' } });
  });
});

describe('history, report and traceparent', () => {
  it('validates history frames', () => {
    expect(ok('{"action":"history","topic":"room.a"}')).toEqual({ action: 'history', topic: 'room.a' });
    expect(ok('{"action":"history","topic":"room.a","since":5,"limit":10,"id":"h"}')).toEqual({ action: 'history', topic: 'room.a', since: 5, limit: 10, id: 'h' });
    for (const extra of ['"limit":0', '"limit":1001', '"limit":1.5', '"since":-1', '"since":"3"']) {
      expect(err(`{"action":"history","topic":"a",${extra}}`).error.code).toBe('BAD_REQUEST');
    }
    expect(err('{"action":"history"}').error.message).toMatch(/"topic" is required/);
  });

  it('keeps the known, bounded fields of a report and refuses the rest', () => {
    const report = {
      clientVersion: '0.1.0',
      periodMs: 60000,
      counters: { reconnects: 2, messagesReceived: 10, bogus: 5 },
      rttMs: { p50: 40, p95: 90, count: 12 },
      qualityMs: { good: 50000, poor: 10000, excellent: 1 },
    };
    expect(ok(JSON.stringify({ action: 'report', report }))).toEqual({
      action: 'report',
      report: { clientVersion: '0.1.0', periodMs: 60000, counters: { reconnects: 2, messagesReceived: 10 }, rttMs: { p50: 40, p95: 90, count: 12 }, qualityMs: { good: 50000, poor: 10000 } },
    });
    const bad = [
      { ...report, clientVersion: 'a b' },
      { ...report, clientVersion: 'x'.repeat(33) },
      { ...report, periodMs: 0 },
      { ...report, counters: { reconnects: -1 } },
      { ...report, counters: [] },
      { ...report, rttMs: { p50: 100, p95: 50, count: 1 } },
      { ...report, qualityMs: { good: 1e12 } },
      null,
      'report',
    ];
    for (const value of bad) expect(err(JSON.stringify({ action: 'report', report: value })).error.code).toBe('BAD_REQUEST');
  });

  it('carries a valid traceparent and ignores an invalid one', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(ok(JSON.stringify({ action: 'ping', traceparent }))).toEqual({ action: 'ping', traceparent });
    for (const bad of ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x', 5]) {
      expect(ok(JSON.stringify({ action: 'ping', traceparent: bad }))).toEqual({ action: 'ping' });
    }
  });

  it('maps topics to HTTP paths and back', () => {
    const { topicMessagesPath, topicFromMessagesPath } = jest.requireActual<typeof import('../src')>('../src');
    for (const topic of ['room.a', 'team.a/x', 'user:auth0|abc', 'ünï #1?', '100%', 'a%2Fb']) {
      const path = topicMessagesPath(topic);
      // One segment even after API Gateway's first decoding (for route matching).
      expect(decodeURIComponent(path).split('/')).toHaveLength(4);
      expect(topicFromMessagesPath(path)).toBe(topic);
    }
    expect(topicMessagesPath('team.a/x')).toBe('/topics/team.a%252Fx/messages');
    expect(topicFromMessagesPath('/topics/a/b/messages')).toBeUndefined();
    expect(topicFromMessagesPath('/topics/%E0%A4%A/messages')).toBeUndefined();
    expect(topicFromMessagesPath('/topics/%25E0%25A4%25A/messages')).toBeUndefined();
  });
});

describe('application routes', () => {
  it('validate an alias as the action it stands for, and nothing else', () => {
    const aliases = new Map([['chat_message', 'publish' as const]]);
    expect(parseClientFrame('{"action":"chat_message","topic":"room.1","data":"hi"}', { aliases })).toEqual({
      ok: true,
      frame: { action: 'publish', topic: 'room.1', data: 'hi' },
    });
    expect(parseClientFrame('{"action":"chat_message","topic":"room.1"}', { aliases })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(parseClientFrame('{"action":"chat_message"}')).toMatchObject({ ok: false, error: { code: 'UNKNOWN_ACTION' } });
    for (const inherited of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(parseClientFrame(JSON.stringify({ action: inherited }), { aliases })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_ACTION' } });
    }
  });
});
