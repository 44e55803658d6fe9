import { useEffect, useRef, useState } from 'react';
import type { TopicMessage } from '@wskit/react';
import type { Alert, StreamPush } from '../src/model';

interface Toast {
  id: string;
  alert: Alert;
}

/** A toast for each alert raised after sign-in (replayed older ones stay in the list only), 8 s each. */
export function Toasts({ alerts, since }: { alerts: ReadonlyArray<TopicMessage<StreamPush<Alert>>>; since: number }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const seen = useRef(new Set<string>());
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  useEffect(() => {
    const fresh: Toast[] = [];
    for (const m of alerts) {
      const id = m.mid ?? m.data.item.sk;
      if (seen.current.has(id)) continue;
      seen.current.add(id);
      if (m.data.item.ts >= since) fresh.push({ id, alert: m.data.item });
    }
    if (fresh.length === 0) return;
    setToasts((list) => [...fresh, ...list].slice(0, 4));
    for (const toast of fresh) {
      const timer = setTimeout(() => {
        timers.current.delete(timer);
        setToasts((list) => list.filter((x) => x.id !== toast.id));
      }, 8000);
      timers.current.add(timer);
    }
  }, [alerts, since]);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map(({ id, alert }) => (
        <div key={id} className={`toast ${alert.direction}`} role="alert">
          <strong>{alert.symbol}</strong> {alert.direction === 'up' ? '▲' : '▼'} {Math.abs(alert.changePct).toFixed(2)}%
          <div className="small">{alert.message}</div>
        </div>
      ))}
    </div>
  );
}
