import { ConnectionStore, destroyManagementClients } from '@wskit/shared';
import { startDynamo, type DynamoHandle } from '@wskit/testing/dynamo';
import { startManagementApi, type ManagementApiServer } from '@wskit/testing/management-api';

export interface Harness {
  db: DynamoHandle;
  api: ManagementApiServer;
  store: ConnectionStore;
  /** The table without rate-limit counters: connections, subscriptions and history. */
  state(): ReturnType<DynamoHandle['dump']>;
}

/** dynalite + the local management API, and the environment the message function gets. */
export function useHarness(): () => Harness {
  const savedEnv = { ...process.env };
  let harness: Harness | undefined;
  beforeAll(async () => {
    const [db, api] = await Promise.all([startDynamo('dynalite'), startManagementApi({ stage: 'local' })]);
    harness = {
      db,
      api,
      store: new ConnectionStore({ tableName: db.tableName, dynamoDb: db.client }),
      state: async () => (await db.dump()).filter((item) => !item.pk?.S?.startsWith('rate#')),
    };
    Object.assign(process.env, {
      WSKIT_TABLE_NAME: db.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      WSKIT_CALLBACK_URL: api.url,
      WSKIT_PUBLIC_TOPIC_PREFIXES: 'public:,lobby.',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      WSKIT_LOG_LEVEL: 'WARN',
    });
  });
  afterAll(async () => {
    process.env = savedEnv;
    destroyManagementClients();
    await Promise.all([harness?.db.stop(), harness?.api.stop()]);
  });
  return () => {
    if (!harness) throw new Error('harness not started');
    return harness;
  };
}
