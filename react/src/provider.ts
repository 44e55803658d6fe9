import { createElement, useEffect, useRef, useState, type ReactNode } from 'react';
import { connect, type ConnectOptions, type WskitClient } from '@wskit/client';
import { ClientContext } from './context';

export interface WskitProviderProps {
  /**
   * A client the application created (and closes). `null`: no client yet (signed out); the
   * hooks answer `idle`.
   */
  client?: WskitClient | null;
  /**
   * Connect options: the provider creates the client when it mounts and closes it when it
   * unmounts. Read once, at mount; to connect differently, give the provider another `key`.
   * Ignored when `client` is given.
   */
  options?: ConnectOptions;
  children?: ReactNode;
}

interface Held {
  client: WskitClient;
  closeTimer?: ReturnType<typeof setTimeout>;
}

/**
 * The client the provider owns, created in an effect (never during render, which React may
 * repeat or throw away) and closed one macrotask after unmount, so that strict mode's
 * mount-unmount-mount keeps one client and one connection.
 */
function useOwnedClient(options: ConnectOptions | undefined): WskitClient | null {
  const [client, setClient] = useState<WskitClient | null>(null);
  const initial = useRef(options);
  const held = useRef<Held | null>(null);
  useEffect(() => {
    const connectOptions = initial.current;
    if (!connectOptions) return undefined;
    let current = held.current;
    if (current?.closeTimer !== undefined) {
      clearTimeout(current.closeTimer);
      current.closeTimer = undefined;
    } else if (!current) {
      current = held.current = { client: connect(connectOptions) };
    }
    setClient(current.client);
    const mine = current;
    return () => {
      mine.closeTimer = setTimeout(() => {
        if (held.current === mine) held.current = null;
        void mine.client.close();
      }, 0);
    };
  }, []);
  return client;
}

/**
 * Makes a wskit client available to the hooks below it: pass a `client` you manage, or
 * `options` for one the provider creates and closes.
 */
export function WskitProvider({ client, options, children }: WskitProviderProps): ReactNode {
  const owned = useOwnedClient(client === undefined ? options : undefined);
  const value = client === undefined ? owned : client;
  return createElement(ClientContext.Provider, { value }, children);
}
