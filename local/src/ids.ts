import { randomBytes, randomUUID } from 'node:crypto';

/**
 * API Gateway ids (connectionId, requestId, messageId, extendedRequestId) are 16
 * characters of URL-safe base64 over 11 bytes, so they end in `=` and may contain `-`
 * and `_` (for example `Kf2bqd9WywMCEng=`). Handlers must treat them as opaque strings
 * and URL-encode them in @connections paths; the local ids keep that shape on purpose.
 */
export function apiGatewayId(): string {
  return randomBytes(11).toString('base64url') + '=';
}

export function lambdaRequestId(): string {
  return randomUUID();
}

/** X-Amzn-Trace-Id root, `1-<8 hex epoch seconds>-<24 hex>`. */
export function traceId(nowMs: number): string {
  const seconds = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
  return `Root=1-${seconds}-${randomBytes(12).toString('hex')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestTime` in the Common Log Format API Gateway uses: `09/Feb/2024:18:11:43 +0000`. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}
