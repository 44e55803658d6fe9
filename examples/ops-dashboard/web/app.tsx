/**
 * IOps dashboard: one card per service with live throughput, latency and error charts. Each
 * card follows `metrics:<service>`, where the coalescer publishes one METRICS_UPDATE per
 * stream batch (a second's samples), and replays the last 90 updates on arrival.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { WskitProvider, useTopic } from '@wskit/react';
import {
  ConnectionBadge,
  RecoveryBanner,
  SignIn,
  clearSession,
  devTokenProvider,
  formatDuration,
  formatTime,
  loadSession,
  pageWebSocketUrl,
  saveSession,
  type Session,
} from '@wskit/example-dev-stack/web';
import { SERVICES, THRESHOLDS, type MetricPoint, type MetricsUpdate } from '../src/model';
import { LineChart } from './chart';

const WINDOW_MS = 60_000;

export function App() {
  const [session, setSession] = useState<Session | undefined>(() => loadSession());
  if (!session) {
    return (
      <SignIn
        title="IOps dashboard"
        users={['ops', 'alice']}
        hint="Live service metrics on wskit: samples written to a DynamoDB table, coalesced per stream batch, pushed to this page."
        onSignIn={(s) => {
          saveSession(s);
          setSession(s);
        }}
      />
    );
  }
  return (
    <WskitProvider
      key={session.sub}
      options={{
        url: pageWebSocketUrl(),
        token: devTokenProvider(session.sub),
        heartbeat: { intervalMs: 15_000, timeoutMs: 3_000 },
        reconnect: { minDelayMs: 250, maxDelayMs: 5_000 },
      }}
    >
      <Dashboard
        session={session}
        onSignOut={() => {
          clearSession();
          setSession(undefined);
        }}
      />
    </WskitProvider>
  );
}

interface Incident {
  id: string;
  service: string;
  text: string;
  at: number;
}

function useNow(ms: number) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

function Dashboard({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [lastUpdate, setLastUpdate] = useState(0);
  const [incidents, setIncidents] = useState<Incident[]>([]);
  const now = useNow(500);
  const raise = (incident: Incident) => {
    setIncidents((list) => [incident, ...list].slice(0, 4));
    setTimeout(() => setIncidents((list) => list.filter((i) => i.id !== incident.id)), 10_000);
  };
  return (
    <div className="app">
      <header>
        <h1>
          IOps dashboard <span className="muted">· wskit example</span>
        </h1>
        <div className="who">
          <span className="last-update" data-last-update={lastUpdate}>
            last update {lastUpdate ? `${formatTime(lastUpdate)} (${formatDuration(Math.max(0, now - lastUpdate))} ago)` : '—'}
          </span>
          <ConnectionBadge />
          <span className="user">
            <strong>{session.sub}</strong>
          </span>
          <button type="button" className="link" onClick={onSignOut}>
            sign out
          </button>
        </div>
      </header>
      <RecoveryBanner />
      <div className="grid">
        {SERVICES.map((service) => (
          <ServiceCard key={service} service={service} now={now} onUpdate={setLastUpdate} onIncident={raise} since={session.signedInAt} />
        ))}
      </div>
      <div className="toasts" aria-live="polite">
        {incidents.map((i) => (
          <div key={i.id} className="toast down" role="alert">
            <strong>{i.service}</strong> {i.text}
          </div>
        ))}
      </div>
      <footer className="muted small">
        topics <code>metrics:&lt;service&gt;</code> · samples → DynamoDB Streams → coalescer (one METRICS_UPDATE per service per batch) →
        broadcaster → this page
      </footer>
    </div>
  );
}

function series(updates: ReadonlyArray<MetricsUpdate>, metric: string): MetricPoint[] {
  const byTs = new Map<number, MetricPoint>();
  for (const update of updates) for (const p of update.points) if (p.metric === metric) byTs.set(p.ts, p);
  return [...byTs.values()].sort((a, b) => a.ts - b.ts);
}

function ServiceCard({
  service,
  now,
  since,
  onUpdate,
  onIncident,
}: {
  service: string;
  now: number;
  since: number;
  onUpdate: (at: number) => void;
  onIncident: (incident: Incident) => void;
}) {
  const { messages, message, status } = useTopic<MetricsUpdate>(`metrics:${service}`, { limit: 90, replay: 90 });
  const updates = useMemo(() => messages.map((m) => m.data).filter((d) => d?.type === 'METRICS_UPDATE'), [messages]);
  const requests = useMemo(() => series(updates, 'requests'), [updates]);
  const p50 = useMemo(() => series(updates, 'latency_p50'), [updates]);
  const p99 = useMemo(() => series(updates, 'latency_p99'), [updates]);
  const errors = useMemo(() => series(updates, 'errors'), [updates]);
  const latest = message?.data.latest;
  const rps = latest?.requests?.value ?? 0;
  const errorRate = rps > 0 ? ((latest?.errors?.value ?? 0) / rps) * 100 : 0;
  const p99Now = latest?.latency_p99?.value ?? 0;
  const problems = [
    ...(p99Now > THRESHOLDS.latencyP99Ms ? [`p99 latency ${p99Now.toLocaleString()} ms above ${THRESHOLDS.latencyP99Ms} ms`] : []),
    ...(errorRate > THRESHOLDS.errorRatePct ? [`error rate ${errorRate.toFixed(1)}% above ${THRESHOLDS.errorRatePct}%`] : []),
  ];
  const health = !latest ? 'waiting' : problems.length > 0 ? 'alert' : 'ok';
  const previous = useRef(health);
  useEffect(() => {
    if (message) onUpdate(message.receivedAt);
  }, [message, onUpdate]);
  useEffect(() => {
    if (health === 'alert' && previous.current !== 'alert' && message && (message.data.to ?? 0) >= since) {
      onIncident({ id: `${service}-${message.data.to}`, service, text: problems.join('; '), at: Date.now() });
    }
    previous.current = health;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [health]);
  // The last minute, or less while there is less: the charts fill their width from the start.
  const oldest = requests[0]?.ts ?? now;
  const from = Math.max(now - WINDOW_MS, Math.min(oldest, now - 5_000));
  return (
    <section className={`card health-${health}`} data-service={service} data-status={status} data-health={health} data-updates={updates.length}>
      <div className="card-head">
        <h2>{service}</h2>
        <span className="health">{health === 'alert' ? 'degraded' : health === 'ok' ? 'healthy' : 'waiting'}</span>
      </div>
      <div className="figures">
        <div>
          <span className="label">throughput</span>
          <span className="value" data-metric="requests">
            {latest ? `${rps.toLocaleString()} req/s` : '…'}
          </span>
        </div>
        <div>
          <span className="label">p50 / p99</span>
          <span className="value">{latest ? `${latest.latency_p50?.value ?? '–'} / ${p99Now.toLocaleString()} ms` : '…'}</span>
        </div>
        <div>
          <span className="label">errors</span>
          <span className={`value ${errorRate > THRESHOLDS.errorRatePct ? 'down' : ''}`}>{latest ? `${errorRate.toFixed(1)}%` : '…'}</span>
        </div>
      </div>
      <div className="charts">
        <LineChart title="throughput" unit="req/s" from={from} to={now} series={[{ name: 'requests', className: 'line-requests', points: requests }]} />
        <LineChart
          title="latency"
          unit="ms"
          from={from}
          to={now}
          floor={THRESHOLDS.latencyP99Ms}
          series={[
            { name: 'p50', className: 'line-p50', points: p50 },
            { name: 'p99', className: 'line-p99', points: p99 },
          ]}
        />
        <LineChart title="errors" unit="err/s" from={from} to={now} floor={5} series={[{ name: 'errors', className: 'line-errors', points: errors }]} />
      </div>
      <div className="card-foot muted small">
        {message ? (
          <>
            last push {formatDuration(Math.max(0, now - message.receivedAt))} ago · <span className="coalesced">{message.data.records}</span> samples in it · #{message.seq}
          </>
        ) : (
          'waiting for the first update…'
        )}
      </div>
    </section>
  );
}
