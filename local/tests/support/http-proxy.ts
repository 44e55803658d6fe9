/**
 * An HTTP proxy on 127.0.0.1 in front of the gateway, for what a network between a browser
 * and API Gateway can do: refuse WebSocket upgrades while passing plain HTTP (a corporate
 * proxy that blocks them: the client's HTTP fallback), and hold every byte the server sends
 * on an upgraded connection for `delayMs` (a slow link: connection quality). Requests keep
 * their Host header, so the gateway sees a page served from the proxy's own origin.
 */
import * as http from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeDelayed } from '@wskit/testing/tcp-proxy';

export class HttpProxy {
  port = 0;
  /** Upgrade requests get `403 Forbidden` and are closed; plain requests pass. */
  refuseUpgrades = false;
  /** Added to every chunk the server sends on an upgraded connection (ms). */
  delayMs = 0;
  /** Upgrade requests refused so far. */
  refused = 0;
  private readonly tunnels = new Set<{ client: Duplex; upstream: Socket }>();
  private server: http.Server | undefined;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy to the host and port of `targetUrl` (http://127.0.0.1:<port>). */
  static async start(targetUrl: string): Promise<HttpProxy> {
    const target = new URL(targetUrl);
    const proxy = new HttpProxy(target.hostname, Number(target.port));
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      const upstream = http.request(
        { host: this.targetHost, port: this.targetPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    server.on('upgrade', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
      client.on('error', () => undefined);
      if (this.refuseUpgrades) {
        this.refused++;
        client.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => client.destroy());
        return;
      }
      const upstream = tcpConnect(this.targetPort, this.targetHost, () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length > 0) upstream.write(head);
      });
      const tunnel = { client, upstream };
      this.tunnels.add(tunnel);
      pipeDelayed(client, upstream, () => 0);
      pipeDelayed(upstream, client, () => this.delayMs);
      const end = () => {
        this.tunnels.delete(tunnel);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  /** Cuts every upgraded connection at once, without a close frame. */
  dropAll(): void {
    for (const { client, upstream } of this.tunnels) {
      client.destroy();
      upstream.destroy();
    }
    this.tunnels.clear();
  }

  async stop(): Promise<void> {
    this.dropAll();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
