#!/usr/bin/env node
// Smoke test of a deployed wskit stage, run by pipelines after `terraform apply`:
// connect with a token, say hello, subscribe to the user's own topic (user:<sub>, the
// welcome frame's userId), publish to it, and receive that message back. One line per
// step; exit 0 when every step passed, 1 with the failed step named and why.
//
//   npm run smoke -- --url wss://<apiId>.execute-api.<region>.amazonaws.com/<stage> --token <jwt>
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const HELP = `Usage: npm run smoke -- --url <wss url> --token <jwt> [options]

Checks a deployed wskit stage end to end: connect, hello, subscribe to user:<sub>,
publish, receive the message back. Prints one line per step; exits 0 when all pass,
1 naming the step that failed and why (HTTP 401/403/429/500 at connect, a timeout, an
error frame such as FORBIDDEN, a close code such as 1009), 2 on bad usage.

Options:
  --url <url>          the stage's wss:// URL (terraform output wss_url)
  --token <jwt>        a token the stage's authorizer accepts
  --token-param <name> query parameter that carries the token (default: token)
  --header <name>      send the token in this header instead (e.g. Authorization,
                       sent as "Bearer <jwt>"; Node clients only: browsers cannot)
  --topic <topic>      topic to subscribe and publish to (default: user:<sub>)
  --timeout <ms>       how long each step may take (default: 10000)
  --help               this text

The token never appears in the output.`;

function usage(message) {
  process.stderr.write(`smoke: ${message}\n\n${HELP}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      'token-param': { type: 'string', default: 'token' },
      header: { type: 'string' },
      topic: { type: 'string' },
      timeout: { type: 'string', default: '10000' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  usage(err.message);
}
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if (!args.url) usage('--url is required');
if (!args.token) usage('--token is required');
const timeoutMs = Number(args.timeout);
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) usage(`--timeout must be a positive number of milliseconds, got "${args.timeout}"`);

let target;
try {
  target = new URL(args.url);
} catch {
  usage(`--url "${args.url}" is not a URL`);
}
if (target.protocol !== 'wss:' && target.protocol !== 'ws:') usage(`--url must be a wss:// (or ws://) URL, got "${target.protocol}"`);

const started = Date.now();
const ok = (step, detail) => process.stdout.write(`ok   ${step}${detail ? `: ${detail}` : ''} (${Date.now() - started} ms)\n`);
class StepFailure extends Error {}
const fail = (step, why) => {
  throw new StepFailure(`FAIL ${step}: ${why}`);
};

/** Where the URL can be shown without the token. */
const shownUrl = `${target.protocol}//${target.host}${target.pathname}`;

function connect() {
  const url = new URL(target);
  const headers = {};
  if (args.header) headers[args.header] = /^authorization$/i.test(args.header) ? `Bearer ${args.token}` : args.token;
  else url.searchParams.set(args['token-param'], args.token);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs });
    const frames = [];
    const waiters = [];
    let closed = null;
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString('utf8');
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(text);
      else frames.push(text);
    });
    ws.on('close', (code, reason) => {
      closed = { code, reason: reason.toString() };
      for (const waiter of waiters.splice(0)) waiter.reject(closed);
    });
    ws.once('open', () =>
      resolve({
        ws,
        send: (frame) => ws.send(JSON.stringify(frame)),
        next: () =>
          new Promise((res, rej) => {
            if (frames.length > 0) return res(frames.shift());
            if (closed) return rej(closed);
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(entry), 1);
              rej({ timeout: true });
            }, timeoutMs);
            const entry = {
              resolve: (frame) => (clearTimeout(timer), res(frame)),
              reject: (why) => (clearTimeout(timer), rej(why)),
            };
            waiters.push(entry);
          }),
      }),
    );
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => reject({ status: res.statusCode, body }));
      res.on('error', () => reject({ status: res.statusCode, body }));
    });
    ws.once('error', (err) => reject({ error: err }));
  });
}

const CONNECT_STATUS = {
  401: 'the authorizer refused the token (expired, wrong issuer or audience, bad signature), or it is not where the identity source expects it',
  403: 'API Gateway refused the request (a wrong stage or path, or an authorizer Deny)',
  429: 'too many connections: the per-user cap, or API Gateway throttling',
  500: 'the authorizer or $connect failed (see their logs: docs/operations.md)',
};

