/**
 * Turns SQS messages and DynamoDB Streams records into broadcasts: (topic, data, mid, ts).
 * Anything wrong with a record is a RecordError with a message that says what to fix; the
 * handler reports that record as failed and goes on with the others.
 */
import { isValidTopic, TOPIC_GRAMMAR_TEXT } from '@wskit/protocol';
import { fromAttributeValue, fromImage, ImageError } from './attribute-value';
import type { StreamEventName, StreamMapping } from './config';

export class RecordError extends Error {
  override readonly name = 'RecordError';
}

export interface Broadcast {
  topic: string;
  data: unknown;
  /** Stable per record (SQS messageId / stream eventID), so a retried record carries the same mid. */
  mid: string;
  ts: number;
}

/** What a record turns into: a broadcast, or nothing to do (a filtered stream event). */
export type Parsed = { kind: 'broadcast'; broadcast: Broadcast } | { kind: 'skip'; reason: string };

export interface SqsRecordLike {
  messageId?: unknown;
  body?: unknown;
  attributes?: { SentTimestamp?: unknown };
  eventSource?: unknown;
}

export interface StreamRecordLike {
  eventID?: unknown;
  eventName?: unknown;
  eventSource?: unknown;
  dynamodb?: {
    SequenceNumber?: unknown;
    ApproximateCreationDateTime?: unknown;
    NewImage?: unknown;
    OldImage?: unknown;
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkTopic(topic: unknown, where: string): string {
  if (typeof topic !== 'string' || !isValidTopic(topic)) {
    const shown = typeof topic === 'string' ? `"${topic.slice(0, 140)}"` : typeof topic;
    throw new RecordError(`${where} gives topic ${shown}, which is not a topic: use ${TOPIC_GRAMMAR_TEXT}`);
  }
  return topic;
}

export function parseSqsRecord(record: SqsRecordLike): Broadcast {
  const mid = String(record.messageId);
  if (typeof record.body !== 'string') throw new RecordError('the SQS message has no body');
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new RecordError('the SQS message body is not JSON: send {"topic": "<topic>", "data": <any JSON>}');
  }
  if (!isObject(body)) throw new RecordError('the SQS message body is not a JSON object: send {"topic": "<topic>", "data": <any JSON>}');
  const topic = checkTopic(body.topic, 'the SQS message body');
  if (!('data' in body)) throw new RecordError('the SQS message body has no "data": send {"topic": "<topic>", "data": <any JSON>}');
  const sent = Number(record.attributes?.SentTimestamp);
  return { topic, data: body.data, mid, ts: Number.isFinite(sent) && sent > 0 ? sent : Date.now() };
}

function renderTemplate(template: string, image: Record<string, unknown>): string {
  return template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    const value = image[name];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    throw new RecordError(
      value === undefined
        ? `the stream image has no attribute "${name}" that the topic template needs`
        : `the attribute "${name}" the topic template needs is not a string or number`,
    );
  });
}

export function parseStreamRecord(record: StreamRecordLike, mapping: StreamMapping): Parsed {
  const eventName = record.eventName as StreamEventName;
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') {
    throw new RecordError(`the stream record has eventName ${JSON.stringify(record.eventName)}; expected INSERT, MODIFY or REMOVE`);
  }
  if (!mapping.eventNames.has(eventName)) return { kind: 'skip', reason: `${eventName} events are not broadcast` };
  const stream = record.dynamodb;
  if (!isObject(stream)) throw new RecordError('the stream record has no "dynamodb" section');
  const rawImage = eventName === 'REMOVE' ? stream.OldImage : stream.NewImage;
  if (!isObject(rawImage)) {
    throw new RecordError(
      `the ${eventName} record carries no ${eventName === 'REMOVE' ? 'OldImage' : 'NewImage'}: set the table's StreamViewType to NEW_AND_OLD_IMAGES (or NEW_IMAGE when REMOVE is not broadcast)`,
    );
  }
  let image: Record<string, unknown>;
  try {
    image = fromImage(rawImage);
  } catch (error) {
    if (error instanceof ImageError) throw new RecordError(`the stream image is malformed: ${error.message}`);
    throw error;
  }
  const topic = mapping.topicTemplate
    ? checkTopic(renderTemplate(mapping.topicTemplate, image), `the topic template ${mapping.topicTemplate}`)
    : checkTopic(image[mapping.topicAttribute], `the attribute "${mapping.topicAttribute}"`);
  let data: unknown;
  if (mapping.dataAttribute) {
    if (!(mapping.dataAttribute in image)) throw new RecordError(`the stream image has no data attribute "${mapping.dataAttribute}"`);
    data = image[mapping.dataAttribute];
  }
  const created = Number(stream.ApproximateCreationDateTime);
  const mid = typeof record.eventID === 'string' ? record.eventID : String(stream.SequenceNumber);
  return {
    kind: 'broadcast',
    // ApproximateCreationDateTime is epoch seconds.
    broadcast: { topic, data: mapping.dataAttribute ? data : { event: eventName, item: image }, mid, ts: Number.isFinite(created) && created > 0 ? created * 1000 : Date.now() },
  };
}

export { fromAttributeValue };
