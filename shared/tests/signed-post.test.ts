import http from 'node:http';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { PostSigner, SignedPoster, canonicalPath, classifySendError, encodeRfc3986 } from '../src';
import { faults, startManagementApi, type ManagementApiServer } from '@wskit/testing/management-api';
import { seededRandom } from '@wskit/testing/random';
import { referenceSigner, sigV4Problem, type ExpectedSigner } from '@wskit/testing/sigv4';

const SIGNER: ExpectedSigner = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'eu-west-1' };

/** Connection ids as API Gateway makes them (base64: `=`, `+`, `/`), and odder ones. */
function connectionIds(count: number): string[] {
  const random = seededRandom(11);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.~!*\'() %@é';
  const ids = new Set(['L0SM9cOFvHcCIhw=', 'a+b/c==', 'x y', '..', '.', 'é', "it's(*)"]);
  while (ids.size < count) {
    const length = 1 + Math.floor(random() * 24);
    ids.add(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
  }
  return [...ids];
}

describe('PostSigner', () => {
  it('signs exactly as the SDK signer does, for any connection id, host, stage, body and token', async () => {
    const signer = new PostSigner();
    const random = seededRandom(3);
    const hosts = ['a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', '127.0.0.1:8080', 'localhost:3001'];
    const stages = ['', '/prod', '/dev-2', '/v1/inner'];
    let compared = 0;
    for (const id of connectionIds(300)) {
      const host = hosts[Math.floor(random() * hosts.length)]!;
      const path = `${stages[Math.floor(random() * stages.length)]}/@connections/${encodeRfc3986(id)}`;
      const body = Buffer.from(JSON.stringify({ id, n: random() }));
      const sessionToken = random() < 0.5 ? `token/${Math.floor(random() * 1e9)}==` : undefined;
      const date = new Date(Date.UTC(2026, Math.floor(random() * 12), 1 + Math.floor(random() * 28), Math.floor(random() * 24), 7, 9));
      const mine = signer.sign({ host, path, body, region: SIGNER.region, credentials: { ...SIGNER, sessionToken }, date });
      const [hostname, port] = host.split(':');
      const reference = await referenceSigner(SIGNER, sessionToken).sign(
        { method: 'POST', protocol: 'https:', hostname: hostname!, port: port ? Number(port) : undefined, path, query: {}, headers: { host }, body },
        { signingDate: date },
      );
      expect(mine.authorization).toBe(reference.headers.authorization);
      expect(mine['x-amz-date']).toBe(reference.headers['x-amz-date']);
      expect(mine['x-amz-content-sha256']).toBe(reference.headers['x-amz-content-sha256']);
      compared++;
    }
    expect(compared).toBe(300);
  });

  it('keeps the derived key per day, Region and secret', () => {
    const signer = new PostSigner();
    const input = { host: 'h', path: '/s/@connections/x', body: Buffer.from('b'), region: 'eu-west-1', credentials: SIGNER };
    const day1 = signer.sign({ ...input, date: new Date('2026-11-21T23:59:59Z') }).authorization;
    const day2 = signer.sign({ ...input, date: new Date('2026-11-22T00:00:00Z') }).authorization;
    const otherSecret = signer.sign({ ...input, credentials: { ...SIGNER, secretAccessKey: 'other' }, date: new Date('2026-11-22T00:00:00Z') }).authorization;
    const again = new PostSigner().sign({ ...input, date: new Date('2026-11-22T00:00:00Z') }).authorization;
    expect(new Set([day1, day2, otherSecret]).size).toBe(3);
    expect(again).toBe(day2);
  });

  it('builds the canonical path as SigV4 wants it for execute-api', () => {
    expect(canonicalPath('/dev/@connections/abc%3D')).toBe('/dev/%40connections/abc%253D');
    expect(canonicalPath('/a/./b/../c//d/')).toBe('/a/c/d/');
  });
});

describe('the signature check of the test management API', () => {
  const request = (overrides: Partial<{ url: string; body: Buffer; headers: Record<string, string> }> = {}) => {
    const body = Buffer.from('{"hello":1}');
    const url = '/prod/@connections/abc%3D';
    const headers = new PostSigner().sign({ host: '127.0.0.1:9', path: url, body, region: SIGNER.region, credentials: { ...SIGNER, sessionToken: 'tok' }, date: new Date() });
    return { method: 'POST', url, body, headers: { ...headers, 'x-amz-security-token': 'tok' }, ...overrides };
  };

  it('accepts a correct signature and refuses any change to what was signed', async () => {
    const good = request();
    expect(await sigV4Problem(good, SIGNER)).toBeUndefined();
    const refused = async (r: ReturnType<typeof request>, expected = SIGNER) => (await sigV4Problem(r, expected))?.errorType;
    expect(await refused(good, { ...SIGNER, secretAccessKey: 'wrong' })).toBe('InvalidSignatureException');
    expect(await refused({ ...good, url: '/prod/@connections/abd%3D' })).toBe('InvalidSignatureException');
    expect(await refused({ ...good, body: Buffer.from('{"hello":2}') })).toBe('InvalidSignatureException');
    expect(await refused({ ...good, headers: { ...good.headers, 'x-amz-security-token': 'other' } })).toBe('InvalidSignatureException');
    expect(await refused({ ...good, headers: { ...good.headers, 'x-amz-meta': 'unsigned' } })).toBe('InvalidSignatureException');
    expect(await refused({ ...good, headers: { ...good.headers, authorization: '' } })).toBe('MissingAuthenticationTokenException');
    expect(await refused(good, { ...SIGNER, accessKeyId: 'AKIDOTHER' })).toBe('UnrecognizedClientException');
  });

  it('accepts what the SDK client sends', async () => {
    const api = await startManagementApi({ stage: 'prod', verifySignature: SIGNER });
    const client = new ApiGatewayManagementApiClient({ endpoint: api.url, region: SIGNER.region, credentials: SIGNER, maxAttempts: 1 });
    try {
      for (const id of connectionIds(25)) {
        api.connect(id);
        await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.from(`to ${id}`) }));
        expect(api.delivered(id)).toEqual([`to ${id}`]);
      }
      const wrong = new ApiGatewayManagementApiClient({ endpoint: api.url, region: SIGNER.region, credentials: { ...SIGNER, secretAccessKey: 'x' }, maxAttempts: 1 });
      await expect(wrong.send(new PostToConnectionCommand({ ConnectionId: 'L0SM9cOFvHcCIhw=', Data: Buffer.from('x') }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
      wrong.destroy();
    } finally {
      client.destroy();
      await api.stop();
    }
  });
});

describe('SignedPoster', () => {
  let api: ManagementApiServer;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  const poster = () =>
    new SignedPoster({ endpoint: api.url, region: SIGNER.region, credentials: async () => credentials, request: http.request, agent, requestTimeoutMs: 1000, userAgent: 'test' });

  beforeAll(async () => {
    api = await startManagementApi({ stage: 'prod', verifySignature: SIGNER });
  });
  afterAll(async () => {
    agent.destroy();
    await api.stop();
  });
  beforeEach(() => {
    api.reset();
    credentials = { ...SIGNER, sessionToken: 'session-1' };
  });

  it('delivers to any connection id with a signature API Gateway accepts', async () => {
    const p = poster();
    for (const id of connectionIds(60)) {
      api.connect(id);
      await p.post(id, Buffer.from(`for ${id} ✓`));
      expect(api.delivered(id)).toEqual([`for ${id} ✓`]);
    }
  });

  it('raises errors named and classified as the SDK would', async () => {
    const p = poster();
    const error = (id: string) => p.post(id, Buffer.from('x')).then(() => undefined, (e: unknown) => e as Error & { $metadata: { httpStatusCode: number } });
    const cases: Array<[ReturnType<(typeof faults)[keyof typeof faults]>, string, number, string]> = [
      [faults.gone(), 'GoneException', 410, 'gone'],
      [faults.bareGone(), 'Unknown', 410, 'gone'],
      [faults.throttled(), 'LimitExceededException', 429, 'retry'],
      [faults.unavailable(), 'Unknown', 503, 'retry'],
      [faults.forbidden(), 'ForbiddenException', 403, 'fatal'],
      [faults.payloadTooLarge(), 'PayloadTooLargeException', 413, 'fatal'],
    ];
    for (const [fault, name, status, kind] of cases) {
      api.connect('c=');
      api.inject('c=', fault);
      const e = await error('c=');
      expect(e).toMatchObject({ name, $metadata: { httpStatusCode: status } });
      expect(classifySendError(e)).toBe(kind);
    }
    api.inject('c=', faults.reset());
    expect(classifySendError(await error('c='))).toBe('retry');
    api.inject('c=', faults.delay(3000));
    const timedOut = await error('c=');
    expect(timedOut).toMatchObject({ name: 'TimeoutError' });
    expect(classifySendError(timedOut)).toBe('retry');
  });

  it('signs with the credentials current at each request (rotation)', async () => {
    const p = poster();
    api.connect('r=');
    await p.post('r=', Buffer.from('one'));
    credentials = { ...SIGNER, sessionToken: 'session-2' };
    await p.post('r=', Buffer.from('two'));
    credentials = { ...SIGNER, secretAccessKey: 'revoked', sessionToken: 'session-3' };
    await expect(p.post('r=', Buffer.from('three'))).rejects.toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
    expect(api.delivered('r=')).toEqual(['one', 'two']);
  });

  it('stops at the abort signal', async () => {
    api.connect('a=');
    api.inject('a=', faults.delay(2000));
    const started = Date.now();
    await expect(poster().post('a=', Buffer.from('x'), AbortSignal.timeout(100))).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
