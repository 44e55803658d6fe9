/**
 * The one port: an HTTP server whose requests go to the management API, the JWKS, the dev
 * endpoints and the demo page, and whose upgrades go to the WebSocket side. Every handler
 * is awaited and caught here, a malformed request gets a 4xx from Node's parser, and a
 * client that sends its headers or body too slowly is cut off (408) after a bound.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { awsError, ClientAbort, discardBody, jsonResponse, rejectUpgrade, splitTarget } from './http-util';
import type { LogEntry } from './log-escape';

export interface HttpServerOptions {
  /** Answers a request; false = not found (404). */
  onRequest: (req: http.IncomingMessage, res: http.ServerResponse, path: string) => Promise<boolean>;
  onUpgrade: (req: http.IncomingMessage, socket: Socket, head: Buffer) => Promise<void>;
  log: (entry: LogEntry) => void;
  /** The whole request (headers and body) must arrive within this; default 30 s. */
  requestTimeoutMs: number;
}

export function createHttpServer(o: HttpServerOptions): http.Server {
  const headersTimeout = Math.min(o.requestTimeoutMs, 10_000);
  const server = http.createServer(
    {
      requestTimeout: o.requestTimeoutMs,
      headersTimeout,
      // How often Node looks for requests past those timeouts (its default is 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      const { path } = splitTarget(req.url);
      o.onRequest(req, res, path)
        .then(async (handled) => {
          if (handled) return;
          await discardBody(req);
          jsonResponse(res, 404, { message: 'Not Found' });
        })
        .catch((err: unknown) => {
          // A client that left before its request ended needs no answer and is no error.
          if (err instanceof ClientAbort) {
            res.destroy();
            return;
          }
          if (!res.headersSent && !res.destroyed) awsError(res, 500, 'InternalServerErrorException', 'Internal server error');
          else res.destroy();
          o.log({ event: 'http-error', path, error: (err as Error)?.message ?? String(err) });
        });
    },
  );
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    o.onUpgrade(req, socket as Socket, head).catch((err: unknown) => {
      rejectUpgrade(socket, 500, 'Internal server error');
      o.log({ event: 'upgrade-error', error: (err as Error)?.message ?? String(err) });
    });
  });
  // What Node's parser refuses (a header block over 16 KB, bad syntax, a request past its
  // timeout) is answered once, when nothing of a response was written yet, then closed.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'ECONNRESET' ? 0 : 400;
    const inProgress = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (status === 0 || !socket.writable || inProgress?.headersSent) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ message: http.STATUS_CODES[status] });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  return server;
}

export async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new Error(`port ${port} is in use: pass another --port (or PORT=0 for any free port)`);
    throw err;
  });
  // Errors after listening (EMFILE on accept, ...) are reported by the server, not thrown.
  server.on('error', () => undefined);
  return (server.address() as { port: number }).port;
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
