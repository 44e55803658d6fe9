import {
  ConfigError,
  callbackUrl,
  partitionDnsSuffix,
  maxConnectionsPerUserFromEnv,
  maxTopicsPerConnectionFromEnv,
  metricsNamespaceFromEnv,
  publicTopicPrefixesFromEnv,
  senderTransportFromEnv,
  sessionFromEvent,
  tableNameFromEnv,
} from '../src';

describe('configuration', () => {
  it('names a missing required variable and says what to set', () => {
    expect(() => tableNameFromEnv({})).toThrow(ConfigError);
    expect(() => tableNameFromEnv({ WSKIT_TABLE_NAME: '  ' })).toThrow(/^WSKIT_TABLE_NAME is not set: set it to the name of/);
    expect(tableNameFromEnv({ WSKIT_TABLE_NAME: 'wskit-dev' })).toBe('wskit-dev');
  });

  it('reads the per-user cap: default 10, 0 = no cap, junk is an error naming the variable', () => {
    expect(maxConnectionsPerUserFromEnv({})).toBe(10);
    expect(maxConnectionsPerUserFromEnv({ WSKIT_MAX_CONNECTIONS_PER_USER: '0' })).toBe(0);
    expect(maxConnectionsPerUserFromEnv({ WSKIT_MAX_CONNECTIONS_PER_USER: ' 25 ' })).toBe(25);
    for (const raw of ['-1', '1.5', 'ten', '1e3x']) {
      expect(() => maxConnectionsPerUserFromEnv({ WSKIT_MAX_CONNECTIONS_PER_USER: raw })).toThrow(/WSKIT_MAX_CONNECTIONS_PER_USER/);
    }
    expect(maxTopicsPerConnectionFromEnv({})).toBe(100);
    expect(() => maxTopicsPerConnectionFromEnv({ WSKIT_MAX_TOPICS_PER_CONNECTION: '0' })).toThrow(/1 to 1000/);
  });

  it('splits public topic prefixes', () => {
    expect(publicTopicPrefixesFromEnv({})).toEqual([]);
    expect(publicTopicPrefixesFromEnv({ WSKIT_PUBLIC_TOPIC_PREFIXES: 'public:, lobby.,,' })).toEqual(['public:', 'lobby.']);
  });

  it('reads the sender transport and the metrics namespace, refusing what would not work', () => {
    expect(senderTransportFromEnv({})).toBe('signed-http');
    expect(senderTransportFromEnv({ WSKIT_SENDER_TRANSPORT: ' sdk ' })).toBe('sdk');
    expect(() => senderTransportFromEnv({ WSKIT_SENDER_TRANSPORT: 'fetch' })).toThrow(/^WSKIT_SENDER_TRANSPORT is "fetch": set it to signed-http/);
    expect(metricsNamespaceFromEnv({})).toBe('wskit');
    expect(metricsNamespaceFromEnv({ WSKIT_METRICS_NAMESPACE: 'wskit/wskit-prod' })).toBe('wskit/wskit-prod');
    for (const bad of ['AWS/Lambda', 'has\ttab', 'x'.repeat(256), 'émoji']) {
      expect(() => metricsNamespaceFromEnv({ WSKIT_METRICS_NAMESPACE: bad })).toThrow(/^WSKIT_METRICS_NAMESPACE is .*: set it to a CloudWatch namespace/);
    }
  });

  it('builds the callback URL from apiId, region and stage, or takes WSKIT_CALLBACK_URL', () => {
    expect(callbackUrl({ apiId: 'abc', stage: 'dev' }, { AWS_REGION: 'eu-central-1' })).toBe('https://abc.execute-api.eu-central-1.amazonaws.com/dev');
    expect(callbackUrl({}, { AWS_REGION: 'us-west-2', WSKIT_API_ID: 'def', WSKIT_STAGE: 'prod' })).toBe('https://def.execute-api.us-west-2.amazonaws.com/prod');
    expect(callbackUrl({ apiId: 'abc', stage: 'dev' }, { WSKIT_CALLBACK_URL: 'http://127.0.0.1:9/local//' })).toBe('http://127.0.0.1:9/local');
    expect(() => callbackUrl({ stage: 'dev' }, { AWS_REGION: 'us-east-1' })).toThrow(/WSKIT_API_ID/);
    expect(() => callbackUrl({ apiId: 'abc' }, { AWS_REGION: 'us-east-1' })).toThrow(/WSKIT_STAGE/);
    expect(() => callbackUrl({ apiId: 'abc', stage: 'dev' }, {})).toThrow(/AWS_REGION/);
    expect(() => callbackUrl({}, { WSKIT_CALLBACK_URL: 'ftp://x' })).toThrow(/http\(s\)/);
  });

  it("uses the Region's partition DNS suffix (China, GovCloud, ISO) in the callback URL", () => {
    expect(callbackUrl({ apiId: 'abc', stage: 'live' }, { AWS_REGION: 'cn-north-1' })).toBe('https://abc.execute-api.cn-north-1.amazonaws.com.cn/live');
    expect(callbackUrl({ apiId: 'abc', stage: 'live', region: 'cn-northwest-1' }, {})).toBe('https://abc.execute-api.cn-northwest-1.amazonaws.com.cn/live');
    expect(callbackUrl({ apiId: 'abc', stage: 'live' }, { AWS_REGION: 'us-gov-west-1' })).toBe('https://abc.execute-api.us-gov-west-1.amazonaws.com/live');
    expect(partitionDnsSuffix('us-iso-east-1')).toBe('c2s.ic.gov');
    expect(partitionDnsSuffix('us-isob-east-1')).toBe('sc2s.sgov.gov');
    expect(partitionDnsSuffix('eu-isoe-west-1')).toBe('cloud.adc-e.uk');
    expect(partitionDnsSuffix('us-isof-south-1')).toBe('csp.hci.ic.gov');
    expect(partitionDnsSuffix('eusc-de-east-1')).toBe('amazonaws.eu');
    for (const region of ['us-east-1', 'eu-central-2', 'ap-southeast-5', 'il-central-1', 'mx-central-1']) {
      expect(partitionDnsSuffix(region)).toBe('amazonaws.com');
    }
    // Prefixes alone do not decide: a Region must have the partition's whole shape.
    expect(partitionDnsSuffix('cn')).toBe('amazonaws.com');
    expect(partitionDnsSuffix('us-isobx-east-1')).toBe('amazonaws.com');
  });
});

