import { createContext } from 'react';
import type { WskitClient } from '@wskit/client';

/**
 * The client of the nearest provider: a client, `null` while the provider has none (yet), or
 * `undefined` outside any provider.
 */
export const ClientContext = /* @__PURE__ */ createContext<WskitClient | null | undefined>(undefined);
