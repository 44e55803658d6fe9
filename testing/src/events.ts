/**
 * Test support (never bundled): API Gateway WebSocket events shaped like the real ones, and
 * a Lambda-like context.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export interface EventOptions {
  connectionId?: string;
  userId?: string | null;
  scope?: string;
  /** Token expiry, epoch seconds; sent as a string like API Gateway may. */
  exp?: number;
  apiId?: string;
  stage?: string;
  connectedAt?: number;
  sourceIp?: string;
  userAgent?: string;
}

/** A connection id shaped like API Gateway's (e.g. `L0SM9cOFvHcCIhw=`). */
export function newConnectionId(): string {
  return randomBytes(10).toString('base64');
}

function baseContext(routeKey: string, eventType: string, options: EventOptions) {
  const now = Date.now();
  const userId = options.userId === undefined ? 'alice' : options.userId;
  return {
    routeKey,
    eventType,
    extendedRequestId: `${randomBytes(6).toString('base64')}=`,
    requestTime: new Date(now).toUTCString(),
    messageDirection: 'IN',
    stage: options.stage ?? 'local',
    connectedAt: options.connectedAt ?? now - 1000,
    requestTimeEpoch: now,
    identity: { sourceIp: options.sourceIp ?? '198.51.100.23', userAgent: options.userAgent ?? 'Mozilla/5.0 (wskit tests)' },
    requestId: `${randomBytes(6).toString('base64').replace(/[+/=]/g, 'x')}=`,
    domainName: `${options.apiId ?? 'a1b2c3d4e5'}.execute-api.us-east-1.amazonaws.com`,
    connectionId: options.connectionId ?? 'L0SM9cOFvHcCIhw=',
    apiId: options.apiId ?? 'a1b2c3d4e5',
    ...(userId === null
      ? {}
      : {
          authorizer: {
            principalId: userId,
            userId,
            scope: options.scope ?? '',
            exp: String(options.exp ?? Math.floor(now / 1000) + 3600),
            integrationLatency: 42,
          },
        }),
  };
}

export function connectEvent(options: EventOptions = {}) {
  return {
    headers: { Host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com', 'Sec-WebSocket-Version': '13' },
    multiValueHeaders: { Host: ['a1b2c3d4e5.execute-api.us-east-1.amazonaws.com'] },
    queryStringParameters: { token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl' },
    multiValueQueryStringParameters: { token: ['eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'] },
    requestContext: baseContext('$connect', 'CONNECT', options),
    isBase64Encoded: false,
  };
}

export function messageEvent(body: string | null | undefined, options: EventOptions & { routeKey?: string; isBase64Encoded?: boolean } = {}) {
  return {
    requestContext: { ...baseContext(options.routeKey ?? '$default', 'MESSAGE', options), messageId: `${randomBytes(6).toString('base64')}=` },
    body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

export function disconnectEvent(options: EventOptions & { statusCode?: number; reason?: string } = {}) {
  return {
    headers: { Host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com' },
    requestContext: {
      ...baseContext('$disconnect', 'DISCONNECT', options),
      disconnectStatusCode: options.statusCode ?? 1001,
      disconnectReason: options.reason ?? 'Going away',
    },
    isBase64Encoded: false,
  };
}

export interface HttpEventOptions {
  method: 'GET' | 'POST';
  topic: string;
  /** The caller: a user (the authorizer's context) or an IAM principal ARN. */
  userId?: string | null;
  scope?: string;
  exp?: number;
  iamPrincipal?: string;
  query?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

/** An HTTP API request event (payload format 2.0), as API Gateway sends it to the integration. */
export function httpEvent(options: HttpEventOptions) {
  const now = Date.now();
  const iam = options.iamPrincipal !== undefined;
  const routeKey = `${options.method} ${iam ? '/iam' : ''}/topics/{topic}/messages`;
  const rawQueryString = new URLSearchParams(options.query ?? {}).toString();
  const userId = options.userId === undefined ? 'alice' : options.userId;
  return {
    version: '2.0',
    routeKey,
    rawPath: `/${iam ? 'iam/' : ''}topics/${encodeURIComponent(encodeURIComponent(options.topic))}/messages`,
    rawQueryString,
    headers: { 'content-type': 'application/json', host: 'h1t2t3p4a5.execute-api.us-east-1.amazonaws.com', 'user-agent': 'wskit tests' },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    pathParameters: { topic: options.topic },
    ...(options.body !== undefined ? { body: options.body, isBase64Encoded: options.isBase64Encoded ?? false } : { isBase64Encoded: false }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'h1t2t3p4a5',
      domainName: 'h1t2t3p4a5.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'h1t2t3p4a5',
      http: { method: options.method, path: `/topics/${options.topic}/messages`, protocol: 'HTTP/1.1', sourceIp: '198.51.100.23', userAgent: 'wskit tests' },
      requestId: `${randomBytes(6).toString('base64').replace(/[+/=]/g, 'x')}=`,
      routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
      ...(iam
        ? { authorizer: { iam: { accessKey: 'AKIDLOCAL', accountId: '123456789012', callerId: 'AIDALOCAL', userArn: options.iamPrincipal, userId: 'AIDALOCAL' } } }
        : userId === null
          ? {}
          : { authorizer: { lambda: { userId, scope: options.scope ?? '', exp: options.exp ?? Math.floor(now / 1000) + 3600 } } }),
    },
  };
}

/** A Lambda-like context whose deadline is `timeoutMs` from now. */
export function lambdaContext(timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: randomUUID(),
    functionName: 'wskit-test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Captures the JSON log lines a handler writes to stdout while `fn` runs. */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
    void rest;
  }) as typeof process.stdout.write;
  try {
    const result = await fn();
    return { result, lines: lines.join('').split('\n').filter(Boolean) };
  } finally {
    process.stdout.write = original;
  }
}
