import { MAX_TOKEN_BYTES, type TokenSource } from './config';
import { Denial } from './denial';

/** The slice of the API Gateway WebSocket REQUEST authorizer event the authorizer reads. */
export interface WebSocketAuthorizerEvent {
  type?: string;
  methodArn?: string;
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
  stageVariables?: Record<string, string | undefined> | null;
  requestContext?: {
    routeKey?: string;
    eventType?: string;
    connectionId?: string;
    requestId?: string;
    apiId?: string;
    stage?: string;
    domainName?: string;
    identity?: { sourceIp?: string; userAgent?: string };
    [key: string]: unknown;
  };
}

export interface FoundToken {
  token: string;
  /** e.g. `query:token`; safe to log. */
  source: string;
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BEARER = /^bearer[ \t]+/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Values of `name` in a (multi)value map; header names match case-insensitively. */
function lookup(single: unknown, multi: unknown, name: string, caseInsensitive: boolean): string[] {
  const values: string[] = [];
  const collect = (map: unknown, take: (value: unknown) => void): void => {
    if (!isRecord(map)) return;
    for (const key of Object.keys(map)) {
      if (caseInsensitive ? key.toLowerCase() === name : key === name) take(map[key]);
    }
  };
  collect(multi, (value) => {
    if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') values.push(item);
  });
  if (values.length === 0) collect(single, (value) => {
    if (typeof value === 'string') values.push(value);
  });
  return values;
}

/**
 * Takes the token from the first configured source that carries one. A source that
 * carries two different values is refused rather than guessed.
 */
export function extractToken(event: WebSocketAuthorizerEvent, sources: TokenSource[]): FoundToken {
  let sawEmpty = false;
  for (const source of sources) {
    const raw =
      source.kind === 'query'
        ? lookup(event.queryStringParameters, event.multiValueQueryStringParameters, source.name, false)
        : lookup(event.headers, event.multiValueHeaders, source.name, true);
    const values = [...new Set(raw.map((value) => (source.kind === 'header' ? value.replace(BEARER, '') : value)))];
    const present = values.filter((value) => value.length > 0);
    if (present.length === 0) {
      sawEmpty ||= values.length > 0;
      continue;
    }
    if (present.length > 1) throw new Denial('ambiguous token');
    return { token: present[0] as string, source: `${source.kind}:${source.name}` };
  }
  throw new Denial(sawEmpty ? 'empty token' : 'missing token');
}

export interface TokenHeader {
  alg: string;
  kid?: string;
}

function decodeSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Cheap structural checks before any key lookup or cryptography: size, the three
 * base64url segments of a signed JWS, a JSON object header with an allowed `alg`, a JSON
 * object payload.
 */
export function inspectToken(token: string, algorithms: readonly string[]): TokenHeader {
  if (token.length > MAX_TOKEN_BYTES) throw new Denial('token too large');
  if (!JWS_COMPACT.test(token)) throw new Denial('malformed token');
  const [headerSegment = '', payloadSegment = ''] = token.split('.');
  const header = decodeSegment(headerSegment);
  if (!isRecord(header) || typeof header.alg !== 'string') throw new Denial('malformed header');
  if (!isRecord(decodeSegment(payloadSegment))) throw new Denial('malformed payload');
  if (!algorithms.includes(header.alg)) throw new Denial('algorithm not allowed');
  // RFC 7515 4.1.11: a recipient that does not understand a critical extension must refuse.
  if (header.crit !== undefined) throw new Denial('unsupported critical header');
  if (header.kid === undefined) return { alg: header.alg };
  if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 256) {
    throw new Denial('invalid kid');
  }
  return { alg: header.alg, kid: header.kid };
}
