/** How a failed management API call is classified: the connection is gone, try again, or give up. */

export type ErrorClass = 'gone' | 'retry' | 'fatal';

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

export function statusOf(error: unknown): number | undefined {
  const e = error as { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
  return e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
}

export function classifySendError(error: unknown): ErrorClass {
  const name = (error as { name?: string })?.name;
  const status = statusOf(error);
  if (name === 'GoneException' || status === 410) return 'gone';
  if (status === 429 || name === 'LimitExceededException' || name === 'ThrottlingException') return 'retry';
  if (status !== undefined && status >= 500) return 'retry';
  if (status === undefined) {
    const code = (error as { code?: string })?.code;
    if (name === 'TimeoutError' || name === 'RequestTimeout') return 'retry';
    if (code && RETRYABLE_NETWORK_CODES.has(code)) return 'retry';
    if (name && RETRYABLE_NETWORK_CODES.has(name)) return 'retry';
    if (/socket hang up|ECONNRESET|EPIPE/i.test((error as Error)?.message ?? '')) return 'retry';
  }
  return 'fatal';
}

/** A "slow down" answer (429 / LimitExceededException). */
export function isThrottle(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return statusOf(error) === 429 || name === 'LimitExceededException' || name === 'ThrottlingException';
}
