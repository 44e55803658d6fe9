/**
 * Test and benchmark support: a bare WebSocket server with the API Gateway management API
 * in front of its real sockets. Fan-out tests and bench/fanout use it to measure a sender
 * without the local gateway's own work (authorizer, functions, events) in the way.
 *
 * - `ws://127.0.0.1:<port>/?id=<connectionId>`: a client picks its connection id.
 * - `POST /<stage>/@connections/<id>`: writes the body to that socket as one text frame and
 *   answers 200 once it is written; 410 GoneException when the socket is closed or unknown;
 *   optional latency, a share of 429 LimitExceededException answers, and a cap on requests
 *   in flight above which it answers 429 (how API Gateway's throttle looks to a sender).
 * - `POST /_direct`: writes the body to every open socket itself (the ceiling baseline).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface WsGatewayOptions {
  stage?: string;
  /** Added before each @connections answer. */
  callbackLatencyMs?: number;
  /** Share (0..1) of POSTs answered 429 LimitExceededException. */
  throttleRate?: number;
  /** Answer 429 when more than this many POSTs are in flight. */
  maxInFlight?: number;
  /** Random source for throttleRate (seed it for reproducible tests). */
  random?: () => number;
}

export interface WsGateway {
  wsUrl: string;
  /** Management API base URL including the stage (the SDK endpoint). */
  callbackUrl: string;
  httpUrl: string;
  isOpen(connectionId: string): boolean;
  openCount(): number;
  /** Answers given, by status code. */
  answers: Map<number, number>;
  peakInFlight(): number;
  /** Writes a payload to every open socket directly. Resolves with how many. */
  broadcastDirect(payload: string): Promise<number>;
  setOptions(options: Partial<WsGatewayOptions>): void;
  stop(): Promise<void>;
}

export async function startWsGateway(initial: WsGatewayOptions = {}): Promise<WsGateway> {
  const options: WsGatewayOptions = { stage: 'local', callbackLatencyMs: 0, throttleRate: 0, random: Math.random, ...initial };
  const stage = options.stage!;
  const sockets = new Map<string, WebSocket>();
  const answers = new Map<number, number>();
  let inFlight = 0;
  let peak = 0;

  const answer = (res: ServerResponse, status: number, errorType?: string, message?: string) => {
    answers.set(status, (answers.get(status) ?? 0) + 1);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(message === undefined ? undefined : JSON.stringify({ message }));
  };

  const broadcastDirect = async (payload: string): Promise<number> => {
    const open = [...sockets.values()].filter((ws) => ws.readyState === 1);
    await Promise.all(open.map((ws) => new Promise<void>((resolve) => ws.send(payload, () => resolve()))));
    return open.length;
  };

  const post = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url === '/_direct') {
      const count = await broadcastDirect(body.toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ count }));
      return;
    }
    const match = /^\/([^/]+)\/(?:@|%40)connections\/([^/?]+)$/.exec(url);
    if (!match || match[1] !== stage || req.method !== 'POST') return answer(res, 404, 'NotFoundException', `no route for ${req.method} ${url}`);
    const connectionId = decodeURIComponent(match[2]!);
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      if (options.callbackLatencyMs) await new Promise((r) => setTimeout(r, options.callbackLatencyMs));
      if ((options.maxInFlight !== undefined && inFlight > options.maxInFlight) || (options.throttleRate ?? 0) > options.random!()) {
        return answer(res, 429, 'LimitExceededException', 'Rate exceeded');
      }
      const ws = sockets.get(connectionId);
      if (!ws || ws.readyState !== 1) return answer(res, 410, 'GoneException', `connection ${connectionId} is gone`);
      await new Promise<void>((resolve) => ws.send(body.toString('utf8'), () => resolve()));
      answer(res, 200);
    } finally {
      inFlight--;
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      post(req, res, Buffer.concat(chunks)).catch((error: unknown) => answer(res, 500, 'InternalServerErrorException', String(error)));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id');
    if (!id) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(id, ws);
      ws.on('close', () => {
        if (sockets.get(id) === ws) sockets.delete(id);
      });
      ws.on('error', () => undefined);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    callbackUrl: `http://127.0.0.1:${port}/${stage}`,
    isOpen: (id) => sockets.get(id)?.readyState === 1,
    openCount: () => [...sockets.values()].filter((ws) => ws.readyState === 1).length,
    answers,
    peakInFlight: () => peak,
    broadcastDirect,
    setOptions(next) {
      Object.assign(options, next);
    },
    stop: async () => {
      for (const ws of sockets.values()) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
