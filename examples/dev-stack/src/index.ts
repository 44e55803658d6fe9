export { startDynamoDbLocal, dynamoDbLocalLibDir, DYNAMODB_LOCAL_VERSION, type DynamoDbLocal } from './dynamodb-local';
export { ensureTable, localDynamoClient } from './tables';
export { buildPage, type PageBuild } from './page';
export { Teardown } from './teardown';
export type { ExampleOptions, RunningExample } from './types';
export { chromiumPath, screenshot } from './browser';
export { withoutMetricLines } from './logs';
