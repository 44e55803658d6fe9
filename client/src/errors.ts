import type { ErrorCode } from '@wskit/protocol';

/** Codes a server sends in `{"type":"error"}` replies (wire protocol v1, `ERROR_CODES`). */
export type ServerErrorCode = ErrorCode;

/** Codes the client itself uses when a request cannot get a server reply. */
export type ClientErrorCode =
  /** No reply arrived within the request's timeout (the server may still have acted). */
  | 'TIMEOUT'
  /** The offline queue was full and this send was dropped; it never reached the server. */
  | 'QUEUE_FULL'
  /** The connection closed after the frame was sent and before its reply arrived. */
  | 'CONNECTION_LOST'
  /** The client was closed (by `close()`, or after `maxRetries`) before the send completed. */
  | 'CLOSED'
  /** `request(..., { queue: false })` while no connection was usable: nothing was sent. */
  | 'NOT_CONNECTED'
  /** The server sent a frame that is not JSON. */
  | 'BAD_FRAME'
  /** The server answered with a reply the client cannot use (e.g. no `welcome` to `hello`). */
  | 'BAD_REPLY';

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
