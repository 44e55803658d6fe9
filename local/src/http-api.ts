/**
 * The HTTP API on the gateway's port, `/<stage>/topics/{topic}/messages` (and `/<stage>/iam/...`),
 * as an API Gateway HTTP API serves it (payload format 2.0): the path is decoded once to
 * match the route and the `{topic}` parameter once more; `token` routes run the Lambda
 * authorizer first (no Authorization header: 401; `isAuthorized: false`: 403; its failure:
 * 500), `iam` routes check a SigV4 signature; then the integration's `{statusCode, headers,
 * body}` is the response.
 */
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import type { FunctionPool } from './functions';
import { jsonResponse, readBody, safeDecode } from './http-util';
import { ACCOUNT_ID } from './limits';
import { checkSignature, type AcceptedCredentials } from './sigv4-check';
import type { HttpRoute } from './wiring';

export interface HttpApiRoute extends HttpRoute {
  /** The function behind the route. */
  function: string;
}

export interface HttpApiOptions {
  stage: string;
  region: string;
  apiId: string;
  routes: readonly HttpApiRoute[];
  functions: FunctionPool;
  /** The Lambda authorizer of the `token` routes. */
  authorizer: string | null;
  credentials: readonly AcceptedCredentials[];
}

/** The HTTP API's own limit on a request body. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface Matched {
  route: HttpApiRoute;
  pathParameters: Record<string, string>;
  rawPath: string;
}

/** A route template's literal segments and `{name}` parameters against a decoded path. */
function match(routes: readonly HttpApiRoute[], method: string, stage: string, rawPath: string): Matched | 'no-route' {
  const decoded = safeDecode(rawPath);
  if (decoded === undefined) return 'no-route';
  const segments = decoded.split('/');
  if (segments[1] !== stage) return 'no-route';
  const rest = segments.slice(2);
  for (const route of routes) {
    if (route.method !== method) continue;
    const template = route.path.split('/').slice(1);
    if (template.length !== rest.length) continue;
    const pathParameters: Record<string, string> = {};
    const fits = template.every((part, i) => {
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(part);
      if (!param) return part === rest[i];
      const value = safeDecode(rest[i]!);
      if (value === undefined || value === '') return false;
      pathParameters[param[1]!] = value;
      return true;
    });
    if (fits) return { route, pathParameters, rawPath: `/${rest.join('/')}` };
  }
  return 'no-route';
}

// Names from the wire become own properties (Object.fromEntries), never assignments that a
// `__proto__` header or query key would turn into a prototype change.
function headersOf(req: http.IncomingMessage): Record<string, string> {
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.push([name, value]);
    else if (Array.isArray(value)) headers.push([name, value.join(',')]);
  }
  return Object.fromEntries(headers);
}

function queryOf(query: string): Record<string, string> | undefined {
  const values = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(query)) values.set(key, values.has(key) ? `${values.get(key)},${value}` : value);
  return values.size > 0 ? Object.fromEntries(values) : undefined;
}

