/**
 * Where the coalescer sends its updates: the broadcaster's SQS queue in AWS (messages
 * `{"topic", "data"}`, the broadcaster's SQS format), or the local gateway's POST /dev/publish,
 * which hands the same messages to the broadcaster as an SQS-shaped event.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface OutgoingMessage {
  topic: string;
  data: unknown;
}

export interface Publisher {
  /** One outcome per message, in order: true when it was accepted. */
  publish(messages: readonly OutgoingMessage[]): Promise<boolean[]>;
}

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** SendMessageBatch, 10 messages a call; a failed entry or call fails those messages only. */
export class SqsPublisher implements Publisher {
  constructor(
    private readonly queueUrl: string,
    private readonly client: () => Promise<SQSClient>,
  ) {}

  async publish(messages: readonly OutgoingMessage[]): Promise<boolean[]> {
    const sqs = await this.client();
    const results = await Promise.all(
      chunks(messages, 10).map(async (chunk) => {
        try {
          const out = await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: chunk.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify({ topic: m.topic, data: m.data }) })),
            }),
          );
          const failed = new Set((out.Failed ?? []).map((f) => f.Id));
          return chunk.map((_, i) => !failed.has(String(i)));
        } catch {
          return chunk.map(() => false);
        }
      }),
    );
    return results.flat();
  }
}

/** The local gateway's POST /dev/publish (10 messages a request, as an SQS batch). */
export class DevPublishPublisher implements Publisher {
  constructor(private readonly url: string) {}

  async publish(messages: readonly OutgoingMessage[]): Promise<boolean[]> {
    const results = await Promise.all(
      chunks(messages, 10).map(async (chunk) => {
        try {
          const response = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chunk) });
          const body = (await response.json()) as { results?: Array<{ status?: string }> };
          if (!response.ok || !Array.isArray(body.results)) return chunk.map(() => false);
          return chunk.map((_, i) => body.results![i]?.status === 'delivered');
        } catch {
          return chunk.map(() => false);
        }
      }),
    );
    return results.flat();
  }
}
