import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Spool's DynamoDB tables. Every table has a string partition key `pk` and sort key `sk`, so each
 * store can lay out its items freely. In AWS the CDK stack creates them; locally `ensureTables`
 * creates them idempotently at start-up.
 */
export const TABLE_SUFFIXES = {
  /** Topics: pk = topic name, sk = "topic". */
  topics: 'topics',
  /**
   * Partition state, one item per partition: pk = topic name, sk = "p#<index, 6 digits>". Written by
   * the controller (placement, elections) and by partition leaders (ISR changes). See
   * partition-state-store.ts.
   */
  partitions: 'partitions',
  /** Consumer groups: pk = group id, sk = "group" for group state or "offset#<topic>#<partition>". */
  groups: 'groups',
  /**
   * Cluster coordination: leases with pk = "broker#<id>" (a broker's registration) or "controller" and
   * sk = "lease" (broker-lease.ts); the metadata version item, pk = "metadata", sk = "version"
   * (metadata-version.ts); and the producer-id allocator, pk = "producer-ids", sk = "block".
   */
  cluster: 'cluster',
  /** The archive (tiered storage): heads, committed segments and upload markers; see archive/. */
  archive: 'archive',
} as const;

export type TableName = keyof typeof TABLE_SUFFIXES;

export function tableName(prefix: string, table: TableName): string {
  return `${prefix}-${TABLE_SUFFIXES[table]}`;
}

function definition(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  };
}

/** Creates any missing table and waits until all are ACTIVE. Safe to call from many brokers at once. */
export async function ensureTables(client: DynamoDBDocumentClient, prefix: string): Promise<void> {
  for (const table of Object.keys(TABLE_SUFFIXES) as TableName[]) {
    const name = tableName(prefix, table);
    try {
      await client.send(new CreateTableCommand(definition(name)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') break;
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
      if (attempt > 100) throw new Error(`table ${name} did not become active`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
