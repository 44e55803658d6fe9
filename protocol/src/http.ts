/**
 * The HTTP side of the protocol: a topic's history and publish over plain HTTPS, for the
 * client's polling fallback and for backends.
 *
 *   GET  <base>/topics/{topic}/messages?since=<seq>&limit=<n>  -> a `history` reply (JSON)
 *   POST <base>/topics/{topic}/messages   body {"data": <any JSON>} -> a publish `ack` (JSON)
 *
 * `{topic}` is one path segment, percent-encoded twice: API Gateway's HTTP APIs decode the
 * path once to match the route and decode the parameter once more before the function gets
 * it, so a topic with `/` or `%` only stays one segment when encoded twice. Backends with IAM
 * credentials use the same routes under `/iam` (SigV4-signed, authorized by IAM). Errors
 * answer with the status below and an `error` frame as the body; 429 carries `Retry-After`.
 */
import type { ErrorCode } from './codes';

export const TOPIC_MESSAGES_ROUTE = '/topics/{topic}/messages';
/** Where the same routes live for callers signing with IAM credentials. */
export const IAM_ROUTE_PREFIX = '/iam';

export function topicMessagesPath(topic: string): string {
  return `/topics/${encodeURIComponent(encodeURIComponent(topic))}/messages`;
}

/**
 * The topic a request path names, or undefined when the path is not a topic messages path:
 * the segment decoded twice, as API Gateway does.
 */
export function topicFromMessagesPath(path: string): string | undefined {
  const match = /^\/topics\/([^/]+)\/messages$/.exec(path);
  if (!match) return undefined;
  try {
    return decodeURIComponent(decodeURIComponent(match[1]!));
  } catch {
    return undefined;
  }
}

/** The HTTP status of each error code. */
export const HTTP_STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNKNOWN_ACTION: 404,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  TOKEN_EXPIRED: 401,
  INTERNAL: 500,
};
