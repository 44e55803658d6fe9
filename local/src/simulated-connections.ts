/**
 * Simulated connections for fan-out benchmarks: connection ids the management API accepts
 * like live ones, without sockets. Each POST is counted per connection and per message
 * `seq`, so a benchmark can tell, for every message, how many connections got it once,
 * more than once, or not at all.
 */
export interface DeliveryCount {
  /** Connections that got the message exactly once. */
  once: number;
  /** Extra copies over all connections (a connection that got it 3 times adds 2). */
  duplicated: number;
  /** Connections that never got it. */
  lost: number;
  /** When the last copy arrived (epoch ms), 0 when none did. */
  lastAt: number;
}

const SEQ = /"seq":(\d+)/;

export class SimulatedConnections {
  private readonly index = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly counts = new Map<number, { perConnection: Uint16Array; lastAt: number }>();

  /** Adds `count` connection ids (`sim-<prefix>-<n>`, a shape API Gateway ids never take). */
  add(count: number, prefix = 'c'): string[] {
    const added: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `sim-${prefix}-${this.ids.length}`;
      this.index.set(id, this.ids.length);
      this.ids.push(id);
      added.push(id);
    }
    for (const entry of this.counts.values()) {
      if (entry.perConnection.length < this.ids.length) {
        const grown = new Uint16Array(this.ids.length);
        grown.set(entry.perConnection);
        entry.perConnection = grown;
      }
    }
    return added;
  }

  has(connectionId: string): boolean {
    return this.index.has(connectionId);
  }

  /** Counts one POST to the connection. */
  deliver(connectionId: string, text: string): void {
    const i = this.index.get(connectionId);
    if (i === undefined) return;
    const seq = Number(SEQ.exec(text)?.[1] ?? 0);
    let entry = this.counts.get(seq);
    if (!entry) {
      entry = { perConnection: new Uint16Array(this.ids.length), lastAt: 0 };
      this.counts.set(seq, entry);
    }
    entry.perConnection[i] = Math.min(65_535, entry.perConnection[i]! + 1);
    entry.lastAt = Date.now();
  }

  /** How the message with this seq reached the simulated connections. */
  count(seq: number): DeliveryCount {
    const entry = this.counts.get(seq);
    if (!entry) return { once: 0, duplicated: 0, lost: this.ids.length, lastAt: 0 };
    let once = 0;
    let duplicated = 0;
    let lost = 0;
    for (let i = 0; i < this.ids.length; i++) {
      const n = entry.perConnection[i]!;
      if (n === 0) lost++;
      else if (n === 1) once++;
      else {
        once++;
        duplicated += n - 1;
      }
    }
    return { once, duplicated, lost, lastAt: entry.lastAt };
  }

  /** Copies received so far of the message with this seq. */
  received(seq: number): number {
    const entry = this.counts.get(seq);
    if (!entry) return 0;
    let total = 0;
    for (const n of entry.perConnection) total += n;
    return total;
  }
}
