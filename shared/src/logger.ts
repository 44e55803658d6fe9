/**
 * One structured JSON logger: a JSON object per line on stdout with level, timestamp,
 * service, message and any fields given. Everything logged passes through `redact`, so
 * tokens, cookies, authorization headers, query strings and anything shaped like a JWT
 * never reach the logs.
 */

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const LEVEL_RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  service: string;
  /** Default: AWS_LAMBDA_LOG_LEVEL when set, else WSKIT_LOG_LEVEL, else INFO. */
  level?: LogLevel;
  /** Fields added to every line (for example requestId, connectionId). */
  fields?: LogFields;
  /** Where lines go; default process.stdout. Tests pass their own sink. */
  write?: (line: string) => void;
  /** Clock for the timestamp; tests may pin it. */
  now?: () => Date;
}

export const REDACTED = '[REDACTED]';
export const REDACTED_JWT = '[REDACTED_JWT]';

/** Keys whose values are never logged, compared case-insensitively without `-` and `_`. */
const SENSITIVE_KEY_PARTS = [
  'token',
  'authorization',
  'cookie',
  'querystringparameters',
  'multivaluequerystringparameters',
  'querystring',
  'password',
  'secret',
  'apikey',
  'credential',
  'signature',
];

function isSensitiveKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, '');
  return SENSITIVE_KEY_PARTS.some((part) => normalized.includes(part));
}

/** Three base64url segments, the first starting `eyJ` (a JSON header), as in a JWS/JWT. */
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

export function redactString(value: string): string {
  return value.includes('eyJ') ? value.replace(JWT_PATTERN, REDACTED_JWT) : value;
}

const MAX_DEPTH = 8;
const MAX_STRING = 4096;
const MAX_ARRAY = 50;

/**
 * A deep copy safe to log: sensitive keys replaced, JWT-shaped substrings replaced,
 * errors turned into {name, message, code, stack}, cycles and depth bounded.
 */
export function redact(value: unknown): unknown {
  return redactValue(value, 0, new WeakSet());
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') {
    const clean = redactString(value);
    return clean.length > MAX_STRING ? `${clean.slice(0, MAX_STRING)}...[${clean.length} chars]` : clean;
  }
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return value;
  }
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const out: Record<string, unknown> = { name: value.name, message: redactString(value.message) };
      const extra = value as Error & { code?: unknown; $metadata?: { httpStatusCode?: number } };
      if (extra.code !== undefined) out.code = redactValue(extra.code, depth + 1, seen);
      if (extra.$metadata?.httpStatusCode !== undefined) out.httpStatusCode = extra.$metadata.httpStatusCode;
      if (value.stack) out.stack = redactString(value.stack);
      if (value.cause !== undefined) out.cause = redactValue(value.cause, depth + 1, seen);
      return out;
    }
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ARRAY).map((item) => redactValue(item, depth + 1, seen));
      if (value.length > MAX_ARRAY) items.push(`...[${value.length - MAX_ARRAY} more]`);
      return items;
    }
    if (value instanceof Set) return redactValue([...value], depth, seen);
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === '__proto__') continue;
      out[key] = isSensitiveKey(key) ? REDACTED : redactValue(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function parseLevel(raw: string | undefined): LogLevel | undefined {
  if (!raw) return undefined;
  const upper = raw.trim().toUpperCase();
  if (upper === 'TRACE') return 'DEBUG';
  if (upper === 'FATAL') return 'ERROR';
  if (upper === 'WARNING') return 'WARN';
  return upper in LEVEL_RANK ? (upper as LogLevel) : undefined;
}

/** AWS_LAMBDA_LOG_LEVEL (Lambda's advanced logging controls) wins over WSKIT_LOG_LEVEL. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  return parseLevel(env.AWS_LAMBDA_LOG_LEVEL) ?? parseLevel(env.WSKIT_LOG_LEVEL) ?? 'INFO';
}

const writeStdout = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export class Logger {
  readonly service: string;
  readonly level: LogLevel;
  private readonly fields: LogFields;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(options: LoggerOptions) {
    this.service = options.service;
    this.level = options.level ?? logLevelFromEnv();
    this.fields = options.fields ?? {};
    this.write = options.write ?? writeStdout;
    this.now = options.now ?? (() => new Date());
  }

  /** A logger that adds `fields` (for example {requestId, connectionId}) to every line. */
  child(fields: LogFields): Logger {
    return new Logger({
      service: this.service,
      level: this.level,
      fields: { ...this.fields, ...fields },
      write: this.write,
      now: this.now,
    });
  }

  isEnabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.level];
  }

  debug(message: string, fields?: LogFields): void {
    this.log('DEBUG', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log('INFO', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log('WARN', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.log('ERROR', message, fields);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (!this.isEnabled(level)) return;
    const extra = redact({ ...this.fields, ...fields }) as LogFields;
    const line: LogFields = {
      level,
      timestamp: this.now().toISOString(),
      service: this.service,
      message: redactString(String(message)),
    };
    for (const [key, value] of Object.entries(extra)) {
      if (value !== undefined && !(key in line)) line[key] = value;
    }
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ level, timestamp: line.timestamp, service: this.service, message: line.message });
    }
    this.write(text);
  }
}

export function createLogger(service: string, options: Omit<LoggerOptions, 'service'> = {}): Logger {
  return new Logger({ service, ...options });
}
