/**
 * Topic policy: deny by default. A signed-in user may subscribe to and publish on
 * `user:<own userId>`, on topics a public prefix of the environment covers, and on topics
 * their token's scopes grant: `subscribe:<prefix>`, `publish:<prefix>`, `topics:<prefix>`
 * (both). Every prefix ends at a boundary (`prefixCovers`).
 */
import { isValidTopic, prefixCovers, userTopic } from './topics';

export type TopicOperation = 'subscribe' | 'publish';

export interface TopicSession {
  userId: string;
  /** Space-separated scopes from the authorizer context ("" when none). */
  scope?: string | undefined;
}

export interface TopicPolicyOptions {
  publicPrefixes?: readonly string[];
}

/** The prefixes a scope string grants for an operation. */
export function scopeGrants(scope: string | undefined, operation: TopicOperation): string[] {
  if (!scope) return [];
  const prefixes: string[] = [];
  for (const entry of scope.split(' ')) {
    const colon = entry.indexOf(':');
    if (colon <= 0) continue;
    const kind = entry.slice(0, colon);
    const prefix = entry.slice(colon + 1);
    if (prefix.length === 0) continue;
    if (kind === 'topics' || kind === operation) prefixes.push(prefix);
  }
  return prefixes;
}

export function isTopicAllowed(
  topic: string,
  operation: TopicOperation,
  session: TopicSession,
  options: TopicPolicyOptions = {},
): boolean {
  if (!isValidTopic(topic) || !session.userId) return false;
  if (topic === userTopic(session.userId)) return true;
  if ((options.publicPrefixes ?? []).some((prefix) => prefixCovers(prefix, topic))) return true;
  return scopeGrants(session.scope, operation).some((prefix) => prefixCovers(prefix, topic));
}

/**
 * Why a public prefix is unsafe, or undefined: one that covers any `user:<sub>` topic
 * would open users' private topics to everyone signed in.
 */
export function publicPrefixProblem(prefix: string): string | undefined {
  if (prefix.length === 0) return 'an empty prefix covers nothing; leave it out';
  if (!isValidTopic(prefix)) return 'a prefix must follow the topic grammar';
  if (prefixCovers(prefix, userTopic('x')) || prefix.startsWith('user:')) {
    return `"${prefix}" would cover users' own user:<sub> topics`;
  }
  return undefined;
}
