/**
 * Topic policy: deny by default. A signed-in user may subscribe to and publish
 * on `user:<own userId>`, on any topic starting with a public prefix of the environment, and
 * on topics their token's scopes grant: `subscribe:<prefix>`, `publish:<prefix>`,
 * `topics:<prefix>` (both), each a prefix match. An empty prefix grants nothing.
 */
import { isValidTopic } from './protocol';

export type TopicOperation = 'subscribe' | 'publish';

export interface TopicSession {
  userId: string;
  /** Space-separated scopes from the authorizer context ("" when none). */
  scope?: string | undefined;
}

export interface TopicPolicyOptions {
  publicPrefixes?: readonly string[];
}

export function scopeGrants(scope: string | undefined, operation: TopicOperation): string[] {
  if (!scope) return [];
  const prefixes: string[] = [];
  for (const entry of scope.split(/\s+/)) {
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
  if (topic === `user:${session.userId}`) return true;
  if ((options.publicPrefixes ?? []).some((prefix) => prefix.length > 0 && topic.startsWith(prefix))) return true;
  return scopeGrants(session.scope, operation).some((prefix) => topic.startsWith(prefix));
}
