/**
 * The ESM twin of `sdk.ts` for bundles: same loaders, with dynamic `import()` so a bundler
 * can split the SDK into a chunk loaded at first use. Build scripts substitute this file
 * for `sdk.ts` (for example with an esbuild onResolve plugin); jest never loads it.
 */
export const loadDynamoDb = () => import('@aws-sdk/client-dynamodb');
export const loadDynamoDbDoc = () => import('@aws-sdk/lib-dynamodb');
export const loadManagementApi = () => import('@aws-sdk/client-apigatewaymanagementapi');
export const loadNodeHttpHandler = () => import('@smithy/node-http-handler');
export const loadHttp = () => import('node:http');
export const loadHttps = () => import('node:https');
