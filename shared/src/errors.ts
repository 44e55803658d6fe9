/** A required or malformed environment variable. The message names it and says what to set. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** A payload refused before it was sent because it exceeds API Gateway's 128 KB message limit. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `payload is ${bytes} bytes (UTF-8), over the ${limit}-byte limit of a wskit message (API Gateway carries at most 128 KB per WebSocket message); ` +
        'send a smaller message or a reference to the data (for example an S3 key)',
    );
  }
}

/** The connection has no row in the table (never stored, removed, or expired). */
export class ConnectionNotFoundError extends Error {
  override readonly name = 'ConnectionNotFoundError';
  constructor(readonly connectionId: string) {
    super(`connection ${connectionId} is not registered (its record was removed or has expired)`);
  }
}

/** The connection already holds the maximum number of topic subscriptions. */
export class SubscriptionLimitError extends Error {
  override readonly name = 'SubscriptionLimitError';
  constructor(
    readonly connectionId: string,
    readonly limit: number,
  ) {
    super(`connection ${connectionId} already has ${limit} subscriptions, the maximum; unsubscribe from a topic first`);
  }
}
