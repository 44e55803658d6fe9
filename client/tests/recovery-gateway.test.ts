/**
 * The recovery scenarios against the REAL local gateway running the built handler bundles:
 * seq and history from the message handler, the HTTP API from the http function, the
 * authorizer on both. The same scenarios run against the tests' own server in
 * recovery.test.ts; here nothing of the server is the tests' own.
 */
import {
  degradedOverHttp,
  dropsWhileStreaming,
  gapOlderThanRetention,
  outOfOrder,
  rotationUnderLoad,
  Scenario,
  type RecoveryTarget,
} from './support/recovery-scenarios';
import { handlerBundles } from './support/gateway';
import { startGateway, type Gateway } from '@wskit/local';

jest.setTimeout(120_000);

/**
 * Messages a topic retains on this gateway (what the gap scenario publishes past): 5 s of the
 * scenarios' 50 messages/s. The drop scenario must catch up within it after each reconnect;
 * with 1 s (50) a reconnect on a loaded machine fell out of retention now and then.
 */
const RETAIN = 250;

describe('recovery scenarios (local gateway, real handlers)', () => {
  let gw: Gateway;
  let scenario: Scenario;
  let topics = 0;

  beforeAll(async () => {
    gw = await startGateway({
      distDir: handlerBundles(),
      publicTopicPrefixes: ['public:'],
      maxConnectionsPerUser: 0,
      history: { maxMessages: RETAIN },
      // Two publishers stream 50 messages/s for seconds: the scenarios are about order and loss.
      rateLimits: { framesPerConnection: 0, publishesPerUser: 0 },
    });
    if (!gw.httpApiUrl) throw new Error('the http function is not built: run ./build.sh first');
  });
  afterAll(async () => {
    await gw?.stop();
  });
  beforeEach(() => {
    const target: RecoveryTarget = {
      wsUrl: gw.wsUrl,
      httpUrl: gw.httpApiUrl!,
      token: (sub) => gw.mintToken({ sub }),
      topic: (name) => `public:${name}-${++topics}`,
      retain: RETAIN,
      scramble: (on) => gw.setCallbackDelay(on ? () => Math.floor(Math.random() * 40) : undefined),
    };
    scenario = new Scenario(target);
  });
  afterEach(async () => {
    gw.setCallbackDelay(undefined);
    await scenario.close();
  });

  test('the network drops 5 times while two publishers stream 50 msg/s: every message once, in order', async () => {
    const { recoveredGaps } = await dropsWhileStreaming(scenario);
    expect(recoveredGaps).toBeGreaterThan(0);
  });

  test('rotation under load: every message once, in order, no reconnect', async () => {
    await rotationUnderLoad(scenario);
  });

  test('a gap older than the retention: a gap event for exactly the lost messages, then the rest in order', async () => {
    await gapOlderThanRetention(scenario);
  });

  test('upgrades refused: degraded over the HTTP API, everything received, back to the WebSocket when allowed', async () => {
    await degradedOverHttp(scenario);
  });

  test('out-of-order delivery from two publishers is handed out in seq order', async () => {
    await outOfOrder(scenario);
  });
});
