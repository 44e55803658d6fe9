/**
 * bench/fanout: one publish to a topic N real WebSocket clients follow.
 *
 *   node bench/run-ts.mjs bench/fanout/main.ts [--clients 10000] [--procs 4]
 *        [--latency 0,30] [--concurrency 64,256] [--sequential 2000] [--gateway harness|local]
 *
 * Processes: this one (the sender: MessageSender with the real SDK client), one gateway,
 * and --procs client processes holding the sockets. The gateway is either the test
 * harness (@wskit/testing/ws-harness: a ws server with the management API in front
 * of its sockets) or, with `--gateway local`, the local gateway (@wskit/local, the real
 * bundles in dist/lambda: every client signs in through the authorizer and connect
 * functions and learns its connectionId with `hello`). Per latency it measures:
 *   direct      the gateway writes to every socket itself (the ceiling on this machine)
 *   sequential  `for (id of ids) await send(id)` (the public samples' way), on the first
 *               --sequential ids; time for all N is projected from its rate
 *   fanOut@C    MessageSender.fanOut with C requests in flight (AIMD ceiling)
 * "last client" is from the start of the send until the last socket has the message, by
 * timestamps the client processes take on receipt (same machine, same clock).
 * CPU per delivery is process.cpuUsage() of this process (user + system) around the send.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { MessageSender, destroyManagementClients, type SenderTransport } from '../../shared/src';
import { startWsGateway, type WsGateway } from '@wskit/testing/ws-harness';

const now = () => performance.timeOrigin + performance.now();

/** The topic every client follows (a public prefix of the local gateway). */
const BENCH_TOPIC = 'public:bench';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

type Msg =
  | { kind: 'ready'; url?: string; callbackUrl?: string; opened?: number }
  | { kind: 'received'; mid?: string; count?: number; last: number }
  | { kind: 'direct-done'; count: number };

function request<T extends Msg>(child: ChildProcess, message: unknown, kind: T['kind']): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: Msg) => {
      if (m.kind === kind) {
        child.off('message', onMessage);
        resolve(m as T);
      }
    };
    child.on('message', onMessage);
    if (message !== undefined) child.send(message as object);
  });
}

// ---- child roles ---------------------------------------------------------------------

async function localGatewayRole(): Promise<void> {
  const { startGateway } = await import('../../local/src');
  const gw = await startGateway({
    port: 0,
    callbackLatencyMs: Number(process.argv[3] ?? 0),
    maxConnectionsPerUser: 0,
    ttlSweepIntervalMs: 0,
    // As the Terraform default: a 10,000-subscriber fan-out at 30 ms per callback needs seconds.
    functionTimeoutMs: { broadcaster: 60_000 },
    // @connections checks SigV4: accept what this run's sender signs with (set in main()).
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! },
  });
  const token = await gw.mintToken({ sub: 'bench', ttlSeconds: 7200 });
  process.on('message', async (m: { kind: string }) => {
    if (m.kind === 'stop') {
      await gw.stop();
      process.exit(0);
    }
  });
  process.send!({ kind: 'ready', url: `${gw.wsUrl}/?token=${encodeURIComponent(token)}`, callbackUrl: gw.callbackUrl, httpUrl: gw.httpUrl });
}

async function gatewayRole(): Promise<void> {
  const gw: WsGateway = await startWsGateway({ stage: 'bench' });
  process.on('message', async (m: { kind: string; latency?: number; payload?: string }) => {
    if (m.kind === 'latency') gw.setOptions({ callbackLatencyMs: m.latency });
    if (m.kind === 'direct') process.send!({ kind: 'direct-done', count: await gw.broadcastDirect(m.payload!) });
    if (m.kind === 'stop') {
      await gw.stop();
      process.exit(0);
    }
  });
  process.send!({ kind: 'ready', url: gw.wsUrl, callbackUrl: gw.callbackUrl });
}

