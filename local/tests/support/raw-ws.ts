/** WebSocket frames written byte by byte: what a `ws` client would never send. */
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RawFrame {
  fin?: boolean;
  rsv?: number;
  opcode: number;
  payload?: Buffer;
  mask?: boolean;
  /** A length field that lies about the payload. */
  length?: bigint;
}

export function encodeFrame({ fin = true, rsv = 0, opcode, payload = Buffer.alloc(0), mask = true, length }: RawFrame): Buffer {
  const len = length ?? BigInt(payload.length);
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const maskBit = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(maskBit | Number(len));
  else if (len < 65536n) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

/** Opens a WebSocket by hand; resolves with the socket once the 101 arrived (or rejects with the status line). */
export function rawUpgrade(port: number, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer to the upgrade within 5 s'));
    }, 5000);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', function onData(chunk: Buffer) {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(new Error(head.split('\r\n')[0]));
        return;
      }
      resolve(socket);
    });
    socket.write(
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    );
  });
}

/** Reads server frames until the socket closes (or `timeoutMs`): the close code, if a close frame came. */
export function closeCodeOf(socket: net.Socket, timeoutMs = 5000): Promise<{ code: number | undefined; ended: boolean }> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    let code: number | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ code, ended: false });
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      // Server frames are unmasked: walk them, remember a close frame's code.
      let at = 0;
      while (data.length - at >= 2) {
        const opcode = data[at]! & 0x0f;
        let len = data[at + 1]! & 0x7f;
        let off = at + 2;
        if (len === 126) {
          if (data.length < off + 2) break;
          len = data.readUInt16BE(off);
          off += 2;
        } else if (len === 127) {
          if (data.length < off + 8) break;
          len = Number(data.readBigUInt64BE(off));
          off += 8;
        }
        if (data.length < off + len) break;
        if (opcode === 8 && len >= 2) code = data.readUInt16BE(off);
        at = off + len;
      }
      if (code !== undefined) {
        // A close frame is the answer; the socket's end may wait for a close frame back.
        clearTimeout(timer);
        socket.destroy();
        resolve({ code, ended: false });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ code, ended: true });
    });
  });
}

/** One raw HTTP request: resolves with the status (0 when none came) once the server answered or closed. */
export function rawHttp(port: number, bytes: Buffer | string, { timeoutMs = 3000, endAfterWrite = false } = {}): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 0);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      // One status line is all a fuzz request needs.
      if (/^HTTP\/1\.[01] \d{3}/.test(data) && data.includes('\r\n\r\n')) done();
    });
    socket.write(bytes, () => {
      if (endAfterWrite) socket.end();
    });
  });
}
