// The table on an external DynamoDB endpoint, persistence under a data directory, and
// the dev identity provider's key and JWKS.
import * as path from 'node:path';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createPublicKey, createVerify, type JsonWebKey } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand, DynamoDBClient, PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_DEFINITION } from '@wskit/shared/table';
import { startGateway, DevIdentityProvider } from '../src';
import { httpRequest } from './helpers';

jest.setTimeout(30_000);

const fixtures = path.join(__dirname, 'fixtures', 'lambda');
let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'wskit-store-'));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const client = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

test('another DynamoDB endpoint: the table is created from table.json when missing, and reused', async () => {
  // A second, independent DynamoDB API on its own port stands in for DynamoDB Local.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (o: object) => Server;
  const external = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => external.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(external.address() as AddressInfo).port}`;
  const ddb = client(endpoint);
  try {
    const gw = await startGateway({ distDir: fixtures, dynamodbEndpoint: endpoint, dataDir: path.join(workDir, 'ext'), tableName: 'ext-table' });
    expect(gw.dynamodbEndpoint).toBe(endpoint);
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: 'ext-table' }));
    const def = TABLE_DEFINITION;
    expect(Table?.KeySchema).toEqual([
      { AttributeName: def.hashKey, KeyType: 'HASH' },
      { AttributeName: def.rangeKey, KeyType: 'RANGE' },
    ]);
    // No secondary index: a user's connections are listed in their user item.
    expect(Table?.GlobalSecondaryIndexes ?? []).toEqual([]);
    await ddb.send(new PutItemCommand({ TableName: 'ext-table', Item: { pk: { S: 'keep' }, sk: { S: 'me' } } }));
    await gw.stop();
    // A second start finds the table and leaves its data alone.
    const again = await startGateway({ distDir: fixtures, dynamodbEndpoint: endpoint, dataDir: path.join(workDir, 'ext'), tableName: 'ext-table' });
    await again.stop();
    const { Item } = await ddb.send(new GetItemCommand({ TableName: 'ext-table', Key: { pk: { S: 'keep' }, sk: { S: 'me' } } }));
    expect(Item).toBeDefined();
  } finally {
    ddb.destroy();
    await new Promise((resolve) => external.close(resolve));
  }
});

test('a data directory keeps the table and the signing key across restarts', async () => {
  const dataDir = path.join(workDir, 'persist');
  const eventLog = path.join(workDir, 'persist-events.jsonl');
  const env = { FIXTURE_EVENT_LOG: eventLog };
  const first = await startGateway({ distDir: fixtures, dataDir, functionEnv: { connect: env, disconnect: env } });
  const token = await first.mintToken({ sub: 'persisted' });
  const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
  let ddb = client(first.dynamodbEndpoint);
  await ddb.send(new PutItemCommand({ TableName: first.tableName, Item: { pk: { S: 'conn#x' }, sk: { S: 'meta' }, userId: { S: 'u' } } }));
  ddb.destroy();
  await first.stop();

  const second = await startGateway({ distDir: fixtures, dataDir, functionEnv: { connect: env, disconnect: env } });
  try {
    ddb = client(second.dynamodbEndpoint);
    const { Item } = await ddb.send(new GetItemCommand({ TableName: second.tableName, Key: { pk: { S: 'conn#x' }, sk: { S: 'meta' } } }));
    ddb.destroy();
    expect(Item?.userId).toEqual({ S: 'u' });
    const jwks = JSON.parse((await httpRequest(`${second.httpUrl}/.well-known/jwks.json`)).body);
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
    expect((statSync(path.join(dataDir, 'dev-signing-key.pem')).mode & 0o777).toString(8)).toBe('600');
  } finally {
    await second.stop();
  }
});

test('the JWKS verifies what the gateway mints (the RS256 path the authorizer uses)', () => {
  const idp = DevIdentityProvider.open(path.join(workDir, 'idp'));
  const token = idp.mint({ sub: 'alice', scope: 'topics:team.', ttlSeconds: 60 });
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const jwk = idp.jwks().keys[0]!;
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: jwk.kid });
  const key = createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' });
  expect(createVerify('RSA-SHA256').update(`${header}.${payload}`).verify(key, Buffer.from(signature, 'base64url'))).toBe(true);
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  expect(claims).toMatchObject({ sub: 'alice', scope: 'topics:team.', iss: 'https://wskit.local/dev-idp', aud: 'wskit-local' });
  expect(claims.exp - claims.iat).toBe(60);
  // The same directory gives the same key.
  expect(DevIdentityProvider.open(path.join(workDir, 'idp')).jwk.kid).toBe(jwk.kid);
});
