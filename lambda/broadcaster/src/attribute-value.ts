/**
 * DynamoDB Streams images arrive in the low-level AttributeValue shape. This converts them
 * to plain JSON without loading the SDK (the broadcaster keeps its init cheap).
 *
 * Numbers become JSON numbers when they have at most 15 significant digits, else strings (a 38-digit
 * DynamoDB number would lose digits as a double). Binary becomes base64; sets become arrays.
 */
export type AttributeValue = Record<string, unknown>;

export class ImageError extends Error {
  override readonly name = 'ImageError';
}

function toNumber(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  // A double holds 15 significant decimal digits exactly; more stay text.
  const significant = text.replace(/^[+-]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return significant.length <= 15 ? n : text;
}

function binary(value: unknown): string {
  if (typeof value === 'string') return value; // Lambda delivers B as base64 already
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  throw new ImageError('a B value is neither base64 text nor bytes');
}

export function fromAttributeValue(av: unknown, depth = 0): unknown {
  if (depth > 32) throw new ImageError('the image nests deeper than 32 levels');
  if (av === null || typeof av !== 'object' || Array.isArray(av)) throw new ImageError('not an AttributeValue object');
  const entries = Object.entries(av as AttributeValue);
  if (entries.length !== 1) throw new ImageError(`an AttributeValue has one type key, found ${entries.length}`);
  const [type, value] = entries[0]!;
  switch (type) {
    case 'S':
      if (typeof value !== 'string') break;
      return value;
    case 'N':
      if (typeof value !== 'string') break;
      return toNumber(value);
    case 'BOOL':
      if (typeof value !== 'boolean') break;
      return value;
    case 'NULL':
      return null;
    case 'B':
      return binary(value);
    case 'SS':
      if (!Array.isArray(value)) break;
      return value.map(String);
    case 'NS':
      if (!Array.isArray(value)) break;
      return value.map((v) => toNumber(String(v)));
    case 'BS':
      if (!Array.isArray(value)) break;
      return value.map(binary);
    case 'L':
      if (!Array.isArray(value)) break;
      return value.map((v) => fromAttributeValue(v, depth + 1));
    case 'M':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) break;
      return fromImage(value as Record<string, unknown>, depth + 1);
    default:
      throw new ImageError(`unknown AttributeValue type "${type}"`);
  }
  throw new ImageError(`malformed ${type} AttributeValue`);
}

/** A stream image (`NewImage` / `OldImage`) as a plain object. */
export function fromImage(image: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(image)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    out[key] = fromAttributeValue(value, depth);
  }
  return out;
}
