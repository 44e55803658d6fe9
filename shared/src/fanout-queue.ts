/**
 * Handing a big topic's fan-out off to parallel invocations.
 *
 * A publish whose audience is over the inline limit stores the message (seq, history) as
 * usual, then sends one shard job per shard to the fan-out queue and is acknowledged
 * (`queued: true` with its seq). The broadcaster runs each job: it reads the topic's
 * subscribers (its SubscriberCache), keeps those whose connection id hashes to its shard,
 * and delivers the frame at its share of the account's @connections quota.
 *
 * Shards: ceil(quota share / shard rate), fewer when the audience is small (each shard is at
 * least a second of work at the shard rate). Each shard is paced at quota share / shards
 * with a matching part of the burst; on a 429 it halves its pace and climbs back (Pace in
 * fan-out.ts), so the shards of one fan-out, and several fan-outs at once, give way together
 * instead of starving each other or other APIs. Raising the quota (an AWS quota increase and
 * WSKIT_MANAGEMENT_QUOTA) raises the shard count and so the delivery rate, linearly.
 *
 * Only jobs that arrive from the configured queue (its ARN, WSKIT_FANOUT_QUEUE_ARN) are run:
 * a job carries a frame with a seq, which nobody else may forge.
 */
import { utf8Bytes } from '@wskit/protocol';
import type { FanOutSettings } from './config';
import { SqsSender, SQS_BATCH_BYTES } from './sqs';
import type { SigningCredentials } from './sender/signed-post';

export const FANOUT_JOB_KIND = 'wskit.fanout';

export interface FanOutJob {
  topic: string;
  seq: number;
  mid: string;
  shard: number;
  shards: number;
  /** The message frame, exactly as subscribers receive it. */
  frame: string;
  /** When the publish stored the message, epoch ms (for the delivery latency metric). */
  queuedAt: number;
  /**
   * A retry: only these connections (those of the shard whose delivery failed for a reason
   * that can pass), so the others are not sent the message twice.
   */
  only?: string[];
  /** 0 for the first run of a shard, then one more per retry (at most MAX_SHARD_ATTEMPTS - 1). */
  attempt?: number;
}

/** Runs of one shard's recipients: the first and two retries of those that failed. */
export const MAX_SHARD_ATTEMPTS = 3;
/** Seconds a retry job waits in the queue before it runs (SQS DelaySeconds), per attempt. */
export const SHARD_RETRY_DELAY_SECONDS = 2;
/** Connection ids per retry job (well under SQS's size limit beside the largest frame). */
const RETRY_IDS_PER_JOB = 5000;

export interface ShardPlan {
  shards: number;
  /** Per shard. */
  pace: { perSecond: number; burst: number };
}

type PlanSettings = Pick<FanOutSettings, 'shardRate' | 'quotaPerSecond' | 'quotaBurst' | 'quotaPercent'>;

/** The shards of an audience and each one's pace. */
export function planShards(audience: number, settings: PlanSettings): ShardPlan {
  const share = (settings.quotaPerSecond * settings.quotaPercent) / 100;
  const byQuota = Math.ceil(share / settings.shardRate);
  const byAudience = Math.ceil(audience / settings.shardRate);
  const shards = Math.max(1, Math.min(MAX_SHARDS, byQuota, byAudience));
  return { shards, pace: shardPace(shards, settings) };
}

/** One of `shards` shards' part of the quota share, and of the burst. */
export function shardPace(shards: number, settings: Omit<PlanSettings, 'shardRate'>): ShardPlan['pace'] {
  const part = settings.quotaPercent / 100 / shards;
  return { perSecond: settings.quotaPerSecond * part, burst: Math.max(1, Math.floor(settings.quotaBurst * part)) };
}

/** The most parallel invocations an SQS event source runs (its scaling limit). */
export const MAX_SHARDS = 1000;

