/**
 * The one topic grammar, and the identity grammar it is built around.
 *
 * A topic is 1-256 characters, each a visible ASCII character (U+0021-U+007E) or a
 * non-ASCII letter, mark, number, punctuation or symbol. Refused: whitespace and every
 * other separator, control and format characters, surrogates, private-use and unassigned
 * code points. That is wide enough for the subjects real identity providers issue
 * (`auth0|5f7c...`, `google-oauth2|1043...`, `alice+ws@example.com`, UUIDs, Okta and
 * Azure AD ids), so `user:<sub>` is a topic for every subject the authorizer admits:
 * a subject is the same alphabet, at most 256 - 5 characters.
 *
 * The patterns are written so that JavaScript (with the `u` flag) and RE2 (Terraform's
 * `regex()`, Go) read them alike; `protocol.json` carries them to Terraform.
 */

const TOPIC_ALPHABET = '\\x21-\\x7E\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}';

export const MAX_TOPIC_LENGTH = 256;
export const USER_TOPIC_PREFIX = 'user:';
export const MAX_SUBJECT_LENGTH = MAX_TOPIC_LENGTH - USER_TOPIC_PREFIX.length;

/** Pattern sources (no flags; compile with `u` in JavaScript). */
export const TOPIC_PATTERN_SOURCE = `^[${TOPIC_ALPHABET}]{1,${MAX_TOPIC_LENGTH}}$`;
export const SUBJECT_PATTERN_SOURCE = `^[${TOPIC_ALPHABET}]{1,${MAX_SUBJECT_LENGTH}}$`;

export const TOPIC_PATTERN = new RegExp(TOPIC_PATTERN_SOURCE, 'u');
export const SUBJECT_PATTERN = new RegExp(SUBJECT_PATTERN_SOURCE, 'u');

/** Where a prefix grant may end: a grant covers the prefix and what follows one of these. */
export const TOPIC_SEPARATORS = [':', '.', '/'] as const;

/** How the grammar reads, for error messages. */
export const TOPIC_GRAMMAR_TEXT =
  `1-${MAX_TOPIC_LENGTH} characters: letters, digits, punctuation and symbols (e.g. user:auth0|abc, team.a/room-1), ` +
  'no spaces, control or format characters';

export function isValidTopic(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_TOPIC_LENGTH * 2 && TOPIC_PATTERN.test(value);
}

/** Why `value` is not a topic, or undefined when it is one. */
export function topicProblem(value: unknown, field = 'topic'): string | undefined {
  if (value === undefined) return `"${field}" is required`;
  if (isValidTopic(value)) return undefined;
  return `"${field}" must be ${TOPIC_GRAMMAR_TEXT}`;
}

export function isValidSubject(value: unknown): value is string {
  return subjectProblem(value) === undefined;
}

/**
 * Why a verified `sub` claim cannot be a wskit identity, as a fixed phrase safe to log (it
 * never quotes the claim), or undefined when it can. The subject is used verbatim: it is
 * never trimmed, folded or normalised, so a look-alike of another user's subject stays a
 * different user, and one that only differs by invisible characters is refused outright.
 */
export function subjectProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'missing or empty sub';
  if (value.length > MAX_SUBJECT_LENGTH * 2 || [...value].length > MAX_SUBJECT_LENGTH) {
    return `sub longer than ${MAX_SUBJECT_LENGTH} characters`;
  }
  if (SUBJECT_PATTERN.test(value)) return undefined;
  if (/^\p{White_Space}|\p{White_Space}$/u.test(value)) return 'sub with leading or trailing whitespace';
  if (/\p{Cc}/u.test(value)) return 'sub with a control character';
  if (/\p{Cf}/u.test(value)) return 'sub with a format character';
  if (/\p{Z}/u.test(value)) return 'sub with a separator character';
  return 'sub with a surrogate, private-use or unassigned character';
}

/** The user's own topic. */
export function userTopic(subject: string): string {
  return `${USER_TOPIC_PREFIX}${subject}`;
}

function isSeparator(character: string | undefined): boolean {
  return character !== undefined && (TOPIC_SEPARATORS as readonly string[]).includes(character);
}

/**
 * Whether a prefix grant covers a topic. A grant covers the prefix itself and what follows
 * a separator (`:` `.` `/`), unless the prefix already ends with one: `team.a` covers
 * `team.a`, `team.a.x` and `team.a:x`, never `team.abc`; `team.` covers `team.abc`. An
 * empty prefix covers nothing.
 */
export function prefixCovers(prefix: string, topic: string): boolean {
  if (prefix.length === 0 || !topic.startsWith(prefix)) return false;
  if (topic.length === prefix.length) return true;
  return isSeparator(prefix[prefix.length - 1]) || isSeparator(topic[prefix.length]);
}
