/**
 * Configuration from the environment, read at first use (never at import), so a missing
 * variable fails the invocation that needs it with a message naming the variable.
 */
import { ACTIONS, type Action } from '@wskit/protocol';
import { ConfigError } from './errors';

// Callers of these helpers catch what they throw; importing it from here keeps them off
// the package root (and the AWS SDK loaders behind it).
export { ConfigError };

type Env = NodeJS.ProcessEnv;

export function requireEnv(name: string, whatToSet: string, env: Env = process.env): string {
  const value = env[name]?.trim();
  if (!value) {
    throw new ConfigError(name, `${name} is not set: set it to ${whatToSet}`);
  }
  return value;
}

export function tableNameFromEnv(env: Env = process.env): string {
  return requireEnv(
    'WSKIT_TABLE_NAME',
    'the name of the wskit connections table (the connections-table module output `name`)',
    env,
  );
}

/** A whole number from `min` to `max`, the fallback when unset; anything else names the variable. */
export function integerFromEnv(env: Env, name: string, fallback: number, min: number, max: number, what: string): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `${name} is "${raw}": set it to ${what}, a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return value;
}

function nonNegativeInteger(name: string, raw: string | undefined, fallback: number, what: string): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(name, `${name} is "${raw}", not a whole number >= 0: set it to ${what}`);
  }
  return value;
}

export const DEFAULT_MAX_CONNECTIONS_PER_USER = 10;

/** WSKIT_MAX_CONNECTIONS_PER_USER: default 10, 0 means no cap. */
export function maxConnectionsPerUserFromEnv(env: Env = process.env): number {
  return nonNegativeInteger(
    'WSKIT_MAX_CONNECTIONS_PER_USER',
    env.WSKIT_MAX_CONNECTIONS_PER_USER,
    DEFAULT_MAX_CONNECTIONS_PER_USER,
    'the most open connections one user may hold (0 = no cap)',
  );
}

export const DEFAULT_MAX_TOPICS_PER_CONNECTION = 100;

/** WSKIT_MAX_TOPICS_PER_CONNECTION: default 100; bounds the connection item and its cleanup. */
export function maxTopicsPerConnectionFromEnv(env: Env = process.env): number {
  const value = nonNegativeInteger(
    'WSKIT_MAX_TOPICS_PER_CONNECTION',
    env.WSKIT_MAX_TOPICS_PER_CONNECTION,
    DEFAULT_MAX_TOPICS_PER_CONNECTION,
    'the most topics one connection may subscribe to (1-1000)',
  );
  if (value < 1 || value > 1000) {
    throw new ConfigError(
      'WSKIT_MAX_TOPICS_PER_CONNECTION',
      `WSKIT_MAX_TOPICS_PER_CONNECTION is ${value}: set it to a number from 1 to 1000`,
    );
  }
  return value;
}

/** WSKIT_PUBLIC_TOPIC_PREFIXES: comma-separated prefixes anyone signed in may use; default none. */
export function publicTopicPrefixesFromEnv(env: Env = process.env): string[] {
  const raw = env.WSKIT_PUBLIC_TOPIC_PREFIXES;
  if (!raw) return [];
  return raw
    .split(',')
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix.length > 0);
}

/**
 * WSKIT_METRICS_NAMESPACE: the CloudWatch namespace of the fan-out metrics (EMF); default
 * `wskit`. The Terraform composition sets `wskit/<name>`, where its alarms look.
 */
export function metricsNamespaceFromEnv(env: Env = process.env): string {
  const namespace = env.WSKIT_METRICS_NAMESPACE?.trim() || 'wskit';
  if (namespace.length > 255 || /^AWS\//i.test(namespace) || !/^[A-Za-z0-9 .\-_/#:]+$/.test(namespace)) {
    throw new ConfigError(
      'WSKIT_METRICS_NAMESPACE',
      `WSKIT_METRICS_NAMESPACE is "${namespace}": set it to a CloudWatch namespace (letters, digits, spaces and . - _ / # :, not starting with AWS/)`,
    );
  }
  return namespace;
}

export type SenderTransport = 'signed-http' | 'sdk';

