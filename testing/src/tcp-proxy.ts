/**
 * A TCP proxy on 127.0.0.1 in front of a WebSocket server, for the network the tests need:
 * latency added to the bytes the server sends (`delayMs`) and to the bytes the client sends
 * (`upDelayMs`), abrupt drops of every connection (`dropAll`), and upgrades refused with
 * 503 while `refuse` is set. It knows nothing of the protocol, so it works in front of the
 * test server and the local gateway alike.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Copies `from` to `to`, each chunk held `delay()` ms, in order. */
export function pipeDelayed(from: Duplex, to: Duplex, delay: () => number): void {
  const queue: Array<{ at: number; chunk: Buffer }> = [];
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.at <= now) {
      const { chunk } = queue.shift()!;
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.at - now);
  };
  from.on('data', (chunk: Buffer) => {
    const ms = delay();
    if (ms <= 0 && queue.length === 0) {
      if (!to.destroyed) to.write(chunk);
      return;
    }
    queue.push({ at: Date.now() + ms, chunk });
    timer ??= setTimeout(pump, Math.max(0, queue[0]!.at - Date.now()));
  });
  from.on('close', () => clearTimeout(timer));
}

export class TcpProxy {
  port = 0;
  /** Added to every chunk the server sends to the client (ms). */
  delayMs = 0;
  /** Added to every chunk the client sends to the server (ms). */
  upDelayMs = 0;
  /** New connections get `HTTP/1.1 503` and are closed (an outage, a proxy that blocks upgrades). */
  refuse = false;
  /** Connections accepted, refused ones included. */
  accepted = 0;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private server: Server | undefined;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy to the host and port of `targetUrl` (ws://127.0.0.1:<port>/...). */
  static async start(targetUrl: string): Promise<TcpProxy> {
    const target = new URL(targetUrl);
    const proxy = new TcpProxy(target.hostname, Number(target.port));
    await proxy.listen();
    return proxy;
  }

  /** `targetUrl` with the proxy's port instead of the server's. */
  url(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.port = String(this.port);
    return url.toString().replace(/\/$/, '');
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => {
      this.accepted++;
      if (this.refuse) {
        // answered, then closed from this side too (a client may keep its half open)
        client.on('error', () => {});
        client.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => client.destroy());
        return;
      }
      const upstream = tcpConnect(this.targetPort, this.targetHost);
      const pair = { client, upstream };
      this.pairs.add(pair);
      pipeDelayed(client, upstream, () => this.upDelayMs);
      pipeDelayed(upstream, client, () => this.delayMs);
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  /** Cuts every connection at once, without a close frame (a network drop). */
  dropAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  get connections(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    this.dropAll();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
