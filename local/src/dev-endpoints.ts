/**
 * The dev endpoints: `POST /dev/token` (mints a dev JWT), `POST /dev/publish` (an SQS-shaped
 * event for the broadcaster), `GET /dev/config` (what the demo page needs), `GET /dev/reports`
 * (the latest client reports, see client-reports.ts), `GET /dev/traces` (the X-Ray documents,
 * with `tracing`). They mint
 * identities and publish to anyone, so they answer only this machine's own pages and tools:
 * a loopback client, a Host header naming this machine (no DNS rebinding), and no Origin
 * but the gateway's own (no cross-site request from a page on another origin).
 */
import { createHash, randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import * as path from 'node:path';
import { topicProblem } from '@wskit/protocol';
import { createReportsEndpoint, type ClientReportLog } from './client-reports';
import type { DevIdentityProvider } from './dev-idp';
import type { FunctionPool } from './functions';
import { discardBody, isLoopback, isLoopbackHost, jsonResponse, readBody, sourceIpOf } from './http-util';
import { ACCOUNT_ID, REGION, type GatewayLimits } from './limits';

export interface DevEndpointsOptions {
  stage: string;
  idp: DevIdentityProvider;
  publicTopicPrefixes: readonly string[];
  limits: GatewayLimits;
  functions: FunctionPool;
  broadcaster: string | null;
  distDir: string;
  /** The HTTP API's base path (`/<stage>`), when its function is built: the client's `httpUrl`. */
  httpApiPath: string | null;
  /** The client reports read from the functions' output. */
  reports: ClientReportLog;
  /** The X-Ray segment documents, when the gateway traces (`GET /dev/traces`). */
  traces: (() => Array<Record<string, unknown>>) | undefined;
}

/** Why a request may not use the dev endpoints, or undefined when it may. */
export function devRequestProblem(req: http.IncomingMessage): string | undefined {
  if (!isLoopback(sourceIpOf(req.socket))) return 'the dev endpoints answer loopback clients only';
  const host = req.headers.host;
  if (!isLoopbackHost(host)) {
    return 'the dev endpoints answer requests for localhost, 127.0.0.1 or [::1] only (the Host header names another machine)';
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host!.toLowerCase()}`) {
    return "the dev endpoints refuse cross-origin requests (the Origin header is not this gateway's)";
  }
  return undefined;
}

const MAX_TTL_SECONDS = 7 * 24 * 3600;

export function createDevEndpoints(o: DevEndpointsOptions) {
  async function token(req: http.IncomingMessage, res: http.ServerResponse) {
    const usage = 'POST a JSON body {"sub": "<user id>", "scope"?: "...", "ttlSeconds"?: n}';
    if (req.method !== 'POST') {
      await discardBody(req);
      return jsonResponse(res, 405, { message: usage }, { Allow: 'POST' });
    }
    const { body, tooLarge } = await readBody(req, 16 * 1024);
    let input: unknown;
    try {
      input = tooLarge ? {} : JSON.parse(body.toString('utf8') || '{}');
    } catch {
      return jsonResponse(res, 400, { message: `the body is not JSON: ${usage}` });
    }
    const fields = (input && typeof input === 'object' && !Array.isArray(input) ? input : {}) as { sub?: unknown; scope?: unknown; ttlSeconds?: unknown };
    const sub = typeof fields.sub === 'string' ? fields.sub.trim() : '';
    if (!/^[A-Za-z0-9_.@:-]{1,128}$/.test(sub)) {
      return jsonResponse(res, 400, { message: 'sub must be 1-128 characters of letters, digits, _ . @ : -' });
    }
    const ttlSeconds = fields.ttlSeconds === undefined ? 3600 : fields.ttlSeconds;
    if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
      return jsonResponse(res, 400, { message: `ttlSeconds must be a whole number from 1 to ${MAX_TTL_SECONDS}` });
    }
    if (fields.scope !== undefined && (typeof fields.scope !== 'string' || fields.scope.length > 4096)) {
      return jsonResponse(res, 400, { message: 'scope must be a string of space-separated scopes (at most 4096 characters)' });
    }
    const minted = o.idp.mint({ sub, scope: fields.scope as string | undefined, ttlSeconds });
    return jsonResponse(res, 200, { token: minted }, { 'Cache-Control': 'no-store' });
  }

  /**
   * `POST /dev/publish` with `{"topic", "data"}` or an array of them (at most 10, SQS's batch
   * size): the messages are handed to the broadcaster as one SQS-shaped event, the way an
   * SQS event source mapping would, and the answer says which were delivered.
   */
  async function publish(req: http.IncomingMessage, res: http.ServerResponse) {
    const usage = 'POST a JSON body {"topic": "<topic>", "data": <any JSON>} or an array of up to 10 of them';
    if (req.method !== 'POST') {
      await discardBody(req);
      return jsonResponse(res, 405, { message: usage }, { Allow: 'POST' });
    }
    if (!o.broadcaster) {
      await discardBody(req);
      return jsonResponse(res, 501, { message: `no broadcaster function: run ./build.sh so ${path.join(o.distDir, 'broadcaster', 'index.mjs')} exists` });
    }
    // SQS allows 256 KB per message; the broadcaster refuses what would not fit a frame.
    const { body, tooLarge } = await readBody(req, 10 * 256 * 1024);
    if (tooLarge) return jsonResponse(res, 413, { message: 'the body is over 2.5 MB (10 SQS messages of 256 KB)' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return jsonResponse(res, 400, { message: `the body is not JSON: ${usage}` });
    }
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    if (messages.length === 0 || messages.length > 10) return jsonResponse(res, 400, { message: usage });
    const sentAt = Date.now();
    // What can never be published is refused here, with the reason: the broadcaster would
    // only drop it (and log why).
    const problems = messages.map((message: unknown) => {
      if (message === null || typeof message !== 'object' || Array.isArray(message)) return 'not a JSON object {"topic", "data"}';
      const fields = message as Record<string, unknown>;
      const problem = topicProblem(Object.hasOwn(fields, 'topic') ? fields.topic : undefined);
      if (problem) return problem;
      if (!Object.hasOwn(fields, 'data')) return '"data" is required';
      return undefined;
    });
    const records = messages.map((message, index) => {
      if (problems[index]) return undefined;
      const messageId = randomUUID();
      const text = JSON.stringify(message) ?? 'null';
      return {
        messageId,
        receiptHandle: `local-${messageId}`,
        body: text,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(sentAt),
          SenderId: 'LOCAL',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(text).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:wskit-${o.stage}-broadcast`,
        awsRegion: REGION,
      };
    });
    const sent = records.filter((record): record is NonNullable<typeof record> => record !== undefined);
    let failures = new Set<string>();
    if (sent.length > 0) {
      const outcome = await o.functions.invoke(o.broadcaster, { Records: sent });
      if (!outcome.ok) {
        if (outcome.throttled) return jsonResponse(res, 429, { message: 'Too Many Requests: the broadcaster is throttled (its invocation queue is full)' });
        return jsonResponse(res, 502, { message: `the broadcaster failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}` });
      }
      const reported = (outcome.result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
      failures = new Set((Array.isArray(reported) ? reported : []).map((f) => String((f as { itemIdentifier?: unknown } | null)?.itemIdentifier)));
    }
    const results = records.map((record, index) =>
      record === undefined
        ? { status: 'refused', reason: problems[index] }
        : { messageId: record.messageId, status: failures.has(record.messageId) ? 'failed' : 'delivered' },
    );
    return jsonResponse(res, 200, { results });
  }

  async function config(req: http.IncomingMessage, res: http.ServerResponse) {
    await discardBody(req);
    if (req.method !== 'GET') return jsonResponse(res, 405, { message: 'GET /dev/config' }, { Allow: 'GET' });
    return jsonResponse(res, 200, {
      stage: o.stage,
      publicTopicPrefixes: o.publicTopicPrefixes,
      limits: o.limits,
      callbackPath: `/${o.stage}/@connections`,
      httpApiPath: o.httpApiPath,
      broadcaster: o.broadcaster !== null,
    });
  }

  /** The latest X-Ray documents (?trace_id=<id> for one trace), newest last. */
  async function traces(req: http.IncomingMessage, res: http.ServerResponse) {
    await discardBody(req);
    if (req.method !== 'GET') return jsonResponse(res, 405, { message: 'GET /dev/traces' }, { Allow: 'GET' });
    if (!o.traces) return jsonResponse(res, 404, { message: 'tracing is off: start with --tracing' });
    const wanted = new URL(req.url ?? '/', 'http://localhost').searchParams.get('trace_id');
    const documents = o.traces().filter((d) => wanted === null || d.trace_id === wanted);
    return jsonResponse(res, 200, { documents: documents.slice(-500) }, { 'Cache-Control': 'no-store' });
  }

  const handlers = new Map<string, (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>>([
    ['/dev/token', token],
    ['/dev/publish', publish],
    ['/dev/config', config],
    ['/dev/reports', createReportsEndpoint(o.reports)],
    ['/dev/traces', traces],
  ]);

  /** Answers a `/dev/...` request; false when the path is not one of them. */
  return async function handleDev(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<boolean> {
    const handler = handlers.get(path);
    if (!handler) return false;
    const problem = devRequestProblem(req);
    if (problem) {
      await discardBody(req);
      jsonResponse(res, 403, { message: problem });
      return true;
    }
    await handler(req, res);
    return true;
  };
}
