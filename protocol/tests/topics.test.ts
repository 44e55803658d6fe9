import {
  MAX_SUBJECT_LENGTH,
  MAX_TOPIC_LENGTH,
  isTopicAllowed,
  isValidSubject,
  isValidTopic,
  prefixCovers,
  publicPrefixProblem,
  scopeGrants,
  subjectProblem,
  userTopic,
} from '../src';

/** Subjects real identity providers issue (shapes, not real accounts). */
const REAL_SUBJECTS = [
  'auth0|5f7c8ec7c33c6c004bbafe82',
  'google-oauth2|104376218753623414155',
  'samlp|okta-acme|alice@example.com',
  'waad|3e1d4b62-6b2c-4bd1-9a57-6c6b9b3e5f21',
  'oauth2|github|4242',
  'alice+ws@example.com',
  '0b5d7a4e-61d3-4a5b-9b3c-1f2e3d4c5b6a',
  '00u1abcdEFGHijkl2345',
  'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
  '104376218753623414155',
  'CORP\\alice',
  'renée@exemple.fr',
  'ユーザー42',
];

describe('subjects', () => {
  it.each(REAL_SUBJECTS)('%s is a subject, and user:<sub> is a topic', (sub) => {
    expect(subjectProblem(sub)).toBeUndefined();
    expect(isValidTopic(userTopic(sub))).toBe(true);
    expect(isTopicAllowed(userTopic(sub), 'subscribe', { userId: sub })).toBe(true);
  });

  it('refuses look-alikes of a subject instead of folding them into it', () => {
    const cases: Array<[string, RegExp]> = [
      [' alice', /leading or trailing whitespace/],
      ['alice ', /leading or trailing whitespace/],
      ['alice\u00a0', /leading or trailing whitespace/],
      ['\ufeffalice', /format character/],
      ['al\u200bice', /format character/],
      ['ali\u0000ce', /control character/],
      ['ali\nce', /control character/],
      ['al ice', /separator character/],
      ['al\u2028ice', /separator character/],
      ['al\ud800ice', /surrogate, private-use or unassigned/],
      ['al\ue000ice', /surrogate, private-use or unassigned/],
      ['', /missing or empty/],
      ['a'.repeat(MAX_SUBJECT_LENGTH + 1), /longer than 251/],
    ];
    for (const [sub, reason] of cases) {
      expect(subjectProblem(sub)).toMatch(reason);
      expect(isValidSubject(sub)).toBe(false);
    }
    expect(subjectProblem(5)).toMatch(/missing/);
    expect(isValidSubject('a'.repeat(MAX_SUBJECT_LENGTH))).toBe(true);
    // Counted in characters, not UTF-16 units.
    expect(isValidSubject('😀'.repeat(MAX_SUBJECT_LENGTH))).toBe(true);
  });

  it('never says what the subject was', () => {
    expect(subjectProblem(' secret-user ')).not.toContain('secret');
  });
});

describe('topics', () => {
  it('accepts the grammar and refuses whitespace, control and format characters', () => {
    for (const topic of ['a', 'user:alice', 'team.b/x-1_2', 'A:B.C/D-E_F', 'room#1', 'a*', 'ä', 't'.repeat(MAX_TOPIC_LENGTH)]) {
      expect(isValidTopic(topic)).toBe(true);
    }
    for (const topic of ['', ' ', 'a b', 'a\tb', 'a\u200b', '\ufeffa', 'a\u0085', 't'.repeat(MAX_TOPIC_LENGTH + 1), 5, null, undefined]) {
      expect(isValidTopic(topic)).toBe(false);
    }
  });
});

describe('prefix grants end at a boundary', () => {
  it.each([
    ['team.a', 'team.a', true],
    ['team.a', 'team.a.x', true],
    ['team.a', 'team.a:x', true],
    ['team.a', 'team.a/x', true],
    ['team.a', 'team.abc', false],
    ['user:al', 'user:alice', false],
    ['team.', 'team.abc', true],
    ['team.', 'team', false],
    ['public:', 'public:room', true],
    ['', 'anything', false],
  ])('%s covers %s: %s', (prefix, topic, covers) => {
    expect(prefixCovers(prefix, topic)).toBe(covers);
  });

  const alice = { userId: 'alice', scope: 'openid subscribe:feed. publish:out/ topics:team. topics: bogus subscribe:user:al publish:team.a' };

  it('applies the boundary to scopes and public prefixes alike', () => {
    expect(isTopicAllowed('user:alice', 'publish', alice)).toBe(true);
    expect(isTopicAllowed('user:alicex', 'publish', alice)).toBe(false);
    expect(isTopicAllowed('user:bob', 'subscribe', alice)).toBe(false);
    expect(isTopicAllowed('user:alex', 'subscribe', alice)).toBe(false);
    expect(isTopicAllowed('user:al', 'subscribe', alice)).toBe(true);
    expect(isTopicAllowed('team.abc', 'publish', { userId: 'bob', scope: 'publish:team.a' })).toBe(false);
    expect(isTopicAllowed('team.a:chat', 'publish', { userId: 'bob', scope: 'publish:team.a' })).toBe(true);
    expect(isTopicAllowed('public:x', 'subscribe', alice, { publicPrefixes: ['public:'] })).toBe(true);
    expect(isTopicAllowed('publicity', 'subscribe', alice, { publicPrefixes: ['public'] })).toBe(false);
    expect(isTopicAllowed('public:x', 'subscribe', alice)).toBe(false);
    expect(isTopicAllowed('feed.a', 'subscribe', alice)).toBe(true);
    expect(isTopicAllowed('feed.a', 'publish', alice)).toBe(false);
    expect(isTopicAllowed('out/1', 'publish', alice)).toBe(true);
    expect(isTopicAllowed('out/1', 'subscribe', alice)).toBe(false);
    expect(isTopicAllowed('team.b/x', 'publish', alice)).toBe(true);
    expect(isTopicAllowed('anything', 'subscribe', alice)).toBe(false);
    expect(isTopicAllowed('bad topic', 'subscribe', { userId: 'x', scope: 'topics:bad' })).toBe(false);
    expect(isTopicAllowed('user:', 'subscribe', { userId: '' })).toBe(false);
  });

  it('splits scopes on single spaces only', () => {
    expect(scopeGrants('topics:a topics:b\tpublish:c', 'publish')).toEqual(['a', 'b\tpublish:c']);
    expect(scopeGrants(undefined, 'publish')).toEqual([]);
  });

  it('refuses public prefixes that would open user topics', () => {
    for (const prefix of ['user', 'user:', 'user:al', '']) expect(publicPrefixProblem(prefix)).toBeDefined();
    for (const prefix of ['public:', 'lobby.', 'users', 'u']) expect(publicPrefixProblem(prefix)).toBeUndefined();
  });
});
