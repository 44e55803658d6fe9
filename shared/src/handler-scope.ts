import { maxTopicsPerConnectionFromEnv, tableNameFromEnv } from './config';
import { createLogger, type Logger } from './logger';
import { ConnectionStore } from './store';

/**
 * Module-scope state of a table handler, created on first use so that loading a bundle
 * does no work: the service's logger, and a ConnectionStore built from the environment
 * (rebuilt only when its settings change, as they do between test cases).
 */
export interface HandlerScope {
  logger(): Logger;
  store(): ConnectionStore;
}

export function handlerScope(service: string, options: { topicLimitFromEnv?: boolean } = {}): HandlerScope {
  let logger: Logger | undefined;
  let store: ConnectionStore | undefined;
  const getLogger = (): Logger => (logger ??= createLogger(service));
  return {
    logger: getLogger,
    store(): ConnectionStore {
      const tableName = tableNameFromEnv();
      const maxTopicsPerConnection = options.topicLimitFromEnv ? maxTopicsPerConnectionFromEnv() : undefined;
      const stale =
        store?.tableName !== tableName ||
        (maxTopicsPerConnection !== undefined && store.maxTopicsPerConnection !== maxTopicsPerConnection);
      if (stale) store = new ConnectionStore({ tableName, maxTopicsPerConnection, logger: getLogger() });
      return store!;
    },
  };
}
