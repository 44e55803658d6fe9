/**
 * A stand-in for the X-Ray daemon Lambda runs beside a traced function: a UDP socket on
 * loopback that takes segment documents (`{"format":"json","version":1}\n{...}`) and keeps
 * the latest ones, plus the function segments the gateway writes itself for each invocation,
 * as Lambda does with active tracing. Tests and the curious read them with `documents()`.
 */
import * as dgram from 'node:dgram';

export type SegmentDocument = Record<string, unknown>;

const HEADER = '{"format":"json","version":1}\n';
const KEEP = 5000;

export class LocalXrayDaemon {
  private readonly kept: SegmentDocument[] = [];

  private constructor(
    private readonly socket: dgram.Socket,
    readonly address: string,
  ) {}

  static async start(): Promise<LocalXrayDaemon> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const daemon = new LocalXrayDaemon(socket, `127.0.0.1:${socket.address().port}`);
    socket.on('message', (datagram) => daemon.receive(datagram.toString('utf8')));
    socket.on('error', () => undefined);
    return daemon;
  }

  /** A datagram as the daemon parses it: the header line, then one JSON document; anything else is dropped. */
  private receive(text: string): void {
    if (!text.startsWith(HEADER)) return;
    try {
      const document = JSON.parse(text.slice(HEADER.length)) as unknown;
      if (document && typeof document === 'object' && !Array.isArray(document)) this.record(document as SegmentDocument);
    } catch {
      // not JSON: dropped, as the daemon drops it
    }
  }

  record(document: SegmentDocument): void {
    this.kept.push(document);
    if (this.kept.length > KEEP) this.kept.splice(0, this.kept.length - KEEP);
  }

  /** The documents received so far, oldest first (at most the latest 5,000). */
  documents(): SegmentDocument[] {
    return [...this.kept];
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
