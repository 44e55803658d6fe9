/**
 * Test support (never bundled): Signature Version 4 checked the way AWS checks it, by
 * signing the received request again and comparing. The reference signer is
 * @smithy/signature-v4, the one inside the AWS SDK, so a request passes only if it is
 * signed as the SDK would sign it, and its path and headers on the wire are the ones signed.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
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
  const headers: Record<string, string> = {};
  for (const name of names) headers[name] = header(name) ?? '';
  const [path, query = ''] = request.url.split('?');
  const [hostname, port] = (header('host') ?? '').split(':');
  const resigned = await referenceSigner(expected, header('x-amz-security-token')).sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: hostname!,
      port: port ? Number(port) : undefined,
      path: path!,
      query: Object.fromEntries(new URLSearchParams(query)),
      headers,
      body: request.body,
    },
    { signingDate: date },
  );
  const expectedAuthorization = resigned.headers.authorization ?? resigned.headers.Authorization;
  if (expectedAuthorization !== authorization) {
    return { errorType: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  return undefined;
}
