/**
 * The real local gateway (`startGateway` from @wskit/local) running the built handler
 * bundles (`dist/lambda`, from ./build.sh) on embedded dynalite: what the client talks to in
 * the suites that check it against the handlers that ship.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startGateway, type Gateway, type GatewayLimits } from '@wskit/local';

const FUNCTIONS = ['connect', 'disconnect', 'message', 'authorizer'];

export function handlerBundles(): string {
  const distDir = resolve(process.env.WSKIT_DIST_DIR ?? join(__dirname, '..', '..', '..', 'dist', 'lambda'));
  const missing = FUNCTIONS.filter((name) => !existsSync(join(distDir, name, 'index.mjs')));
  if (missing.length > 0) {
    throw new Error(
      `these client tests run the real handler bundles; ${missing.map((m) => `${m}/index.mjs`).join(', ')} ` +
        `missing from ${distDir}: run ./build.sh at the repository root first`,
    );
  }
  return distDir;
}

export interface GatewayHandle {
  readonly gateway: Gateway;
  readonly wsUrl: string;
  readonly port: number;
  /** Stops the gateway: every connection drops, the embedded table is gone. */
  kill(): Promise<void>;
  /** Starts a new gateway on the same port (fresh table, same dev signing key). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  mintToken(sub: string, ttlSeconds?: number): Promise<string>;
}

export async function localGateway(limits: Partial<GatewayLimits> = {}): Promise<GatewayHandle> {
  const distDir = handlerBundles();
  const start = (port: number) =>
    startGateway({
      port,
      distDir,
      publicTopicPrefixes: ['public:'],
      maxConnectionsPerUser: 0,
      limits,
      // Tokens expire at their exp here: the tests wait for expiry and should not wait 5 s more.
      jwtClockToleranceSeconds: 0,
      // One user publishes 100 messages/s for seconds in the rotation test; rate limits have their own tests.
      rateLimits: { publishesPerUser: 0, framesPerConnection: 0 },
    });
  let gateway: Gateway | undefined = await start(0);
  if (gateway.warnings.length > 0) throw new Error(`the gateway reported: ${gateway.warnings.join('; ')}`);
  const port = gateway.port;
  const wsUrl = gateway.wsUrl;
  const current = () => {
    if (!gateway) throw new Error('the gateway is stopped');
    return gateway;
  };
  return {
    get gateway() {
      return current();
    },
    wsUrl,
    port,
    async kill() {
      const g = gateway;
      gateway = undefined;
      await g?.stop();
    },
    async restart() {
      gateway = await start(port);
    },
    async stop() {
      const g = gateway;
      gateway = undefined;
      await g?.stop();
    },
    mintToken: (sub, ttlSeconds) => current().mintToken(ttlSeconds === undefined ? { sub } : { sub, ttlSeconds }),
  };
}
