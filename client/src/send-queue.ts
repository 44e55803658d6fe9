/** The sends made while no connection can take them, bounded, in order. */
import { WskitError } from './errors';
import type { Reply } from './protocol';

export interface QueuedSend {
  action: string;
  fields: Record<string, unknown>;
  timeoutMs: number;
  resolve: (reply: Reply) => void;
  reject: (error: WskitError) => void;
  /** Sent again once already after TOKEN_EXPIRED. */
  retried: boolean;
  /** Order of the calls: a send put back goes where it was. */
  seq: number;
}

export class SendQueue {
  readonly items: QueuedSend[] = [];

  constructor(
    private readonly max: number,
    private readonly overflow: 'drop-oldest' | 'drop-newest',
    private readonly onDrop: (item: QueuedSend, error: WskitError) => void,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** Queues `item`; a full queue drops one send (rejected with QUEUE_FULL, reported through onDrop). */
  push(item: QueuedSend): void {
    const items = this.items;
    if (items.length < this.max) {
      items.push(item);
      return;
    }
    const dropped = this.overflow === 'drop-oldest' && items.length > 0 ? items.shift()! : item;
    if (dropped !== item) items.push(item);
    const error = new WskitError(
      'QUEUE_FULL',
      `the send queue is full (maxQueueSize ${this.max}); ${dropped.action} was dropped without being sent`,
    );
    dropped.reject(error);
    this.onDrop(dropped, error);
  }

  /** Puts a send back in the queue, in its original order, to go out on the next connection. */
  requeue(item: QueuedSend): void {
    let index = this.items.findIndex((queued) => queued.seq > item.seq);
    if (index === -1) index = this.items.length;
    this.items.splice(index, 0, item);
  }

  /**
   * Hands the queued sends, oldest first, to `take`: it returns true when it took the send,
   * false to keep it queued and go on, undefined to stop.
   */
  flush(take: (item: QueuedSend) => boolean | undefined): void {
    for (let i = 0; i < this.items.length; ) {
      const item = this.items[i]!;
      const taken = take(item);
      if (taken === undefined) return;
      if (!taken) i++;
      else if (this.items[i] === item) this.items.splice(i, 1);
    }
  }

  rejectAll(error: (item: QueuedSend) => WskitError): void {
    for (const item of this.items.splice(0)) item.reject(error(item));
  }
}
