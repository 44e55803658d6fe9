/**
 * The HTTP API the degraded mode falls back to (same replies as the WebSocket frames):
 *   GET  <httpUrl>/topics/{topic}/messages?since=<seq>&limit=<n>  -> a `history` reply
 *   POST <httpUrl>/topics/{topic}/messages  {"data": ...}          -> a publish `ack`
 * with `Authorization: Bearer <token>`. Errors carry an `error` frame body; 429 `Retry-After`.
 */
import { topicMessagesPath } from '@wskit/protocol';
import { WskitError } from './errors';
import { isObject, type AckReply, type HistoryReply } from './protocol';

export class HttpApi {
  readonly #base: string;

  constructor(
    base: string,
    private readonly fetchImpl: typeof fetch,
    private readonly token: () => Promise<string>,
    /** The server said TOKEN_EXPIRED: the next `token()` must be a new one. */
    private readonly expired: () => void,
  ) {
    this.#base = base.replace(/\/+$/, '');
  }

  history(topic: string, since: number, limit: number): Promise<HistoryReply> {
    return this.#call('GET', `${topicMessagesPath(topic)}?since=${since}&limit=${limit}`) as Promise<unknown> as Promise<HistoryReply>;
  }

  publish(topic: string, data: unknown, traceparent?: string): Promise<AckReply> {
    return this.#call('POST', topicMessagesPath(topic), JSON.stringify({ data }), traceparent) as Promise<unknown> as Promise<AckReply>;
  }

  async #call(method: string, path: string, body?: string, traceparent?: string, retried = false): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (traceparent) headers.traceparent = traceparent;
    let response: Response;
    let reply: unknown;
    try {
      response = await this.fetchImpl(this.#base + path, body === undefined ? { method, headers } : { method, headers, body });
      reply = await response.json().catch(() => undefined);
    } catch (err) {
      // No answer: for a publish the outcome is unknown, as when a connection drops.
      throw new WskitError('CONNECTION_LOST', `${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (response.ok && isObject(reply)) return reply;
    const frame = isObject(reply) ? { ...reply } : {};
    const code = typeof frame.code === 'string' ? frame.code : response.ok ? 'BAD_REPLY' : 'HTTP_ERROR';
    if (code === 'TOKEN_EXPIRED' && !retried) {
      this.expired();
      return this.#call(method, path, body, traceparent, true);
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    if (frame.retryAfterMs === undefined && retryAfter > 0) frame.retryAfterMs = retryAfter * 1000;
    throw new WskitError(code, typeof frame.message === 'string' ? frame.message : `${method} ${path}: HTTP ${response.status}`, frame);
  }
}
