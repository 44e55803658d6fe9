import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _payloadLength: number;
  _opcode: number;
  haveLength(cb: (err?: Error) => void): void;
  createError(ctor: ErrorConstructor, message: string, prefix: boolean, statusCode: number, code: string): Error;
}

/**
 * API Gateway limits a single frame to 32 KB and a whole (possibly fragmented) message to
 * 128 KB. `ws` only knows one limit (`maxPayload`, used here for the message), so this
 * adds the per-frame check to the socket's frame parser: a data frame whose length field
 * exceeds `maxFrameBytes` fails the connection with 1009 exactly as an oversize message does.
 * It relies on `ws` 8 internals; the gateway's tests fail loudly if they change.
 */
export function enforceFrameLimit(ws: WebSocket, maxFrameBytes: number): void {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (!receiver || typeof receiver.haveLength !== 'function' || typeof receiver.createError !== 'function') {
    throw new Error('ws internals changed: cannot enforce the frame size limit (pin ws to 8.x)');
  }
  const haveLength = receiver.haveLength;
  receiver.haveLength = function (this: ReceiverInternals, cb: (err?: Error) => void) {
    if (this._opcode < 0x08 && this._payloadLength > maxFrameBytes) {
      cb(this.createError(RangeError, 'Frame size exceeds the limit', false, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
      return;
    }
    haveLength.call(this, cb);
  };
}
