import type http from 'node:http';

/** Thrown instead of fetching when the refetch budget of the current window is spent. */
export class JwksRefetchRateLimited extends Error {
  override readonly name = 'JwksRefetchRateLimited';
  constructor() {
    super('JWKS refetch budget for this minute is spent');
  }
}

export interface JwksFetcherOptions {
  /** At most this many fetches in any 60-second window. */
  requestsPerMinute: number;
  /** A separate, small budget for re-confirming keys already known (see `confirm`). */
  confirmationsPerMinute?: number;
  /** Whole-request deadline. */
  timeoutMs: number;
  /** A JWKS larger than this is refused (a JWKS with a few keys is a few KB). */
  maxBytes?: number;
  now?: () => number;
}

export type JwksFetcher = (uri: string) => Promise<{ keys: unknown[] }>;

export interface GuardedJwksFetcher extends JwksFetcher {
  /**
   * The same fetch on its own budget, for re-confirming a key that verified before: a
   * storm of unknown `kid`s that spends the main budget can then neither lock out a
   * known key nor keep a revoked one alive.
   */
  confirm(uri: string): Promise<{ keys: unknown[] }>;
  readonly fetches: number;
}

const WINDOW_MS = 60_000;

function get(uri: string, timeoutMs: number, maxBytes: number): Promise<{ keys: unknown[] }> {
  return new Promise((resolve, reject) => {
    const url = new URL(uri);
    // Required on first use: node:https pulls in TLS, which module init does not need.
    const client = (url.protocol === 'https:' ? require('node:https') : require('node:http')) as typeof http;
    const request = client.get(url, { headers: { accept: 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          request.destroy(new Error(`JWKS response larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          reject(new Error(`JWKS endpoint answered HTTP ${status}`));
          return;
        }
        try {
          const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          const keys = (body as { keys?: unknown }).keys;
          if (!Array.isArray(keys)) throw new Error('no "keys" array');
          resolve({ keys });
        } catch {
          reject(new Error('JWKS endpoint did not answer a JWK set'));
        }
      });
      response.on('error', reject);
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`JWKS request timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/**
 * The JWKS fetch jwks-rsa calls on a cache miss, with two guards:
 * - concurrent misses share one request in flight;
 * - at most `requestsPerMinute` requests in any sliding 60-second window; beyond that a
 *   miss is refused at once (never queued), so a storm of made-up `kid`s costs a bounded
 *   number of fetches and holds no request open.
 */
export function createJwksFetcher(options: JwksFetcherOptions): GuardedJwksFetcher {
  const now = options.now ?? Date.now;
  const maxBytes = options.maxBytes ?? 256 * 1024;
  let inFlight: Promise<{ keys: unknown[] }> | undefined;
  let fetches = 0;

  const budgeted = (perMinute: number) => {
    const recent: number[] = [];
    return (uri: string): Promise<{ keys: unknown[] }> => {
      if (inFlight) return inFlight;
      const at = now();
      while (recent.length > 0 && at - (recent[0] as number) >= WINDOW_MS) recent.shift();
      if (recent.length >= perMinute) return Promise.reject(new JwksRefetchRateLimited());
      recent.push(at);
      fetches += 1;
      inFlight = get(uri, options.timeoutMs, maxBytes).finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    };
  };

  const fetcher = budgeted(options.requestsPerMinute) as GuardedJwksFetcher;
  Object.defineProperty(fetcher, 'confirm', { value: budgeted(options.confirmationsPerMinute ?? 2) });
  Object.defineProperty(fetcher, 'fetches', { get: () => fetches });
  return fetcher;
}
