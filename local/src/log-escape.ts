/**
 * Everything the gateway writes to a log passes through here: a value that came from the
 * wire (a close reason, a header, a function's output) can hold a newline, a carriage
 * return, an ANSI escape or a bidi control, and written raw it would forge a log line or
 * repaint the terminal. Control, format, separator, surrogate, private-use and unassigned
 * code points become visible escapes (`\n`, `\r`, `\t`, `\u001b`, `\u{e0001}`), and so
 * does the backslash itself, so an escape in the output is never ambiguous.
 */

// The plain ASCII space is the only separator left alone.
const UNSAFE = /[\\\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

const NAMED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Longest text kept from one value; the rest is counted, not written. */
export const MAX_LOG_VALUE_CHARS = 2048;

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.codePointAt(0)!;
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
}

/** One value as a single printable line. */
export function escapeLogText(value: string, maxChars = MAX_LOG_VALUE_CHARS): string {
  const clipped = value.length > maxChars ? value.slice(0, maxChars) : value;
  const escaped = clipped.replace(UNSAFE, escapeChar);
  return value.length > maxChars ? `${escaped}...(${value.length - maxChars} more characters)` : escaped;
}

/**
 * A log entry with every string in it (keys too, at any depth) escaped; numbers, booleans
 * and null stay as they are, anything else becomes its escaped string form.
 */
export function sanitizeLogValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return escapeLogText(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return value;
  if (typeof value === 'bigint') return value.toString();
  if (depth >= 8) return '[nested too deep]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => sanitizeLogValue(v, depth + 1));
  if (value instanceof Error) return escapeLogText(`${value.name}: ${value.message}`);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeLogText(k, 256), sanitizeLogValue(v, depth + 1)]));
  }
  return escapeLogText(String(value));
}

export type LogEntry = Record<string, unknown>;

export function sanitizeLogEntry(entry: LogEntry): LogEntry {
  return sanitizeLogValue(entry) as LogEntry;
}