describe('sessionFromEvent', () => {
  it('reads userId, scope and exp, converting strings', () => {
    expect(sessionFromEvent({ requestContext: { authorizer: { userId: 'u', scope: 'a b', exp: '1767225600' } } })).toEqual({
      userId: 'u',
      scope: 'a b',
      exp: 1767225600,
    });
    expect(sessionFromEvent({ requestContext: { authorizer: { principalId: 'p' } } })).toEqual({ userId: 'p', scope: '', exp: undefined });
  });

  it('returns undefined without a usable userId', () => {
    for (const event of [null, {}, { requestContext: {} }, { requestContext: { authorizer: null } }, { requestContext: { authorizer: { userId: '' } } }, { requestContext: { authorizer: { userId: {} } } }]) {
      expect(sessionFromEvent(event)).toBeUndefined();
    }
  });

  it('takes the userId verbatim and refuses one that is not a valid subject', () => {
    const session = (userId: unknown) => sessionFromEvent({ requestContext: { authorizer: { userId } } });
    expect(session('auth0|abc')?.userId).toBe('auth0|abc');
    for (const userId of [' alice', 'alice\u00a0', '\ufeffalice', 'al ice', 42, 'x'.repeat(252)]) {
      expect(session(userId)).toBeUndefined();
    }
  });
});
