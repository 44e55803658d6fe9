import { apiGatewayId, requestTime, traceId } from './ids';

/** Everything about a connection that later events repeat. */
export interface ConnectionFacts {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string | undefined;
  domainName: string;
  /** `requestContext.authorizer` as API Gateway passes it, set after the authorizer ran. */
  authorizer?: Record<string, unknown>;
}

export interface ApiFacts {
  apiId: string;
  stage: string;
  region: string;
  accountId: string;
}

export interface UpgradeRequestFacts {
  /** Header name/value pairs as the client sent them (names keep their case). */
  rawHeaders: string[];
  query: URLSearchParams;
  port: number;
}

type HeaderMaps = { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> };
type QueryMaps = {
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
};

// Hop-by-hop headers API Gateway consumes and does not forward to the integration.
const DROPPED_HEADERS = new Set(['connection', 'upgrade']);

function identity(conn: ConnectionFacts): Record<string, string> {
  const id: Record<string, string> = { sourceIp: conn.sourceIp };
  if (conn.userAgent !== undefined) id.userAgent = conn.userAgent;
  return id;
}

function baseContext(api: ApiFacts, conn: ConnectionFacts, now: number, requestId: string) {
  return {
    extendedRequestId: requestId,
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage: api.stage,
    connectedAt: conn.connectedAt,
    requestTimeEpoch: now,
    identity: identity(conn),
    requestId,
    domainName: conn.domainName,
    connectionId: conn.connectionId,
    apiId: api.apiId,
  };
}

/** The `$connect` request's headers, with the X-Forwarded-* and trace headers API Gateway adds. */
export function connectHeaders(req: UpgradeRequestFacts, conn: ConnectionFacts, now: number): HeaderMaps {
  // Names come from the wire: collected in Maps and turned into objects with own properties
  // only, so `__proto__` or `constructor` is a header like any other.
  const keys = new Map<string, string>(); // lowercase -> the spelling first seen
  const last = new Map<string, string>();
  const all = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const lower = name.toLowerCase();
    let key = keys.get(lower);
    if (key === undefined) {
      key = name;
      keys.set(lower, key);
      all.set(key, []);
    }
    last.set(key, value);
    all.get(key)!.push(value);
  };
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (DROPPED_HEADERS.has(name.toLowerCase())) continue;
    add(name, req.rawHeaders[i + 1]!);
  }
  add('X-Amzn-Trace-Id', traceId(now));
  add('X-Forwarded-For', conn.sourceIp);
  add('X-Forwarded-Port', String(req.port));
  add('X-Forwarded-Proto', 'http');
  return { headers: Object.fromEntries(last), multiValueHeaders: Object.fromEntries(all) };
}

/** Query maps are absent when the URL has no query string, as on API Gateway. */
export function queryMaps(query: URLSearchParams): QueryMaps {
  const keys = [...new Set(query.keys())];
  if (keys.length === 0) return {};
  return {
    queryStringParameters: Object.fromEntries(keys.map((key) => [key, query.getAll(key).at(-1)!])),
    multiValueQueryStringParameters: Object.fromEntries(keys.map((key) => [key, query.getAll(key)])),
  };
}

export function methodArn(api: ApiFacts): string {
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${api.stage}/$connect`;
}

/** The REQUEST authorizer event for `$connect`. */
export function authorizerEvent(api: ApiFacts, conn: ConnectionFacts, maps: HeaderMaps & QueryMaps, now: number) {
  const requestId = apiGatewayId();
  return {
    type: 'REQUEST',
    methodArn: methodArn(api),
    headers: maps.headers,
    multiValueHeaders: maps.multiValueHeaders,
    ...(maps.queryStringParameters
      ? {
          queryStringParameters: maps.queryStringParameters,
          multiValueQueryStringParameters: maps.multiValueQueryStringParameters,
        }
      : {}),
    stageVariables: {},
    requestContext: {
      routeKey: '$connect',
      eventType: 'CONNECT',
      ...baseContext(api, conn, now, requestId),
    },
  };
}

export function connectEvent(api: ApiFacts, conn: ConnectionFacts, maps: HeaderMaps & QueryMaps, now: number) {
  const requestId = apiGatewayId();
  return {
    headers: maps.headers,
    multiValueHeaders: maps.multiValueHeaders,
    ...(maps.queryStringParameters
      ? {
          queryStringParameters: maps.queryStringParameters,
          multiValueQueryStringParameters: maps.multiValueQueryStringParameters,
        }
      : {}),
    requestContext: {
      routeKey: '$connect',
      ...(conn.authorizer ? { authorizer: conn.authorizer } : {}),
      eventType: 'CONNECT',
      ...baseContext(api, conn, now, requestId),
    },
    isBase64Encoded: false,
  };
}

export function messageEvent(api: ApiFacts, conn: ConnectionFacts, routeKey: string, body: string, now: number) {
  const requestId = apiGatewayId();
  return {
    requestContext: {
      routeKey,
      ...(conn.authorizer ? { authorizer: conn.authorizer } : {}),
      messageId: apiGatewayId(),
      eventType: 'MESSAGE',
      ...baseContext(api, conn, now, requestId),
    },
    body,
    isBase64Encoded: false,
  };
}

export function disconnectEvent(
  api: ApiFacts,
  conn: ConnectionFacts,
  statusCode: number,
  reason: string,
  now: number,
) {
  const requestId = apiGatewayId();
  // API Gateway sends these few headers on $disconnect, most of them empty.
  const headers = { Host: conn.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
  const multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  return {
    headers,
    multiValueHeaders,
    requestContext: {
      routeKey: '$disconnect',
      disconnectStatusCode: statusCode,
      ...(conn.authorizer ? { authorizer: conn.authorizer } : {}),
      eventType: 'DISCONNECT',
      ...baseContext(api, conn, now, requestId),
      disconnectReason: reason,
    },
    isBase64Encoded: false,
  };
}