async function clientsRole(): Promise<void> {
  // The URL may carry a token: it comes through the environment, never the command line.
  const url = process.env.WSKIT_BENCH_WS_URL!;
  // Harness: the ids to use; local gateway: how many to open (ids come from `hello`).
  const local = process.argv[4]!.startsWith('count:');
  const ids = local ? Array.from({ length: Number(process.argv[4]!.slice(6)) }, (_, i) => String(i)) : process.argv[4]!.split(',');
  const assigned: string[] = [];
  const expect = new Map<string, { count: number; last: number }>();
  const sockets: WebSocket[] = [];
  const onData = (data: WebSocket.RawData) => {
    const t = now();
    const { type, data: body } = JSON.parse(String(data)) as { type: string; data?: { run?: string } };
    if (type !== 'message' || typeof body?.run !== 'string') return;
    const e = expect.get(body.run) ?? { count: 0, last: 0 };
    e.count++;
    e.last = Math.max(e.last, t);
    expect.set(body.run, e);
  };
  const open = (id: string) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(local ? url : `${url}/?id=${id}`, { perMessageDeflate: false });
            ws.on('message', onData);
            ws.once('error', (error) => {
              const at = sockets.indexOf(ws);
              if (at >= 0) sockets.splice(at, 1);
              reject(error);
            });
            if (!local) {
              ws.once('open', () => resolve());
            } else {
              // hello (to learn the connectionId), then subscribe through the message handler.
              ws.once('open', () => ws.send(JSON.stringify({ action: 'hello', id: 'h' })));
              let connectionId: string | undefined;
              const onReply = (frame: WebSocket.RawData) => {
                const reply = JSON.parse(String(frame)) as { type: string; id?: string; connectionId?: string; code?: string };
                if (reply.type === 'welcome') {
                  connectionId = reply.connectionId;
                  ws.send(JSON.stringify({ action: 'subscribe', topic: BENCH_TOPIC, id: 's' }));
                } else if (reply.type === 'ack' && reply.id === 's') {
                  ws.off('message', onReply);
                  assigned.push(connectionId!);
                  resolve();
                } else if (reply.type === 'error') {
                  ws.terminate();
                  reject(new Error(`${reply.code} answered to ${reply.id === 's' ? 'subscribe' : 'hello'}`));
                }
              };
              ws.on('message', onReply);
            }
            sockets.push(ws);
          });
  // A refused or failed handshake (a loaded machine makes the authorizer time out) is retried.
  const openWithRetry = async (id: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await open(id);
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  };
  for (let i = 0; i < ids.length; i += 200) await Promise.all(ids.slice(i, i + 200).map(openWithRetry));
  process.on('message', (m: { kind: string; mid?: string; count?: number }) => {
    if (m.kind === 'await') {
      const poll = () => {
        const e = expect.get(m.mid!);
        if (e && e.count >= m.count!) process.send!({ kind: 'received', mid: m.mid, count: e.count, last: e.last });
        else setTimeout(poll, 5);
      };
      poll();
    }
    if (m.kind === 'stop') {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
  process.send!({ kind: 'ready', opened: sockets.length, ids: local ? assigned : ids });
}

// ---- the benchmark -------------------------------------------------------------------

interface Row {
  latency: number;
  method: string;
  sent: number;
  seconds: number;
  perSecond: number;
  lastClientMs: number;
  projectedMs?: number;
  cpuUsPerMsg?: number;
  note?: string;
}

async function main(): Promise<void> {
  const total = Number(arg('clients', '10000'));
  const procs = Number(arg('procs', '4'));
  const latencies = arg('latency', '0,30').split(',').map(Number);
  const concurrencies = arg('concurrency', '64,256').split(',').map(Number);
  const sequentialCap = Number(arg('sequential', '2000'));
  const transports = arg('transports', 'sdk,signed-http').split(',') as SenderTransport[];
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  process.env.AWS_REGION ??= 'us-east-1';

  const gatewayKind = arg('gateway', 'harness');
  const self = process.argv[1]!;
  const rows: Row[] = [];
  let midCounter = 0;
  let openedNote = '';
  const dataFor = (run: string) => ({ text: 'hello, everyone', n: 42, run });
  const payloadFor = (run: string) => JSON.stringify({ type: 'message', topic: BENCH_TOPIC, data: dataFor(run), mid: run, ts: Date.now() });

  let stopping = false;
  for (const latency of latencies) {
    stopping = false;
    // A fresh gateway and fresh clients per latency (the local gateway fixes its latency at start).
    const gateway =
      gatewayKind === 'local' ? fork(self, ['local-gateway', String(latency)], { stdio: 'inherit' }) : fork(self, ['gateway'], { stdio: 'inherit' });
    const ready = await request<{ kind: 'ready'; url: string; callbackUrl: string; httpUrl?: string }>(gateway, undefined, 'ready');
    if (gatewayKind !== 'local') gateway.send({ kind: 'latency', latency });
    const opening = performance.now();
    const clientProcs: Array<{ child: ChildProcess; ids: string[] }> = [];
    for (let p = 0; p < procs; p++) {
      const share = Math.floor(total / procs) + (p < total % procs ? 1 : 0);
      const mine = Array.from({ length: share }, (_, i) => `c${(i * procs + p).toString(36)}Bw=`);
      const spec = gatewayKind === 'local' ? `count:${share}` : mine.join(',');
      const child = fork(self, ['clients', 'url-in-env', spec], { stdio: 'inherit', env: { ...process.env, WSKIT_BENCH_WS_URL: ready.url } });
      // A client process that dies would leave this run waiting for it forever.
      child.once('exit', (code) => {
        if (code !== 0 && !stopping) {
          console.error(`bench/fanout: a client process exited with ${code}; stopping`);
          process.exit(1);
        }
      });
      clientProcs.push({ child, ids: [] });
    }
    const opened = await Promise.all(clientProcs.map((c) => request<{ kind: 'ready'; opened: number; ids: string[] }>(c.child, undefined, 'ready')));
    opened.forEach((o, i) => (clientProcs[i]!.ids = o.ids));
    const ids = clientProcs.flatMap((c) => c.ids);
    openedNote = `${ids.length} sockets open in ${((performance.now() - opening) / 1000).toFixed(1)} s`;
    console.error(`bench/fanout (${gatewayKind}, ${latency} ms): ${openedNote}`);

    /** Resolves with the time the last of the targets got message `mid`. */
    const lastReceipt = async (mid: string, targets: string[]) => {
      const set = new Set(targets);
      const results = await Promise.all(
        clientProcs.map((c) => {
          const count = c.ids.filter((id) => set.has(id)).length;
          return count === 0 ? Promise.resolve({ last: 0 }) : request<{ kind: 'received'; last: number }>(c.child, { kind: 'await', mid, count }, 'received');
        }),
      );
      return Math.max(...results.map((r) => r.last));
    };

    // direct: the ceiling (the harness only: the local gateway has no such switch)
    if (gatewayKind !== 'local') {
      const mid = `m${++midCounter}`;
      const waiting = lastReceipt(mid, ids);
      const t0 = now();
      await request(gateway, { kind: 'direct', payload: payloadFor(mid) }, 'direct-done');
      const last = await waiting;
      const seconds = (last - t0) / 1000;
      rows.push({ latency, method: 'direct (gateway writes, ceiling)', sent: total, seconds, perSecond: total / seconds, lastClientMs: last - t0 });
    }
    // sequential: the public samples' loop
    {
      // The public samples' loop uses the SDK client.
      const sender = new MessageSender({ endpoint: ready.callbackUrl, concurrency: 1, requestTimeoutMs: 60_000, transport: 'sdk' });
      const count = Math.min(ids.length, latency > 0 ? Math.max(50, Math.floor(sequentialCap / Math.max(1, latency / 3))) : sequentialCap);
      const targets = ids.slice(0, count);
      await sender.send(ids[0]!, payloadFor('warm')); // connect + load the SDK outside the timing
      const mid = `m${++midCounter}`;
      const waiting = lastReceipt(mid, targets);
      const payload = payloadFor(mid);
      const cpu0 = process.cpuUsage();
      const t0 = now();
      let delivered = 0;
      for (const id of targets) if ((await sender.send(id, payload)).status === 'delivered') delivered++;
      const cpu = process.cpuUsage(cpu0);
      const last = await waiting;
      const seconds = (last - t0) / 1000;
      rows.push({
        latency,
        method: 'sequential send-and-await (SDK client)',
        sent: delivered,
        seconds,
        perSecond: delivered / seconds,
        lastClientMs: last - t0,
        projectedMs: count < ids.length ? ((last - t0) / count) * ids.length : undefined,
        cpuUsPerMsg: (cpu.user + cpu.system) / delivered,
        note: count < ids.length ? `first ${count} of ${ids.length}` : undefined,
      });
    }
    const senders = transports.flatMap((transport) => concurrencies.map((concurrency) => ({ transport, concurrency })));
    for (const { transport, concurrency } of senders) {
      const sender = new MessageSender({ endpoint: ready.callbackUrl, concurrency, requestTimeoutMs: 60_000, transport });
      // Warm the keep-alive pool to the concurrency so both runs start alike.
      await sender.fanOut(ids.slice(0, concurrency), payloadFor('warm'));
      const mid = `m${++midCounter}`;
      const waiting = lastReceipt(mid, ids);
      const payload = payloadFor(mid);
      const cpu0 = process.cpuUsage();
      const t0 = now();
      const summary = await sender.fanOut(ids, payload);
      const cpu = process.cpuUsage(cpu0);
      const last = await waiting;
      const seconds = (last - t0) / 1000;
      rows.push({
        latency,
        method: `MessageSender.fanOut @${concurrency}, ${transport}`,
        sent: summary.delivered,
        seconds,
        perSecond: summary.delivered / seconds,
        lastClientMs: last - t0,
        cpuUsPerMsg: (cpu.user + cpu.system) / summary.delivered,
        note: summary.failed || summary.retried ? `failed ${summary.failed}, retried ${summary.retried}` : undefined,
      });
    }
    // The whole path on the local gateway: one message to the broadcaster Lambda (SQS-shaped,
    // through POST /dev/publish), which Queries the topic's subscribers and fans out.
    if (gatewayKind === 'local') {
      const mid = `m${++midCounter}`;
      const waiting = lastReceipt(mid, ids);
      const t0 = now();
      const response = await fetch(`${ready.httpUrl}/dev/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ topic: BENCH_TOPIC, data: dataFor(mid) }),
      });
      const answer = (await response.json()) as { results?: Array<{ status: string }>; message?: string };
      if (!response.ok || answer.results?.[0]?.status !== 'delivered') {
        console.error(`bench/fanout: the broadcaster did not deliver: ${response.status} ${JSON.stringify(answer)}`);
        process.exit(1);
      }
      const last = await waiting;
      const seconds = (last - t0) / 1000;
      rows.push({
        latency,
        method: 'broadcaster Lambda: Query + fanOut @64, signed-http',
        sent: ids.length,
        seconds,
        perSecond: ids.length / seconds,
        lastClientMs: last - t0,
        note: 'POST /dev/publish to the last client; CPU is in the gateway',
      });
    }
    stopping = true;
    await Promise.all(clientProcs.map((c) => new Promise((resolve) => {
      c.child.once('exit', resolve);
      c.child.send({ kind: 'stop' });
    })));
    await new Promise((resolve) => {
      gateway.once('exit', resolve);
      gateway.send({ kind: 'stop' });
    });
    destroyManagementClients();
  }

  const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const where = gatewayKind === 'local' ? 'the local gateway (real bundles)' : 'the ws harness';
  console.log(`\nbench/fanout: ${total} WebSocket clients on ${where} in ${procs} processes, one publish each row; node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| callback latency | method | delivered | deliveries/s | last client has it (ms) | projected for all (ms) | sender CPU µs/delivery | note |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    console.log(`| ${r.latency} ms | ${r.method} | ${fmt(r.sent)} | ${fmt(r.perSecond)} | ${fmt(r.lastClientMs)} | ${fmt(r.projectedMs)} | ${fmt(r.cpuUsPerMsg)} | ${r.note ?? ''} |`);
  }
}

const role = process.argv[2];
(role === 'gateway' ? gatewayRole() : role === 'local-gateway' ? localGatewayRole() : role === 'clients' ? clientsRole() : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
