import { useEffect, useState } from 'react';
import { useConnectionState } from '@wskit/react';
import { formatDuration } from './format';

/** The connection's state, and for how long; the reason when it is not open. */
export function ConnectionBadge() {
  const { state, reason, changedAt } = useConnectionState();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const detail = state !== 'open' && reason ? ` (${reason.kind})` : '';
  return (
    <span className={`badge state-${state}`} data-state={state} title={`since ${new Date(changedAt).toLocaleTimeString()}`}>
      <span className="dot" />
      {state}
      {detail}
      {changedAt > 0 && <span className="since"> · {formatDuration(now - changedAt)}</span>}
    </span>
  );
}
