import type http from 'node:http';
import { isAllowedJwksUrl } from './config';

export interface JwksFetchOptions {
  /** Whole-request deadline, from the request to the last byte of the answer. */
  timeoutMs: number;
  /** A JWKS larger than this is refused (a JWKS with a few keys is a few KB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_JWKS_BYTES = 256 * 1024;

/**
 * One GET of a JWKS document: https only (http on loopback), a deadline, a size cap, a 2xx
 * answer holding a JSON object with a `keys` array. No retry and no rate limit here: the
 * cache (keys.ts) decides when to fetch. Errors carry our own fixed messages.
 */
export function fetchJwks(uri: string, options: JwksFetchOptions): Promise<{ keys: unknown[] }> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_JWKS_BYTES;
  return new Promise((resolve, reject) => {
    const url = new URL(uri);
    if (!isAllowedJwksUrl(url)) {
      reject(new Error('JWKS URL must be https:// (http:// only on loopback)'));
      return;
    }
    // Required on first use: node:https pulls in TLS, which module init does not need.
    const client = (url.protocol === 'https:' ? require('node:https') : require('node:http')) as typeof http;
    const request = client.get(url, { headers: { accept: 'application/json' } }, (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        response.resume();
        request.destroy(new Error(`JWKS endpoint answered HTTP ${status}`));
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        request.destroy(new Error(`JWKS response larger than ${maxBytes} bytes`));
        return;
      }
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
        if (size > maxBytes) return;
        try {
          const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          const keys = typeof body === 'object' && body !== null ? (body as { keys?: unknown }).keys : undefined;
          if (!Array.isArray(keys)) throw new Error('no "keys" array');
          resolve({ keys });
        } catch {
          reject(new Error('JWKS endpoint did not answer a JWK set'));
        }
      });
      response.on('error', reject);
    });
    // setTimeout on the request is an idle timeout; this is a deadline for the whole exchange.
    const deadline = setTimeout(() => request.destroy(new Error(`JWKS request timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    deadline.unref();
    request.on('close', () => clearTimeout(deadline));
    request.on('error', reject);
  });
}
