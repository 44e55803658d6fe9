/**
 * The one place the AWS SDK is loaded. Each loader runs at first use, never at import, so a
 * Lambda bundle does not pay for the SDK in its init phase.
 *
 * This file uses `require` (what jest and Node's CommonJS need). `sdk.esm.ts` exports the
 * same loaders with dynamic `import()`: a bundler that substitutes it for this file (and
 * code-splits) moves the whole SDK into a chunk that is parsed only on first use.
 */
import type * as DynamoDBModule from '@aws-sdk/client-dynamodb';
import type * as DocModule from '@aws-sdk/lib-dynamodb';
import type * as ManagementModule from '@aws-sdk/client-apigatewaymanagementapi';
import type * as HttpHandlerModule from '@smithy/node-http-handler';
import type * as HttpModule from 'node:http';
import type * as HttpsModule from 'node:https';

export const loadDynamoDb = async (): Promise<typeof DynamoDBModule> =>
  require('@aws-sdk/client-dynamodb') as typeof DynamoDBModule;
export const loadDynamoDbDoc = async (): Promise<typeof DocModule> => require('@aws-sdk/lib-dynamodb') as typeof DocModule;
export const loadManagementApi = async (): Promise<typeof ManagementModule> =>
  require('@aws-sdk/client-apigatewaymanagementapi') as typeof ManagementModule;
export const loadNodeHttpHandler = async (): Promise<typeof HttpHandlerModule> =>
  require('@smithy/node-http-handler') as typeof HttpHandlerModule;
export const loadHttp = async (): Promise<typeof HttpModule> => require('node:http') as typeof HttpModule;
export const loadHttps = async (): Promise<typeof HttpsModule> => require('node:https') as typeof HttpsModule;
