/**
 * The coalescer Lambda: reads the metrics table's stream and publishes one METRICS_UPDATE per
 * service per batch through the broadcaster's queue. Reports partial batch failures: when an
 * update could not be sent, its records are reported, and Lambda retries the batch from the
 * lowest of them (updates of the other services in the retried part are sent again, each a
 * complete update; the page keys points by time, so a repeat changes nothing it shows).
 *
 * Environment: OPS_PUBLISH_QUEUE_URL (the broadcaster's source queue), or, on the local
 * stack, OPS_DEV_PUBLISH_URL (the gateway's /dev/publish).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { coalesce, type StreamRecord } from './coalesce';
import { DevPublishPublisher, SqsPublisher, type Publisher } from './publishers';

export interface StreamEvent {
  Records?: StreamRecord[];
}

export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export function createHandler(publisher: Publisher, log: (line: string) => void = (line) => console.log(line)) {
  return async (event: StreamEvent): Promise<BatchResponse> => {
    const records = Array.isArray(event?.Records) ? event.Records : [];
    const { updates, skipped } = coalesce(records);
    for (const { sequenceNumber, reason } of skipped) {
      log(JSON.stringify({ level: 'WARN', message: 'record skipped', sequenceNumber, reason }));
    }
    const outcomes = updates.length > 0 ? await publisher.publish(updates.map(({ topic, data }) => ({ topic, data }))) : [];
    const failed = updates.filter((_, i) => outcomes[i] !== true);
    log(
      JSON.stringify({
        level: failed.length > 0 ? 'WARN' : 'INFO',
        message: 'batch coalesced',
        records: records.length,
        updates: updates.length,
        failedUpdates: failed.length,
        skipped: skipped.length,
      }),
    );
    return { batchItemFailures: failed.flatMap((u) => u.sequenceNumbers).map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

let sqsClient: SQSClient | undefined;
let configured: ReturnType<typeof createHandler> | undefined;

function fromEnvironment(): ReturnType<typeof createHandler> {
  const queueUrl = process.env.OPS_PUBLISH_QUEUE_URL;
  const devUrl = process.env.OPS_DEV_PUBLISH_URL;
  if (queueUrl) {
    return createHandler(
      // One client per execution environment, created at first use.
      new SqsPublisher(queueUrl, async () => (sqsClient ??= new SQSClient({}))),
    );
  }
  if (devUrl) return createHandler(new DevPublishPublisher(devUrl));
  throw new Error('OPS_PUBLISH_QUEUE_URL is not set: set it to the broadcaster source queue URL (the Terraform root does), or OPS_DEV_PUBLISH_URL to a local gateway\'s /dev/publish');
}

/** The Lambda entry point (handler string `index.handler`). */
export const handler = (event: StreamEvent): Promise<BatchResponse> => (configured ??= fromEnvironment())(event);
