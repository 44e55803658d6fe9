/** What the client needs to know about the host: network and page visibility. */
export type EnvironmentEvent = 'online' | 'offline' | 'visible' | 'hidden';

export interface Environment {
  /** False when the host knows it has no network (a browser's `navigator.onLine`). */
  isOnline(): boolean;
  /** Calls `listener` on every change; returns a function that stops it. */
  subscribe(listener: (event: EnvironmentEvent) => void): () => void;
}

interface BrowserGlobals {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
  navigator?: { onLine?: boolean };
  document?: {
    visibilityState?: string;
    addEventListener(type: string, listener: () => void): void;
    removeEventListener(type: string, listener: () => void): void;
  };
}

/**
 * The browser's `online`/`offline` events and `visibilitychange`, or undefined outside a
 * browser (Node has neither, and a server process is always "visible").
 */
export function browserEnvironment(): Environment | undefined {
  const g = globalThis as unknown as Partial<BrowserGlobals>;
  if (typeof g.addEventListener !== 'function' || typeof g.removeEventListener !== 'function') return undefined;
  const win = g as BrowserGlobals;
  return {
    isOnline: () => win.navigator?.onLine !== false,
    subscribe(listener) {
      const online = () => listener('online');
      const offline = () => listener('offline');
      const visibility = () => listener(win.document?.visibilityState === 'hidden' ? 'hidden' : 'visible');
      win.addEventListener('online', online);
      win.addEventListener('offline', offline);
      win.document?.addEventListener('visibilitychange', visibility);
      return () => {
        win.removeEventListener('online', online);
        win.removeEventListener('offline', offline);
        win.document?.removeEventListener('visibilitychange', visibility);
      };
    },
  };
}