/** FNV-1a over the id's UTF-16 units: stable across processes and cheap. */
export function shardOf(connectionId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < connectionId.length; i++) {
    hash ^= connectionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * The job as an SQS body. The frame is embedded as JSON, not as a string, so a frame full of
 * quotes is not escaped to twice its size (it is JSON.stringify output, so parsing and
 * stringifying it again gives the same text).
 */
export function encodeFanOutJob(job: FanOutJob): string {
  const { frame, ...rest } = job;
  const head = JSON.stringify({ kind: FANOUT_JOB_KIND, ...rest });
  return `${head.slice(0, -1)},"frame":${frame}}`;
}

export class FanOutJobError extends Error {
  override readonly name = 'FanOutJobError';
}

const isWhole = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

/** The job in an SQS body, or undefined when the body is not a job at all. Throws FanOutJobError for a malformed job. */
export function parseFanOutJob(body: unknown): FanOutJob | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  if (b.kind !== FANOUT_JOB_KIND) return undefined;
  if (typeof b.topic !== 'string' || !isWhole(b.seq, 1) || typeof b.mid !== 'string' || !isWhole(b.shards, 1) || b.shards > MAX_SHARDS || !isWhole(b.shard, 0) || b.shard >= b.shards) {
    throw new FanOutJobError('a fan-out job needs topic, seq >= 1, mid, shards from 1 and shard below shards');
  }
  if (b.frame === null || typeof b.frame !== 'object') throw new FanOutJobError('a fan-out job needs its message frame');
  const only = b.only;
  if (only !== undefined && (!Array.isArray(only) || only.length > RETRY_IDS_PER_JOB || !only.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 128))) {
    throw new FanOutJobError(`a retry job's "only" is a list of at most ${RETRY_IDS_PER_JOB} connection ids`);
  }
  if (b.attempt !== undefined && (!isWhole(b.attempt, 0) || b.attempt >= MAX_SHARD_ATTEMPTS)) throw new FanOutJobError(`a fan-out job's attempt is from 0 to ${MAX_SHARD_ATTEMPTS - 1}`);
  const job: FanOutJob = { topic: b.topic, seq: b.seq, mid: b.mid, shard: b.shard, shards: b.shards, frame: JSON.stringify(b.frame), queuedAt: isWhole(b.queuedAt, 0) ? b.queuedAt : Date.now() };
  if (only !== undefined) job.only = only as string[];
  if (b.attempt !== undefined) job.attempt = b.attempt as number;
  return job;
}

/** The retry jobs of a shard's failed recipients, or [] when the shard used its attempts. */
export function retryJobs(job: FanOutJob, failed: readonly string[]): FanOutJob[] {
  const attempt = (job.attempt ?? 0) + 1;
  if (failed.length === 0 || attempt >= MAX_SHARD_ATTEMPTS) return [];
  const jobs: FanOutJob[] = [];
  for (let i = 0; i < failed.length; i += RETRY_IDS_PER_JOB) jobs.push({ ...job, only: failed.slice(i, i + RETRY_IDS_PER_JOB), attempt });
  return jobs;
}

export interface FanOutQueueOptions {
  queueUrl: string;
  region: string;
  credentials: () => Promise<SigningCredentials>;
}

/** The fan-out queue, as the publishers see it: shard jobs go in. */
export class FanOutQueue {
  private readonly sender: SqsSender;

  constructor(options: FanOutQueueOptions) {
    this.sender = new SqsSender(options);
  }

  /** Sends the jobs (retries wait their delay first); rejects when any could not be queued. */
  async enqueue(jobs: readonly FanOutJob[]): Promise<void> {
    const messages = jobs.map((job) => ({ body: encodeFanOutJob(job), delaySeconds: job.attempt ? job.attempt * SHARD_RETRY_DELAY_SECONDS : 0 }));
    const tooLarge = messages.find((m) => utf8Bytes(m.body) > SQS_BATCH_BYTES);
    if (tooLarge) throw new Error(`a fan-out job of ${utf8Bytes(tooLarge.body)} bytes is over SQS's limit`);
    await this.sender.sendAll(messages);
  }
}
