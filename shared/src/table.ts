/**
 * The one wskit table, as `terraform/modules/connections-table/table.json` defines it:
 * Terraform builds the table from that file, the local gateway and the tests create it
 * from this module. It declares no secondary index: a user's connections live in the user
 * item (see store.ts).
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import definition from '../../terraform/modules/connections-table/table.json';

export interface TableDefinition {
  hashKey: string;
  rangeKey?: string;
  attributes: { name: string; type: 'S' | 'N' | 'B' }[];
  globalSecondaryIndexes?: {
    name: string;
    hashKey: string;
    rangeKey?: string;
    projectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
    nonKeyAttributes?: string[];
  }[];
  ttlAttribute?: string;
}

export const TABLE_DEFINITION = definition as TableDefinition;

/** CreateTable input (on-demand billing) for the definition. */
export function createTableInput(tableName: string, def: TableDefinition = TABLE_DEFINITION): CreateTableCommandInput {
  const keySchema = (hash: string, range?: string) => [
    { AttributeName: hash, KeyType: 'HASH' as const },
    ...(range ? [{ AttributeName: range, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: def.attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: keySchema(def.hashKey, def.rangeKey),
    ...(def.globalSecondaryIndexes?.length
      ? {
          GlobalSecondaryIndexes: def.globalSecondaryIndexes.map((g) => ({
            IndexName: g.name,
            KeySchema: keySchema(g.hashKey, g.rangeKey),
            Projection: {
              ProjectionType: g.projectionType,
              ...(g.projectionType === 'INCLUDE' ? { NonKeyAttributes: g.nonKeyAttributes ?? [] } : {}),
            },
          })),
        }
      : {}),
  };
}