function why(step, err) {
  if (err?.timeout) return `no answer within ${timeoutMs} ms`;
  if (err?.code !== undefined && err?.reason !== undefined) {
    const hint = err.code === 1009 ? ' (message too big)' : err.code === 1001 ? ' (going away: idle or 2 h limit)' : err.code === 1006 ? ' (dropped without a close frame)' : '';
    return `the connection closed with ${err.code}${hint}${err.reason ? `: ${err.reason}` : ''}`;
  }
  if (err?.status) {
    let message = '';
    try {
      message = JSON.parse(err.body).message ?? '';
    } catch {
      /* not JSON */
    }
    return `HTTP ${err.status}${message ? ` ${message}` : ''}: ${CONNECT_STATUS[err.status] ?? 'the upgrade was refused'}`;
  }
  if (err?.error) {
    const e = err.error;
    if (e.code === 'ECONNREFUSED') return `nothing listens at ${shownUrl} (connection refused)`;
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `the host ${target.host} does not resolve`;
    if (/handshake has timed out|timed out/i.test(e.message)) return `no answer within ${timeoutMs} ms`;
    return e.code ? `${e.code}: ${e.message}` : e.message;
  }
  return String(err?.message ?? err);
}

async function expectFrame(conn, step, id, type) {
  let text;
  try {
    text = await conn.next();
  } catch (err) {
    fail(step, why(step, err));
  }
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    fail(step, `the answer is not a JSON frame: ${String(text).slice(0, 120)}`);
  }
  if (frame.type === 'error') fail(step, `${frame.code}: ${frame.message}`);
  if (frame.type !== type || (id !== undefined && frame.id !== id)) fail(step, `expected ${type}${id ? ` for ${id}` : ''}, got ${JSON.stringify(frame).slice(0, 200)}`);
  return frame;
}

async function main() {
  let conn;
  try {
    conn = await connect();
  } catch (err) {
    fail('connect', `${shownUrl}: ${why('connect', err)}`);
  }
  ok('connect', shownUrl);
  try {
    conn.send({ action: 'hello', id: 'smoke-hello' });
    const welcome = await expectFrame(conn, 'hello', 'smoke-hello', 'welcome');
    if (typeof welcome.userId !== 'string' || welcome.userId === '') fail('hello', 'the welcome frame has no userId');
    ok('hello', `connection ${welcome.connectionId}, user ${welcome.userId}`);

    const topic = args.topic ?? `user:${welcome.userId}`;
    conn.send({ action: 'subscribe', id: 'smoke-subscribe', topic });
    await expectFrame(conn, 'subscribe', 'smoke-subscribe', 'ack');
    ok('subscribe', topic);

    const nonce = randomUUID();
    conn.send({ action: 'publish', id: 'smoke-publish', topic, data: { smoke: nonce } });
    // The ack and the pushed message may arrive in either order.
    let acked = false;
    let received = false;
    while (!acked || !received) {
      let text;
      try {
        text = await conn.next();
      } catch (err) {
        fail(acked ? 'receive' : 'publish', why('publish', err));
      }
      let frame;
      try {
        frame = JSON.parse(text);
      } catch {
        fail('publish', `the answer is not a JSON frame: ${String(text).slice(0, 120)}`);
      }
      if (frame.type === 'error') fail(frame.id === 'smoke-publish' ? 'publish' : 'receive', `${frame.code}: ${frame.message}`);
      if (frame.type === 'ack' && frame.id === 'smoke-publish') {
        acked = true;
        ok('publish', topic);
        if (received) ok('receive', received);
      } else if (frame.type === 'message' && frame.topic === topic && frame.data?.smoke === nonce) {
        // Reported after the publish line even when the push overtakes the ack.
        received = `message ${frame.mid ?? ''}`.trim();
        if (acked) ok('receive', received);
      }
    }
  } finally {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(1000, 'smoke test done');
  }
  process.stdout.write(`smoke: ${shownUrl} passed\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stdout.write(`${err instanceof StepFailure ? err.message : `FAIL ${String(err?.stack ?? err)}`}\n`);
    process.exit(1);
  },
);