/** WSKIT_SENDER_TRANSPORT: how MessageSender sends PostToConnection; default `signed-http`. */
export function senderTransportFromEnv(env: Env = process.env): SenderTransport {
  const raw = env.WSKIT_SENDER_TRANSPORT?.trim();
  if (!raw) return 'signed-http';
  if (raw === 'signed-http' || raw === 'sdk') return raw;
  throw new ConfigError(
    'WSKIT_SENDER_TRANSPORT',
    `WSKIT_SENDER_TRANSPORT is "${raw}": set it to signed-http (the default) or sdk (the AWS SDK client)`,
  );
}

/** The AWS Region: AWS_REGION (set by Lambda), else AWS_DEFAULT_REGION. */
export function regionFromEnv(env: Env = process.env): string {
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  if (!region) {
    throw new ConfigError('AWS_REGION', 'AWS_REGION is not set: set it to the Region of the API (Lambda sets it)');
  }
  return region;
}

/**
 * DNS suffix of a Region's partition, as AWS publishes the partitions (the AWS SDK's
 * partitions.json: `regionRegex` and `outputs.dnsSuffix` of each partition). Execute-api
 * hosts are `<apiId>.execute-api.<region>.<dnsSuffix>`; Terraform builds the same URL
 * from `data "aws_partition"`'s `dns_suffix`.
 */
const PARTITION_DNS_SUFFIXES: readonly (readonly [RegExp, string])[] = [
  [/^cn-\w+-\d+$/, 'amazonaws.com.cn'], // aws-cn
  [/^us-gov-\w+-\d+$/, 'amazonaws.com'], // aws-us-gov
  [/^us-iso-\w+-\d+$/, 'c2s.ic.gov'], // aws-iso
  [/^us-isob-\w+-\d+$/, 'sc2s.sgov.gov'], // aws-iso-b
  [/^eu-isoe-\w+-\d+$/, 'cloud.adc-e.uk'], // aws-iso-e
  [/^us-isof-\w+-\d+$/, 'csp.hci.ic.gov'], // aws-iso-f
  [/^eusc-de-\w+-\d+$/, 'amazonaws.eu'], // aws-eusc
];

/** The DNS suffix of the partition `region` belongs to; `amazonaws.com` (aws) for any other Region. */
export function partitionDnsSuffix(region: string): string {
  for (const [pattern, suffix] of PARTITION_DNS_SUFFIXES) {
    if (pattern.test(region)) return suffix;
  }
  return 'amazonaws.com';
}

export interface CallbackTarget {
  apiId?: string | undefined;
  stage?: string | undefined;
  region?: string | undefined;
}

/**
 * The management API base URL (`https://<apiId>.execute-api.<region>.<dnsSuffix>/<stage>`, the
 * partition's DNS suffix: `amazonaws.com`, `amazonaws.com.cn` in China, ...).
 * WSKIT_CALLBACK_URL overrides it (the local gateway, tests). Built from apiId/region/stage,
 * never from the event's domainName: a custom domain has no `@connections` route.
 */
