/** API Gateway WebSocket limits and the frame bounds wskit enforces (DESIGN.md, "AWS facts"). */
export const LIMITS = {
  /** Largest message API Gateway accepts or delivers (UTF-8 bytes). */
  maxMessageBytes: 131072,
  /** Largest single WebSocket frame a client may send (UTF-8 bytes); bigger closes with 1009. */
  maxFrameBytes: 32768,
  /** No data frame either way for this long closes the connection. */
  idleTimeoutSeconds: 600,
  /** API Gateway closes every connection after this long. */
  maxConnectionSeconds: 7200,
} as const;

export type Limits = typeof LIMITS;

/** Longest request `id` a frame may carry (characters). */
export const MAX_REQUEST_ID_LENGTH = 128;
/** Deepest nesting accepted in a frame (objects and arrays). */
export const MAX_JSON_DEPTH = 32;
/** Keys refused anywhere in a frame: they can reach an object's prototype when copied. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** UTF-8 byte length of a string, counted without allocating (lone surrogates count 3, as TextEncoder writes U+FFFD). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
