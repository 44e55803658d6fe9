/**
 * AWS SDK access for wskit: modules loaded at first use (see sdk.ts), clients created once
 * per module scope.
 */
import type * as DynamoDBModule from '@aws-sdk/client-dynamodb';
import type * as DocModule from '@aws-sdk/lib-dynamodb';
import type * as ManagementModule from '@aws-sdk/client-apigatewaymanagementapi';
import type * as HttpHandlerModule from '@smithy/node-http-handler';
import { loadDynamoDb, loadDynamoDbDoc, loadHttp, loadHttps, loadManagementApi, loadNodeHttpHandler } from './sdk';
import { tracingMiddleware } from './tracing';

let dynamoModule: Promise<typeof DynamoDBModule> | undefined;
let docModule: Promise<typeof DocModule> | undefined;
let managementModule: Promise<typeof ManagementModule> | undefined;
let httpHandlerModule: Promise<typeof HttpHandlerModule> | undefined;

export const dynamoDb = () => (dynamoModule ??= loadDynamoDb());
export const dynamoDbDoc = () => (docModule ??= loadDynamoDbDoc());
export const managementApi = () => (managementModule ??= loadManagementApi());
export const nodeHttpHandler = () => (httpHandlerModule ??= loadNodeHttpHandler());
export const httpModules = () => Promise.all([loadHttp(), loadHttps()]);

export type DocumentClient = DocModule.DynamoDBDocumentClient;
export type ManagementClient = ManagementModule.ApiGatewayManagementApiClient;
export type DynamoDBClient = DynamoDBModule.DynamoDBClient;

const MARSHALL_OPTIONS = { marshallOptions: { removeUndefinedValues: true } };

let defaultDocumentClient: { client: Promise<DocumentClient>; key: string } | undefined;

/**
 * The module-scope DynamoDB document client. Region and endpoint come from the standard SDK
 * settings (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB); created on first call, and anew only if
 * those settings change (tests that point one process at several backends).
 */
export function documentClient(): Promise<DocumentClient> {
  const key = `${process.env.AWS_REGION ?? ''} ${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}`;
  if (!defaultDocumentClient || defaultDocumentClient.key !== key) {
    const previous = defaultDocumentClient?.client;
    void previous?.then((client) => client.destroy(), () => undefined);
    const client = Promise.all([dynamoDb(), dynamoDbDoc()]).then(([{ DynamoDBClient }, { DynamoDBDocumentClient }]) => {
      const base = new DynamoDBClient({});
      base.middlewareStack.add(tracingMiddleware('DynamoDB'), { step: 'initialize', name: 'wskitTracing' });
      return DynamoDBDocumentClient.from(base, MARSHALL_OPTIONS);
    });
    // A failed load is not cached: the next call tries again.
    client.catch(() => {
      if (defaultDocumentClient?.client === client) defaultDocumentClient = undefined;
    });
    defaultDocumentClient = { client, key };
  }
  return defaultDocumentClient.client;
}

/** Wraps a low-level DynamoDB client (tests, custom endpoints) the way wskit expects. */
export async function toDocumentClient(client: DynamoDBClient): Promise<DocumentClient> {
  const { DynamoDBDocumentClient } = await dynamoDbDoc();
  return DynamoDBDocumentClient.from(client, MARSHALL_OPTIONS);
}
