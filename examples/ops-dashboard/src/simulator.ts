/**
 * The fleet: four services, each writing four metric samples (requests/s, p50 and p99 latency,
 * errors/s) every `intervalMs`, one BatchWriteItem per tick. Now and then one service has an
 * incident: latency climbs and errors jump for a while.
 */
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { SERVICES, sortKey, type MetricName } from './model';

export type Random = () => number;

export interface MetricsSimulatorOptions {
  client: DynamoDBClient;
  table: string;
  /** A sample of every metric of every service this often (default 250 ms). */
  intervalMs?: number;
  services?: readonly string[];
  /** An incident starts this often (default 90 s; 0: never) and lasts `incidentMs` (default 20 s). */
  incidentEveryMs?: number;
  incidentMs?: number;
  /** How long a sample item lives (TTL), seconds (default 3600). */
  ttlSeconds?: number;
  random?: Random;
  onError?: (error: Error) => void;
}

const PROFILES: Record<string, { rps: number; p50: number }> = {
  checkout: { rps: 120, p50: 85 },
  search: { rps: 450, p50: 35 },
  payments: { rps: 60, p50: 140 },
  auth: { rps: 220, p50: 25 },
};

export class MetricsSimulator {
  readonly stats = { ticks: 0, samples: 0, incidents: 0, errors: 0 };
  readonly #o: Required<Omit<MetricsSimulatorOptions, 'onError'>> & Pick<MetricsSimulatorOptions, 'onError'>;
  #timers: Array<ReturnType<typeof setInterval>> = [];
  #incident: { service: string; until: number } | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();
  #stopped = false;
  readonly #startedAt = Date.now();

  constructor(options: MetricsSimulatorOptions) {
    this.#o = { intervalMs: 250, services: SERVICES, incidentEveryMs: 90_000, incidentMs: 20_000, ttlSeconds: 3600, random: Math.random, ...options };
    if (this.#o.services.length * 4 > 25) throw new RangeError('at most 6 services: one tick is one BatchWriteItem of 25 items at most');
  }

  start(): void {
    this.#timers.push(setInterval(() => this.tick(), this.#o.intervalMs));
    if (this.#o.incidentEveryMs > 0) this.#timers.push(setInterval(() => this.startIncident(), this.#o.incidentEveryMs));
  }

  /** Puts one service into an incident now (the first of the list unless named). */
  startIncident(service?: string): void {
    const target = service ?? this.#o.services[Math.floor(this.#o.random() * this.#o.services.length)]!;
    this.#incident = { service: target, until: Date.now() + this.#o.incidentMs };
    this.stats.incidents++;
  }

  /** The samples of one tick, for every service (exposed for tests). */
  samples(now: number): Array<{ service: string; metric: MetricName; value: number }> {
    const r = this.#o.random;
    const wave = 1 + 0.25 * Math.sin((now - this.#startedAt) / 20_000);
    return this.#o.services.flatMap((service) => {
      const profile = PROFILES[service] ?? { rps: 100, p50: 50 };
      const incident = this.#incident && this.#incident.service === service && now < this.#incident.until;
      const requests = Math.max(0, Math.round(profile.rps * wave * (0.9 + 0.2 * r())));
      const p50 = Math.round(profile.p50 * (incident ? 2.2 : 1) * (0.9 + 0.2 * r()));
      const p99 = Math.round(p50 * (incident ? 7 : 3) * (0.85 + 0.3 * r()));
      const errorRate = incident ? 0.06 + 0.06 * r() : 0.002 + 0.004 * r();
      const errors = Math.round(requests * errorRate);
      return [
        { service, metric: 'requests' as const, value: requests },
        { service, metric: 'latency_p50' as const, value: p50 },
        { service, metric: 'latency_p99' as const, value: p99 },
        { service, metric: 'errors' as const, value: errors },
      ];
    });
  }

  tick(): void {
    if (this.#stopped) return;
    const now = Date.now();
    const expiresAt = Math.floor(now / 1000) + this.#o.ttlSeconds;
    const requests: WriteRequest[] = this.samples(now).map(({ service, metric, value }) => ({
      PutRequest: {
        Item: {
          service: { S: service },
          sk: { S: sortKey(now, metric) },
          metric: { S: metric },
          value: { N: String(value) },
          ts: { N: String(now) },
          expiresAt: { N: String(expiresAt) },
        },
      },
    }));
    this.stats.ticks++;
    this.stats.samples += requests.length;
    const write = this.#o.client.send(new BatchWriteItemCommand({ RequestItems: { [this.#o.table]: requests } })).then(
      () => undefined,
      (error: unknown) => {
        this.stats.errors++;
        if (!this.#stopped) this.#o.onError?.(error as Error);
      },
    );
    this.#inFlight.add(write);
    void write.finally(() => this.#inFlight.delete(write));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await Promise.allSettled([...this.#inFlight]);
  }
}
