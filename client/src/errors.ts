/**
 * Codes a server sends in `{"type":"error"}` replies (wire protocol v1), plus the codes
 * the client itself uses when a request cannot get a server reply.
 */
export type ServerErrorCode =
  | 'BAD_REQUEST'
  | 'UNKNOWN_ACTION'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOKEN_EXPIRED'
  | 'INTERNAL';

export type ClientErrorCode =
  /** No reply arrived within the request's timeout (the server may still have acted). */
  | 'TIMEOUT'
  /** The offline queue was full and this send was dropped; it never reached the server. */
  | 'QUEUE_FULL'
  /** The connection closed after the frame was sent and before its reply arrived. */
  | 'CONNECTION_LOST'
  /** The client was closed (by `close()`, or after `maxRetries`) before the send completed. */
  | 'CLOSED';

export type WskitErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

/** The error every promise of the SDK rejects with. `code` says what happened. */
export class WskitError extends Error {
  override readonly name = 'WskitError';
  readonly code: WskitErrorCode;
  /** The server's reply frame when the error came from the server. */
  readonly reply: Readonly<Record<string, unknown>> | undefined;

  constructor(code: WskitErrorCode, message: string, reply?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.reply = reply;
  }

  /** True when the server (not the client) produced this error. */
  get fromServer(): boolean {
    return this.reply !== undefined;
  }
}
