import { WebSocket, type ClientOptions } from 'ws';
import { readFileSync, existsSync } from 'node:fs';
import * as http from 'node:http';
import { referenceSigner } from '@wskit/testing/sigv4';

/** A `ws` client with an awaitable inbox. */
export class TestClient {
  readonly inbox: string[] = [];
  private waiters: ((frame: string) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = data.toString('utf8');
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.inbox.push(frame);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  /** The next frame (already received or still to come). */
  next(timeoutMs = 5000): Promise<string> {
    const ready = this.inbox.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== deliver);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const deliver = (frame: string) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.waiters.push(deliver);
    });
  }

  async nextJson<T = Record<string, unknown>>(timeoutMs?: number): Promise<T> {
    return JSON.parse(await this.next(timeoutMs)) as T;
  }

  /** Waits for a frame matching `predicate`, keeping the others in the inbox order. */
  async waitFor<T = Record<string, unknown>>(predicate: (frame: T) => boolean, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    const skipped: string[] = [];
    try {
      for (;;) {
        const frame = await this.next(Math.max(1, deadline - Date.now()));
        const parsed = JSON.parse(frame) as T;
        if (predicate(parsed)) return parsed;
        skipped.push(frame);
      }
    } finally {
      this.inbox.unshift(...skipped);
    }
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  async request<T = Record<string, unknown>>(value: Record<string, unknown>, timeoutMs?: number): Promise<T> {
    this.send(value);
    return this.nextJson<T>(timeoutMs);
  }

  close(code?: number, reason?: string): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    return this.closed;
  }
}

export function connect(url: string, options?: ClientOptions, protocols?: string[]): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const ws = protocols ? new WebSocket(url, protocols, options) : new WebSocket(url, options);
    // Register the inbox before 'open' so no early frame is lost.
    const client = new TestClient(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode, body, headers: res.headers })));
    });
    ws.once('error', reject);
  });
}

/** Resolves with the HTTP status (and body) a rejected upgrade got. */
export async function connectRejected(url: string, options?: ClientOptions): Promise<{ statusCode: number; body: string }> {
  try {
    const client = await connect(url, options);
    await client.close();
  } catch (err) {
    const e = err as { statusCode?: number; body?: string };
    if (e.statusCode) return { statusCode: e.statusCode, body: e.body ?? '' };
    throw err;
  }
  throw new Error('the upgrade was accepted');
}

export function readEventLog(file: string): { fn: string; event: Record<string, any>; remaining?: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

export async function eventually<T>(probe: () => T | Promise<T>, check: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function httpRequest(
  url: string,
  init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** An HTTP request signed with SigV4 for execute-api (as the SDK signs it), for @connections. */
export async function signedRequest(
  url: string,
  init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
  credentials: { accessKeyId: string; secretAccessKey: string } = LOCAL_CREDENTIALS,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(url);
  const method = init.method ?? 'GET';
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  const signed = await referenceSigner({ ...credentials, region: 'us-east-1' }).sign({
    method,
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: u.pathname,
    query: Object.fromEntries(u.searchParams),
    headers: { host: u.host, ...(init.headers ?? {}) },
    body,
  });
  return httpRequest(url, { method, body, headers: signed.headers as Record<string, string> });
}