export function createHttpApi(o: HttpApiOptions) {
  /** The paths this API serves, for the gateway's printout. */
  const paths = [...new Set(o.routes.map((r) => `/${o.stage}${r.path}`))];

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<boolean> {
    if (!path.startsWith(`/${o.stage}/`) || o.routes.length === 0) return false;
    const target = req.url ?? '/';
    const query = target.includes('?') ? target.slice(target.indexOf('?') + 1) : '';
    const method = req.method ?? 'GET';
    const matched = match(o.routes, method, o.stage, path);
    if (matched === 'no-route') {
      // Only what looks like this API's paths is answered here; the rest is not this API's.
      if (!o.routes.some((r) => path.split('/').length === r.path.split('/').length + 1)) return false;
      await readBody(req, 0);
      jsonResponse(res, 404, { message: 'Not Found' });
      return true;
    }
    const { body, tooLarge } = await readBody(req, MAX_BODY_BYTES);
    if (tooLarge) {
      jsonResponse(res, 413, { message: 'Request Entity Too Large' });
      return true;
    }
    const now = Date.now();
    const { route } = matched;
    const routeKey = `${route.method} ${route.path}`;
    const headers = headersOf(req);
    const requestId = `${randomBytes(6).toString('base64').replace(/[+/=]/g, 'x')}=`;
    const requestContext: Record<string, unknown> = {
      accountId: ACCOUNT_ID,
      apiId: o.apiId,
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: o.apiId,
      http: { method, path: matched.rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey,
      stage: o.stage,
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    };
    const queryStringParameters = queryOf(query);
    const event: Record<string, unknown> = {
      version: '2.0',
      routeKey,
      rawPath: matched.rawPath,
      rawQueryString: query,
      headers,
      ...(queryStringParameters ? { queryStringParameters } : {}),
      pathParameters: matched.pathParameters,
      ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
      isBase64Encoded: false,
      requestContext,
    };

    if (route.authorization === 'iam') {
      const refusal = await checkSignature({ method, url: req.url ?? '/', headers: req.headers, body }, o.credentials, o.region);
      if (refusal) {
        jsonResponse(res, 403, { message: refusal.message }, { 'x-amzn-ErrorType': refusal.errorType });
        return true;
      }
      const accessKey = /Credential=([^/,\s]+)\//.exec(headers.authorization ?? '')?.[1] ?? 'local';
      requestContext.authorizer = {
        iam: { accessKey, accountId: ACCOUNT_ID, callerId: accessKey, principalOrgId: null, userArn: `arn:aws:iam::${ACCOUNT_ID}:user/${accessKey}`, userId: accessKey },
      };
    } else {
      // The identity source ($request.header.Authorization) must be there, or the authorizer is not called.
      if (!headers.authorization || !o.authorizer) {
        jsonResponse(res, 401, { message: 'Unauthorized' });
        return true;
      }
      const outcome = await o.functions.invoke(o.authorizer, {
        version: '2.0',
        type: 'REQUEST',
        routeArn: `arn:aws:execute-api:${o.region}:${ACCOUNT_ID}:${o.apiId}/${o.stage}/${method}${matched.rawPath}`,
        identitySource: [headers.authorization],
        routeKey,
        rawPath: matched.rawPath,
        rawQueryString: query,
        headers,
        ...(queryStringParameters ? { queryStringParameters } : {}),
        pathParameters: matched.pathParameters,
        requestContext,
      });
      if (!outcome.ok) {
        jsonResponse(res, outcome.throttled ? 429 : 500, { message: outcome.throttled ? 'Too Many Requests' : 'Internal Server Error' });
        return true;
      }
      const decision = outcome.result as { isAuthorized?: unknown; context?: unknown } | null;
      if (decision?.isAuthorized !== true) {
        jsonResponse(res, 403, { message: 'Forbidden' });
        return true;
      }
      requestContext.authorizer = { lambda: decision.context && typeof decision.context === 'object' ? decision.context : {} };
    }

    const outcome = await o.functions.invoke(route.function, event);
    if (!outcome.ok) {
      jsonResponse(res, outcome.throttled ? 429 : 500, { message: outcome.throttled ? 'Too Many Requests' : 'Internal Server Error' });
      return true;
    }
    const result = outcome.result as { statusCode?: unknown; headers?: unknown; body?: unknown } | null;
    const statusCode = typeof result?.statusCode === 'number' && result.statusCode >= 100 && result.statusCode <= 599 ? result.statusCode : 500;
    const returned: Array<[string, string]> = [];
    if (result?.headers && typeof result.headers === 'object') {
      for (const [name, value] of Object.entries(result.headers as Record<string, unknown>)) {
        // Header names and values the function returns are checked before they are written.
        if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(name) && (typeof value === 'string' || typeof value === 'number') && !/[\r\n\0]/.test(String(value))) {
          returned.push([name, String(value)]);
        }
      }
    }
    const responseHeaders: Record<string, string> = Object.fromEntries([['apigw-requestid', requestId], ...returned]);
    const text = typeof result?.body === 'string' ? result.body : result?.body === undefined ? '' : JSON.stringify(result.body);
    res.writeHead(statusCode, { ...responseHeaders, 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
    return true;
  }

  return { handle, paths };
}
