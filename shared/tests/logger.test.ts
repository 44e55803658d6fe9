import { Logger, logLevelFromEnv, redact } from '../src';

const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6MTc2NzIyNTYwMH0.c2lnbmF0dXJlLXBhcnQ';

function capture(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'DEBUG') {
  const lines: string[] = [];
  const logger = new Logger({ service: 'test-svc', level, write: (line) => lines.push(line), now: () => new Date('2026-01-01T00:00:00Z') });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

it('writes one JSON object per line with level, timestamp, service, message and fields', () => {
  const { logger, parsed } = capture();
  logger.child({ requestId: 'r-1', connectionId: 'c=' }).info('hello', { n: 1 });
  expect(parsed()).toEqual([
    { level: 'INFO', timestamp: '2026-01-01T00:00:00.000Z', service: 'test-svc', message: 'hello', requestId: 'r-1', connectionId: 'c=', n: 1 },
  ]);
});

it('filters by level', () => {
  const { logger, lines } = capture('WARN');
  logger.debug('d');
  logger.info('i');
  logger.warn('w');
  logger.error('e');
  expect(lines.map((l) => JSON.parse(l).level)).toEqual(['WARN', 'ERROR']);
});

it('never prints a token: sensitive keys and JWT-shaped strings are redacted everywhere', () => {
  const { logger, lines } = capture();
  logger.info(`token in message ${JWT}`, {
    token: 'opaque-token-value',
    headers: { Authorization: `Bearer ${JWT}`, cookie: 'session=abc', 'X-Api-Key': 'k' },
    queryStringParameters: { token: JWT },
    multiValueQueryStringParameters: { token: [JWT] },
    nested: { list: [`see ${JWT} here`], deeper: { id_token: 'x', accessToken: 'y' } },
    error: new Error(`bad token ${JWT}`),
  });
  const text = lines.join('\n');
  for (const secret of ['eyJ', 'opaque-token-value', 'session=abc', 'Bearer']) expect(text).not.toContain(secret);
  const line = JSON.parse(lines[0]!);
  expect(line.message).toBe('token in message [REDACTED_JWT]');
  expect(line.token).toBe('[REDACTED]');
  expect(line.headers).toEqual({ Authorization: '[REDACTED]', cookie: '[REDACTED]', 'X-Api-Key': '[REDACTED]' });
  expect(line.queryStringParameters).toBe('[REDACTED]');
  expect(line.multiValueQueryStringParameters).toBe('[REDACTED]');
  expect(line.nested.list).toEqual(['see [REDACTED_JWT] here']);
  expect(line.error).toMatchObject({ name: 'Error', message: 'bad token [REDACTED_JWT]' });
});

it('redacts an unsigned JWT too, and keeps ordinary strings', () => {
  expect(redact({ s: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' })).toEqual({ s: '[REDACTED_JWT]' });
  expect(redact({ s: 'eyJ alone is fine', n: 1, b: true, z: null })).toEqual({ s: 'eyJ alone is fine', n: 1, b: true, z: null });
});

it('survives cycles, deep objects and odd values', () => {
  const { logger, parsed } = capture();
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 50; i++) deep = (deep.next = {}) as Record<string, unknown>;
  logger.info('odd', { cyclic, root, big: 10n, fn: () => 1, when: new Date(0), set: new Set(['x']) });
  const line = parsed()[0]!;
  expect(line.cyclic).toEqual({ a: 1, self: '[Circular]' });
  expect(JSON.stringify(line.root)).toContain('[Truncated]');
  expect(line).toMatchObject({ big: '10', when: '1970-01-01T00:00:00.000Z', set: ['x'] });
  expect(line.fn).toBeUndefined();
});

it('does not let fields overwrite the envelope', () => {
  const { logger, parsed } = capture();
  logger.info('real', { level: 'FAKE', message: 'fake', service: 'other' });
  expect(parsed()[0]).toMatchObject({ level: 'INFO', message: 'real', service: 'test-svc' });
});

it('takes its level from AWS_LAMBDA_LOG_LEVEL, then WSKIT_LOG_LEVEL, default INFO', () => {
  expect(logLevelFromEnv({})).toBe('INFO');
  expect(logLevelFromEnv({ WSKIT_LOG_LEVEL: 'debug' })).toBe('DEBUG');
  expect(logLevelFromEnv({ WSKIT_LOG_LEVEL: 'debug', AWS_LAMBDA_LOG_LEVEL: 'ERROR' })).toBe('ERROR');
  expect(logLevelFromEnv({ WSKIT_LOG_LEVEL: 'nonsense' })).toBe('INFO');
});
