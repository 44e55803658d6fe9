/**
 * Sending to an SQS queue (SendMessageBatch, the JSON protocol) as one SigV4-signed request,
 * without the SDK's SQS client: the message handler only ever sends, and the client would
 * add tens of kilobytes to its bundle. Batches of up to 10 messages; entries SQS refuses are
 * sent again (a few times), then reported.
 */
import { httpModules } from './aws';
import { errorFromResponse, PostSigner, type SigningCredentials } from './sender/signed-post';
import { traced } from './tracing';

interface Entry {
  Id: string;
  MessageBody: string;
  DelaySeconds?: number;
}

export interface SqsSenderOptions {
  queueUrl: string;
  region: string;
  credentials: () => Promise<SigningCredentials>;
  requestTimeoutMs?: number;
}

/** SQS takes at most 10 entries per SendMessageBatch, and 256 KiB in all (the smallest maximum a queue may have). */
const BATCH = 10;
export const SQS_BATCH_BYTES = 256 * 1024;
const ATTEMPTS = 3;

export class SqsSender {
  private readonly url: URL;
  private readonly signer = new PostSigner('sqs');

  constructor(private readonly options: SqsSenderOptions) {
    this.url = new URL(options.queueUrl);
  }

  /**
   * Sends every body, in batches of at most 10 entries and 256 KiB; rejects when some could
   * not be sent (SQS said the message itself is wrong, or it still failed after retries).
   */
  async sendAll(messages: ReadonlyArray<string | { body: string; delaySeconds?: number }>): Promise<void> {
    const batches: Entry[][] = [];
    let batch: Entry[] = [];
    let bytes = 0;
    messages.forEach((message, index) => {
      const { body, delaySeconds } = typeof message === 'string' ? { body: message, delaySeconds: 0 } : message;
      const size = Buffer.byteLength(body);
      if (size > SQS_BATCH_BYTES) throw new Error(`a message of ${size} bytes is over SQS's ${SQS_BATCH_BYTES}-byte limit`);
      if (batch.length === BATCH || bytes + size > SQS_BATCH_BYTES) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(delaySeconds ? { Id: String(index), MessageBody: body, DelaySeconds: Math.min(900, Math.max(0, Math.floor(delaySeconds))) } : { Id: String(index), MessageBody: body });
      bytes += size;
    });
    if (batch.length > 0) batches.push(batch);
    await Promise.all(batches.map((entries) => this.sendWithRetries(entries)));
  }

  private async sendWithRetries(entries: Entry[]): Promise<void> {
    for (let attempt = 1; entries.length > 0; attempt++) {
      const failed = await traced(
        { name: 'SQS', aws: { operation: 'SendMessageBatch', queue_url: this.options.queueUrl } },
        () => this.sendBatch(entries),
        (refused) => ({ metadata: { entries: entries.length, refused: refused.length } }),
      );
      if (failed.length === 0) return;
      const senderFault = failed.find((f) => f.SenderFault);
      if (senderFault) throw new Error(`SQS refused a message: ${senderFault.Code ?? 'unknown'} ${senderFault.Message ?? ''}`.trim());
      if (attempt >= ATTEMPTS) throw new Error(`SQS could not take ${failed.length} messages after ${attempt} attempts: ${failed[0]?.Code ?? 'unknown'}`);
      entries = entries.filter((entry) => failed.some((f) => f.Id === entry.Id));
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }

  private async sendBatch(entries: Entry[]): Promise<Array<{ Id?: string; Code?: string; Message?: string; SenderFault?: boolean }>> {
    const body = Buffer.from(JSON.stringify({ QueueUrl: this.options.queueUrl, Entries: entries }));
    const credentials = await this.options.credentials();
    const headers = this.signer.sign({
      host: this.url.host,
      path: '/',
      body,
      region: this.options.region,
      credentials,
      date: new Date(),
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessageBatch' },
    });
    headers['content-length'] = String(body.byteLength);
    const [http, https] = await httpModules();
    const request = this.url.protocol === 'https:' ? https.request : http.request;
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        { protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port || undefined, method: 'POST', path: '/', headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () => {
            const answer = Buffer.concat(chunks).toString('utf8');
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(answer);
            else reject(errorFromResponse(status, response.headers['x-amzn-errortype'] ?? response.headers['x-amzn-query-error'], answer));
          });
          response.once('error', reject);
        },
      );
      req.setTimeout(this.options.requestTimeoutMs ?? 5000, () => req.destroy(new Error('no answer from SQS in time')));
      req.once('error', reject);
      req.end(body);
    });
    const parsed = JSON.parse(text || '{}') as { Failed?: Array<{ Id?: string; Code?: string; Message?: string; SenderFault?: boolean }> };
    return parsed.Failed ?? [];
  }
}
