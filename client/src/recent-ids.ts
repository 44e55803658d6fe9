/**
 * A bounded set of recently seen ids, oldest evicted first. Used to drop a pushed message
 * whose `mid` was already delivered (two connections overlap during a rotation, and a
 * server may retry a fan-out).
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`dedupeWindow must be >= 1 (got ${capacity})`);
  }

  /** Records `id`; returns true when it had been seen already. */
  checkAndAdd(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      // A Set iterates in insertion order: the first entry is the oldest.
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return false;
  }

  get size(): number {
    return this.ids.size;
  }
}