export function callbackUrl(target: CallbackTarget, env: Env = process.env): string {
  const override = env.WSKIT_CALLBACK_URL?.trim();
  if (override) {
    let parsed: URL;
    try {
      parsed = new URL(override);
    } catch {
      throw new ConfigError(
        'WSKIT_CALLBACK_URL',
        `WSKIT_CALLBACK_URL is "${override}", not a URL: set it to the management API base, e.g. http://127.0.0.1:8080/local`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError('WSKIT_CALLBACK_URL', `WSKIT_CALLBACK_URL must be an http(s) URL, got "${override}"`);
    }
    return override.replace(/\/+$/, '');
  }
  const apiId = target.apiId ?? env.WSKIT_API_ID?.trim();
  const stage = target.stage ?? env.WSKIT_STAGE?.trim();
  if (!apiId) {
    throw new ConfigError(
      'WSKIT_API_ID',
      'no API id for the callback URL: the event has no requestContext.apiId; set WSKIT_API_ID (or WSKIT_CALLBACK_URL)',
    );
  }
  if (!stage) {
    throw new ConfigError(
      'WSKIT_STAGE',
      'no stage for the callback URL: the event has no requestContext.stage; set WSKIT_STAGE (or WSKIT_CALLBACK_URL)',
    );
  }
  const region = target.region ?? regionFromEnv(env);
  return `https://${apiId}.execute-api.${region}.${partitionDnsSuffix(region)}/${stage}`;
}

/** WSKIT_JWT_CLOCK_TOLERANCE_SECONDS: clock skew allowed on a token's times, for the authorizer and for fan-out. */
export function clockToleranceSecondsFromEnv(env: Env = process.env): number {
  return integerFromEnv(env, 'WSKIT_JWT_CLOCK_TOLERANCE_SECONDS', 5, 0, 300, 'the seconds of clock skew allowed on exp/nbf/iat');
}

export interface RateLimits {
  /** Frames one connection may send per window (0 = no limit). */
  framesPerConnection: number;
  /** Publishes one user may make per window, over all their connections and HTTP (0 = no limit). */
  publishesPerUser: number;
  windowSeconds: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { framesPerConnection: 120, publishesPerUser: 100, windowSeconds: 10 };

/**
 * WSKIT_FRAME_RATE_LIMIT, WSKIT_PUBLISH_RATE_LIMIT, WSKIT_RATE_LIMIT_WINDOW_SECONDS. The frame
 * default lets a client subscribe to the 100-topic maximum at once and still send a few more.
 */
export function rateLimitsFromEnv(env: Env = process.env): RateLimits {
  return {
    framesPerConnection: integerFromEnv(env, 'WSKIT_FRAME_RATE_LIMIT', DEFAULT_RATE_LIMITS.framesPerConnection, 0, 1_000_000, 'the frames one connection may send per window (0 = no limit)'),
    publishesPerUser: integerFromEnv(env, 'WSKIT_PUBLISH_RATE_LIMIT', DEFAULT_RATE_LIMITS.publishesPerUser, 0, 1_000_000, 'the publishes one user may make per window (0 = no limit)'),
    windowSeconds: integerFromEnv(env, 'WSKIT_RATE_LIMIT_WINDOW_SECONDS', DEFAULT_RATE_LIMITS.windowSeconds, 1, 3600, 'the length of a rate-limit window in seconds'),
  };
}

const ROUTE_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
/** What an application route may stand for: the actions that carry a topic. */
const ALIASABLE: readonly Action[] = ['publish', 'subscribe', 'unsubscribe', 'history'];

/**
 * WSKIT_ACTION_ALIASES: comma-separated `route=action` (e.g. `chat_message=publish`), the
 * application routes Terraform adds in front of the message router. A frame whose action is
 * such a route is handled as that protocol action.
 */
export function actionAliasesFromEnv(env: Env = process.env): ReadonlyMap<string, Action> {
  const raw = env.WSKIT_ACTION_ALIASES?.trim();
  const aliases = new Map<string, Action>();
  if (!raw) return aliases;
  for (const entry of raw.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [route = '', action = '', ...rest] = entry.split('=').map((part) => part.trim());
    if (rest.length > 0 || !ROUTE_KEY.test(route) || (ACTIONS as readonly string[]).includes(route) || !(ALIASABLE as readonly string[]).includes(action)) {
      throw new ConfigError(
        'WSKIT_ACTION_ALIASES',
        `WSKIT_ACTION_ALIASES has "${entry}": write route=action, where route is a new route key (letters, digits, _ . -) and action one of ${ALIASABLE.join(', ')}`,
      );
    }
    aliases.set(route, action as Action);
  }
  return aliases;
}

export interface HistorySettings {
  /** How long a message stays retrievable, seconds (0 = no history kept; seq is still assigned). */
  retentionSeconds: number;
  /** How many of a topic's latest messages stay retrievable. */
  maxMessages: number;
}

export const DEFAULT_HISTORY: HistorySettings = { retentionSeconds: 600, maxMessages: 1000 };

/** WSKIT_HISTORY_RETENTION_SECONDS (default 600), WSKIT_HISTORY_MAX_MESSAGES (default 1000). */
export function historySettingsFromEnv(env: Env = process.env): HistorySettings {
  return {
    retentionSeconds: integerFromEnv(env, 'WSKIT_HISTORY_RETENTION_SECONDS', DEFAULT_HISTORY.retentionSeconds, 0, 7 * 86_400, 'how long published messages stay retrievable for resume, in seconds (0 = keep none)'),
    maxMessages: integerFromEnv(env, 'WSKIT_HISTORY_MAX_MESSAGES', DEFAULT_HISTORY.maxMessages, 1, 100_000, 'how many of a topic\'s latest messages stay retrievable'),
  };
}

/** WSKIT_SLOT_SETTLE_SECONDS: a connection younger than this keeps its per-user slot (its $connect may still run). */
export function slotSettleSecondsFromEnv(env: Env = process.env): number {
  return integerFromEnv(env, 'WSKIT_SLOT_SETTLE_SECONDS', 30, 1, 900, 'the seconds a new connection is never reclaimed from its user slot');
}

/** How a big topic's fan-out is handed off and paced (see fanout-queue.ts). */
export interface FanOutSettings {
  /** WSKIT_FANOUT_QUEUE_URL: the queue shard jobs go to; unset = every fan-out runs inline. */
  queueUrl?: string;
  /** WSKIT_FANOUT_QUEUE_ARN: the only queue whose shard jobs the broadcaster runs. */
  queueArn?: string;
  /** WSKIT_INLINE_FANOUT_LIMIT: audiences up to this are delivered inline by the publisher. */
  inlineLimit: number;
  /**
   * WSKIT_FANOUT_SHARD_RATE: the deliveries per second one shard job is planned at (one
   * invocation sustains several thousand at 30 ms callback latency, bench/fanout). A
   * handed-off fan-out gets ceil(quota share / this) shards, fewer for a smaller audience
   * (each at least a second of work).
   */
  shardRate: number;
  /** WSKIT_MANAGEMENT_QUOTA / WSKIT_MANAGEMENT_BURST: the account's @connections rate and burst. */
  quotaPerSecond: number;
  quotaBurst: number;
  /** WSKIT_FANOUT_QUOTA_PERCENT: the part of the quota one handed-off fan-out's shards share. */
  quotaPercent: number;
}

export const DEFAULT_FANOUT = { inlineLimit: 2000, shardRate: 2000, quotaPerSecond: 10_000, quotaBurst: 5000, quotaPercent: 90 } as const;

export function fanOutSettingsFromEnv(env: Env = process.env): FanOutSettings {
  const queueUrl = env.WSKIT_FANOUT_QUEUE_URL?.trim() || undefined;
  if (queueUrl && !/^https?:\/\/[^\s/]+\/\S+$/.test(queueUrl)) {
    throw new ConfigError('WSKIT_FANOUT_QUEUE_URL', `WSKIT_FANOUT_QUEUE_URL is "${queueUrl}": set it to the fan-out queue's URL (https://sqs.<region>.amazonaws.com/<account>/<name>) or leave it unset`);
  }
  const queueArn = env.WSKIT_FANOUT_QUEUE_ARN?.trim() || undefined;
  if (queueArn && !/^arn:[\w-]+:sqs:[\w-]+:\d{12}:[\w-]+(\.fifo)?$/.test(queueArn)) {
    throw new ConfigError('WSKIT_FANOUT_QUEUE_ARN', `WSKIT_FANOUT_QUEUE_ARN is "${queueArn}": set it to the fan-out queue's ARN (arn:aws:sqs:<region>:<account>:<name>) or leave it unset`);
  }
  return {
    queueUrl,
    queueArn,
    inlineLimit: integerFromEnv(env, 'WSKIT_INLINE_FANOUT_LIMIT', DEFAULT_FANOUT.inlineLimit, 1, 1_000_000, 'the largest audience a publish delivers itself before handing the fan-out to the queue'),
    shardRate: integerFromEnv(env, 'WSKIT_FANOUT_SHARD_RATE', DEFAULT_FANOUT.shardRate, 100, 100_000, 'the deliveries per second one shard job of a handed-off fan-out is planned at'),
    quotaPerSecond: integerFromEnv(env, 'WSKIT_MANAGEMENT_QUOTA', DEFAULT_FANOUT.quotaPerSecond, 1, 10_000_000, "the account's @connections requests per second in this Region (10,000 unless AWS raised it)"),
    quotaBurst: integerFromEnv(env, 'WSKIT_MANAGEMENT_BURST', DEFAULT_FANOUT.quotaBurst, 1, 10_000_000, "the account's @connections burst (5,000 unless AWS raised it)"),
    quotaPercent: integerFromEnv(env, 'WSKIT_FANOUT_QUOTA_PERCENT', DEFAULT_FANOUT.quotaPercent, 1, 100, 'the percentage of the quota one handed-off fan-out may use (the rest stays for other APIs and fan-outs)'),
  };
}
