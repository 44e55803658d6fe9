/**
 * The broadcaster's settings, from the environment at first use (never at import).
 * A malformed value throws ConfigError naming the variable and what to set.
 */
import { ConfigError, fanOutSettingsFromEnv, metricsNamespaceFromEnv, tableNameFromEnv, type FanOutSettings } from '@wskit/shared';

type Env = Record<string, string | undefined>;

export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';
const EVENT_NAMES: readonly StreamEventName[] = ['INSERT', 'MODIFY', 'REMOVE'];

export interface StreamMapping {
  /** Attribute holding the topic (used when there is no template). Default `topic`. */
  topicAttribute: string;
  /** A template such as `${entity_type}:${entity_id}`; wins over topicAttribute. */
  topicTemplate?: string;
  /** Attribute holding the data to push; unset = the whole image. */
  dataAttribute?: string;
  /** Which stream events are broadcast. Default INSERT, MODIFY. */
  eventNames: ReadonlySet<StreamEventName>;
}

export interface BroadcasterSettings {
  tableName: string;
  mapping: StreamMapping;
  /** Callback requests in flight per fan-out (the AIMD ceiling). */
  concurrency: number;
  /** Topics fanned out at the same time within one batch. */
  topicConcurrency: number;
  metricsNamespace: string;
  /** Handing off big fan-outs, and running the shard jobs of WSKIT_FANOUT_QUEUE_ARN. */
  fanOut: FanOutSettings;
}

const TEMPLATE_FIELD = /\$\{([^}]*)\}/g;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.:-]{1,255}$/;

function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `${name} is "${raw}": set it to a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return n;
}

function attributeName(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!ATTRIBUTE_NAME.test(raw)) throw new ConfigError(name, `${name} is "${raw}": set it to a top-level attribute name`);
  return raw;
}

export function parseTemplate(template: string, variable = 'WSKIT_STREAM_TOPIC_TEMPLATE'): string[] {
  const fields = [...template.matchAll(TEMPLATE_FIELD)].map((m) => m[1]!);
  if (fields.length === 0) {
    throw new ConfigError(variable, `${variable} is "${template}": it names no attribute; write e.g. \${entity_type}:\${entity_id}`);
  }
  for (const field of fields) {
    if (!ATTRIBUTE_NAME.test(field)) throw new ConfigError(variable, `${variable}: "\${${field}}" is not an attribute name`);
  }
  return fields;
}

export function streamMappingFromEnv(env: Env = process.env): StreamMapping {
  const topicTemplate = env.WSKIT_STREAM_TOPIC_TEMPLATE?.trim() || undefined;
  if (topicTemplate) parseTemplate(topicTemplate);
  const rawEvents = env.WSKIT_STREAM_EVENT_NAMES?.trim();
  const names = rawEvents ? rawEvents.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean) : ['INSERT', 'MODIFY'];
  for (const name of names) {
    if (!EVENT_NAMES.includes(name as StreamEventName)) {
      throw new ConfigError('WSKIT_STREAM_EVENT_NAMES', `WSKIT_STREAM_EVENT_NAMES has "${name}": use a comma-separated list of INSERT, MODIFY, REMOVE`);
    }
  }
  return {
    topicAttribute: attributeName(env, 'WSKIT_STREAM_TOPIC_ATTRIBUTE') ?? 'topic',
    topicTemplate,
    dataAttribute: attributeName(env, 'WSKIT_STREAM_DATA_ATTRIBUTE'),
    eventNames: new Set(names as StreamEventName[]),
  };
}

export function settingsFromEnv(env: Env = process.env): BroadcasterSettings {
  return {
    tableName: tableNameFromEnv(env),
    mapping: streamMappingFromEnv(env),
    concurrency: wholeNumber(env, 'WSKIT_FANOUT_CONCURRENCY', 64, 1, 1024),
    topicConcurrency: wholeNumber(env, 'WSKIT_TOPIC_CONCURRENCY', 4, 1, 64),
    metricsNamespace: metricsNamespaceFromEnv(env),
    fanOut: fanOutSettingsFromEnv(env),
  };
}
