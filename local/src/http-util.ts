/** Small HTTP pieces every part of the gateway's one port uses. */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { lambdaRequestId } from './ids';

export function sourceIpOf(socket: Socket): string {
  const ip = socket.remoteAddress ?? '127.0.0.1';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

/** The hostname of a Host header value, lowercased, IPv6 without brackets; undefined when malformed. */
export function hostnameOf(host: string): string | undefined {
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return undefined;
  }
  // A Host header is a host and an optional port, nothing else.
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** True for a Host header that names this machine: localhost (and *.localhost), 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = hostnameOf(host);
  if (name === undefined) return false;
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name);
}

/** decodeURIComponent that answers undefined for malformed percent-encoding instead of throwing. */
export function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The path and query of a request target, without parsing it as a URL (which can throw or normalize). */
export function splitTarget(target: string | undefined): { path: string; query: URLSearchParams } {
  const raw = target ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  } catch {
    query = new URLSearchParams();
  }
  return { path, query };
}

/** Header names and values that may be written to the wire as they are. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
export function isSafeHeader(name: string, value: string): boolean {
  return TOKEN.test(name) && FIELD_VALUE.test(value);
}

/** Answers a WebSocket upgrade with a plain HTTP error, as API Gateway does before any upgrade. */
export function rejectUpgrade(socket: Duplex, statusCode: number, message: string | null, extraHeaders: Record<string, string> = {}): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    'x-amzn-RequestId': lambdaRequestId(),
    Connection: 'close',
    ...extraHeaders,
  };
  const head = Object.entries(headers)
    .filter(([k, v]) => isSafeHeader(k, v))
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${statusCode} ${http.STATUS_CODES[statusCode] ?? 'Error'}\r\n${head}\r\n\r\n${body}`);
  // A client that never reads its answer does not keep the socket.
  setTimeout(() => socket.destroy(), 5000).unref();
}

export function jsonResponse(res: http.ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(statusCode, {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': lambdaRequestId(),
    ...(text ? { 'Content-Length': String(Buffer.byteLength(text)) } : {}),
    ...headers,
  });
  res.end(text);
}

export function awsError(res: http.ServerResponse, statusCode: number, errorType: string, message: string): void {
  jsonResponse(res, statusCode, { message }, { 'x-amzn-ErrorType': errorType });
}

/** The client went away (or was cut off by the request timeout) before its body ended. */
export class ClientAbort extends Error {
  constructor() {
    super('the client closed the request before its end');
    this.name = 'ClientAbort';
  }
}

/**
 * Reads a request body; stops buffering (but keeps draining) past `limit` bytes. Rejects when
 * the client goes away before the end (a request the server's timeout cut off included).
 */
export function readBody(req: http.IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean; size: number }> {
  return new Promise((resolve, reject) => {
    if (req.complete) {
      resolve({ body: Buffer.alloc(0), tooLarge: false, size: 0 });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge, size }));
    req.on('error', () => reject(new ClientAbort()));
    req.on('close', () => {
      if (!req.complete) reject(new ClientAbort());
    });
  });
}

/** Reads and throws away a body the answer does not need (so keep-alive stays in step). */
export async function discardBody(req: http.IncomingMessage): Promise<void> {
  await readBody(req, 0).catch(() => undefined);
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
