/**
 * Minimal structured JSON logger for the authorizer.
 *
 * Stand-in until `@wskit/shared` ships the project logger: same line shape
 * (`level`, `timestamp`, `service`, `message`, then the fields), same level variables
 * (`WSKIT_LOG_LEVEL`, `AWS_LAMBDA_LOG_LEVEL` wins when set). Swap the import in
 * `authorizer.ts` and `index.ts` for the shared one when it lands.
 *
 * Callers never pass a token, a claim or a raw error message from token parsing.
 */

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type LogFields = Record<string, string | number | boolean | undefined>;

const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where a finished line goes; stdout by default (one JSON object per line). */
  write?: (line: string) => void;
}

/** Reads the level the way Lambda and the project do; unknown values fall back to INFO. */
export function levelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const raw = (env.AWS_LAMBDA_LOG_LEVEL ?? env.WSKIT_LOG_LEVEL ?? 'INFO').trim().toUpperCase();
  if (raw === 'TRACE') return 'DEBUG';
  if (raw === 'FATAL') return 'ERROR';
  return raw in ORDER ? (raw as LogLevel) : 'INFO';
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = ORDER[options.level ?? 'INFO'];
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (ORDER[level] < threshold) return;
    const line: Record<string, unknown> = {
      level,
      timestamp: new Date().toISOString(),
      service: options.service,
      message,
    };
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        // The four envelope keys cannot be overwritten by a field.
        if (value !== undefined && !(key in line)) line[key] = value;
      }
    }
    write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (message, fields) => emit('DEBUG', message, fields),
    info: (message, fields) => emit('INFO', message, fields),
    warn: (message, fields) => emit('WARN', message, fields),
    error: (message, fields) => emit('ERROR', message, fields),
  };
}
