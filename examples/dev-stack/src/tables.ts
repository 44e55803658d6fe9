import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';

/** A client for a local DynamoDB (the credentials DynamoDB Local accepts: any). */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 });
}

/** Creates the table unless it exists, waits until it is ACTIVE, and turns its TTL on when it has one. */
export async function ensureTable(client: DynamoDBClient, input: CreateTableCommandInput, ttlAttribute?: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  for (let i = 0; ; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (i > 400) throw new Error(`table ${input.TableName} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (ttlAttribute) {
    try {
      await client.send(new UpdateTimeToLiveCommand({ TableName: input.TableName, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }));
    } catch (error) {
      // A second start on the same tables: TTL is on already.
      if (!/already enabled|TimeToLive is already/i.test((error as Error).message)) throw error;
    }
  }
}
