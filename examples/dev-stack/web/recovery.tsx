/**
 * What happened to the connection, as a person sees it: when it was lost and why, when it came
 * back, and the messages it missed: those delivered after the connection was lost that had
 * been published before it was back (every message carries `ts`, its publish time, and `seq`,
 * its number in its topic). The client fetches them by seq with `history` after it
 * resubscribes; a few may also arrive on the old socket as the network returns. Gaps the
 * server could no longer fill (older than its retention) are counted apart.
 */
import { useRef, useState } from 'react';
import { useClientEvent } from '@wskit/react';
import { formatDuration, formatTime } from './format';

export interface Outage {
  from: number;
  to?: number;
  reason: string;
  /** Messages delivered after the connection was lost, published before it was back. */
  recovered: number;
  /** Per topic: the first and last seq recovered. */
  topics: Map<string, { first: number; last: number; count: number }>;
  /** Messages reported lost (gap events). */
  lost: number;
}

export function useOutages(): { current: Outage | undefined; count: number; dismiss: () => void } {
  const outage = useRef<Outage | undefined>(undefined);
  const [version, setVersion] = useState(0);
  const [count, setCount] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  useClientEvent('state', ({ state, previous, reason }) => {
    const now = Date.now();
    if (previous === 'open' && state !== 'open' && state !== 'closed') {
      outage.current = { from: now, reason: reason?.kind ?? state, recovered: 0, topics: new Map(), lost: 0 };
      setCount((c) => c + 1);
      changed();
    } else if (state === 'open' && outage.current && outage.current.to === undefined) {
      outage.current.to = now;
      changed();
    }
  });
  useClientEvent('message', (message) => {
    const current = outage.current;
    const ts = message.ts;
    if (!current || typeof ts !== 'number' || (current.to !== undefined && ts > current.to)) return;
    current.recovered++;
    if (typeof message.seq === 'number') {
      const range = current.topics.get(message.topic);
      if (range) {
        range.last = message.seq;
        range.count++;
      } else current.topics.set(message.topic, { first: message.seq, last: message.seq, count: 1 });
    }
    changed();
  });
  useClientEvent('gap', ({ from, to }) => {
    if (!outage.current) return;
    outage.current.lost += to - from + 1;
    changed();
  });
  void version;
  return {
    current: outage.current,
    count,
    dismiss: () => {
      outage.current = undefined;
      changed();
    },
  };
}

export function RecoveryBanner() {
  const { current, dismiss } = useOutages();
  if (!current) return null;
  const topics = [...current.topics.entries()].sort(([a], [b]) => a.localeCompare(b));
  if (current.to === undefined) {
    return (
      <div className="banner warn" role="status" data-outage="ongoing">
        <strong>Connection lost</strong> at {formatTime(current.from)} ({current.reason}). Reconnecting; what is published meanwhile
        will be fetched by sequence number when the connection is back.
      </div>
    );
  }
  return (
    <div className="banner ok" role="status" data-outage="recovered" data-recovered={current.recovered} data-lost={current.lost}>
      <button type="button" className="close" onClick={dismiss} aria-label="dismiss">
        ×
      </button>
      <strong>Back online</strong> after {formatDuration(current.to - current.from)} ({current.reason}, {formatTime(current.from)}–{formatTime(current.to)}).{' '}
      Recovered <strong className="recovered-count">{current.recovered}</strong> {current.recovered === 1 ? 'message' : 'messages'} published meanwhile
      {topics.length > 0 ? ` on ${topics.length} ${topics.length === 1 ? 'topic' : 'topics'}` : ''}, in order
      {current.lost > 0 ? `; ${current.lost} older than the server keeps were lost` : '; none lost'}.
      {topics.length > 0 && (
        <ul className="gaps">
          {topics.map(([topic, r]) => (
            <li key={topic}>
              <code>{topic}</code> #{r.first}
              {r.last !== r.first ? `–#${r.last}` : ''}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
