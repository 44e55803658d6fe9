/**
 * The AWS SDK pieces wskit uses, loaded on first use rather than at import: a Lambda bundle
 * then pays for the SDK only in the first invocation that needs it, not in its init phase.
 * Clients are created once per module scope (per endpoint where that varies).
 */
import type * as DynamoDBModule from '@aws-sdk/client-dynamodb';
import type * as DocModule from '@aws-sdk/lib-dynamodb';
import type * as ManagementModule from '@aws-sdk/client-apigatewaymanagementapi';
import type * as HttpHandlerModule from '@smithy/node-http-handler';

let dynamoModule: typeof DynamoDBModule | undefined;
let docModule: typeof DocModule | undefined;
let managementModule: typeof ManagementModule | undefined;
let httpHandlerModule: typeof HttpHandlerModule | undefined;

// `require` (not a top-level import) keeps the load lazy; bundlers resolve it statically.
export function dynamoDb(): typeof DynamoDBModule {
  return (dynamoModule ??= require('@aws-sdk/client-dynamodb') as typeof DynamoDBModule);
}
export function dynamoDbDoc(): typeof DocModule {
  return (docModule ??= require('@aws-sdk/lib-dynamodb') as typeof DocModule);
}
export function managementApi(): typeof ManagementModule {
  return (managementModule ??= require('@aws-sdk/client-apigatewaymanagementapi') as typeof ManagementModule);
}
export function nodeHttpHandler(): typeof HttpHandlerModule {
  return (httpHandlerModule ??= require('@smithy/node-http-handler') as typeof HttpHandlerModule);
}

export type DocumentClient = DocModule.DynamoDBDocumentClient;
export type ManagementClient = ManagementModule.ApiGatewayManagementApiClient;

let defaultDocumentClient: { client: DocumentClient; key: string } | undefined;

/**
 * The module-scope DynamoDB document client. Region and endpoint come from the standard SDK
 * settings (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB); created on first call, and anew only if
 * those settings change (tests that point one process at several backends).
 */
export function documentClient(): DocumentClient {
  const key = `${process.env.AWS_REGION ?? ''} ${process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}`;
  if (!defaultDocumentClient || defaultDocumentClient.key !== key) {
    const { DynamoDBClient } = dynamoDb();
    defaultDocumentClient?.client.destroy();
    defaultDocumentClient = { client: toDocumentClient(new DynamoDBClient({})), key };
  }
  return defaultDocumentClient.client;
}

/** Wraps a low-level DynamoDB client (tests, custom endpoints) the way wskit expects. */
export function toDocumentClient(client: DynamoDBModule.DynamoDBClient): DocumentClient {
  return dynamoDbDoc().DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
