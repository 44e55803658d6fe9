/**
 * Test support (never bundled): Signature Version 4 checked the way AWS checks it, by
 * computing the signature of the received request (its path, query, signed headers and
 * body as they arrived) and comparing. The computation follows the SigV4 rules for services
 * other than S3; tests hold it to @smithy/signature-v4, the signer inside the AWS SDK
 * (`referenceSigner`), so a request passes only if it is signed as the SDK would sign it.
 * It keeps the derived keys, so a local gateway checks thousands of requests a second.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** node:crypto SHA-256 (or HMAC-SHA-256 with a key) in the shape the smithy signer expects. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export interface ExpectedSigner {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
}

export function referenceSigner(expected: ExpectedSigner, sessionToken?: string): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: expected.accessKeyId, secretAccessKey: expected.secretAccessKey, sessionToken },
    region: expected.region,
    service: expected.service ?? 'execute-api',
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: true,
  });
}

const rfc3986 = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const decode = (value: string) => {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
};

/** The canonical URI outside S3: dot and empty segments removed, the received (encoded) path encoded once more. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return rfc3986(normalized).replace(/%2F/g, '/');
}

/** Parameters sorted by encoded name then value, each name and value RFC 3986 encoded. */
function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      const [name, value] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      return [rfc3986(decode(name)), rfc3986(decode(value))] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** The derived key per secret, day, Region and service (what every request of a day shares). */
const signingKeys = new Map<string, Buffer>();
function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const cacheKey = `${secret}\n${day}\n${region}\n${service}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest();
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
    if (signingKeys.size >= 64) signingKeys.clear();
    signingKeys.set(cacheKey, key);
  }
  return key;
}

/** `20261122T030414Z` as a Date. */
function parseAmzDate(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return new Date(NaN);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export interface ReceivedRequest {
  method: string;
  /** The path and query exactly as received (still percent-encoded). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/**
 * Why the request's signature is not valid for `expected`, or undefined when it is.
 * The error names are the ones API Gateway answers with (403).
 */
export async function sigV4Problem(request: ReceivedRequest, expected: ExpectedSigner): Promise<{ errorType: string; message: string } | undefined> {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const authorization = header('authorization');
  if (!authorization) return { errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!m) return { errorType: 'IncompleteSignatureException', message: `malformed Authorization header` };
  const [, keyId, day, region, service, signedHeaders, signature] = m;
  if (keyId !== expected.accessKeyId) return { errorType: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (region !== expected.region || service !== (expected.service ?? 'execute-api')) {
    return { errorType: 'InvalidSignatureException', message: `credential scope ${region}/${service} does not match ${expected.region}` };
  }
  const date = parseAmzDate(header('x-amz-date') ?? '');
  if (Number.isNaN(date.getTime()) || header('x-amz-date')!.slice(0, 8) !== day) {
    return { errorType: 'IncompleteSignatureException', message: 'x-amz-date is missing or does not match the credential scope' };
  }
  if (Math.abs(Date.now() - date.getTime()) > 5 * 60_000) return { errorType: 'InvalidSignatureException', message: 'Signature expired' };
  const names = signedHeaders!.split(';');
  if (!names.includes('host')) return { errorType: 'InvalidSignatureException', message: 'host is not signed' };
  for (const name of Object.keys(request.headers)) {
    if (name.startsWith('x-amz-') && !names.includes(name)) {
      return { errorType: 'InvalidSignatureException', message: `${name} is sent but not signed` };
    }
  }
  // Outside S3 the payload hash is the body's, whatever a header claims.
  const claimedHash = header('x-amz-content-sha256');
  if (claimedHash !== undefined && claimedHash !== createHash('sha256').update(request.body).digest('hex')) {
    return { errorType: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  const payloadHash = claimedHash ?? createHash('sha256').update(request.body).digest('hex');
  const [path, query = ''] = request.url.split('?');
  const canonicalHeaders = names.map((name) => `${name}:${(header(name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [request.method, canonicalPath(path!), canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${header('x-amz-date')}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const expectedSignature = createHmac('sha256', signingKey(expected.secretAccessKey, day!, region!, service!)).update(stringToSign).digest('hex');
  if (!timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature!))) {
    return { errorType: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  return undefined;
}
