import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** A key attribute of a Spool table; every key is a string. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S';
}

/**
 * One DynamoDB table, described without any AWS SDK or CDK type so that both `ensureTables` (local
 * emulators, start-up) and the CDK stack (cdk/lib/tables.ts) are built from the same data.
 */
export interface TableDefinition {
  /** The table is named `<prefix>-<suffix>`. */
  readonly suffix: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** A numeric attribute in epoch seconds after which DynamoDB may delete the item (TTL). */
  readonly timeToLiveAttribute?: string;
}

/**
 * Every table has a string partition key `pk` and sort key `sk`, so each store can lay out its
 * items freely.
 */
const PK_SK = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
} as const satisfies Pick<TableDefinition, 'partitionKey' | 'sortKey'>;

/**
 * Spool's DynamoDB tables, the single source of truth for their names and key schemas. In AWS the
 * CDK stack creates them; locally `ensureTables` creates them idempotently at start-up.
 *
 * Only the schedules table has a DynamoDB TTL attribute (delivered and cancelled schedules are
 * kept a week, then expire). The archive's upload markers must not expire that way: the orphan
 * sweep must still find an expired marker to delete the objects it names.
 */
export const TABLE_DEFINITIONS = {
  /** Topics: pk = topic name, sk = "topic". */
  topics: { suffix: 'topics', ...PK_SK },
  /**
   * Partition state, one item per partition: pk = topic name, sk = "p#<index, 6 digits>". Written by
   * the controller (placement, elections) and by partition leaders (ISR changes). See
   * partition-state-store.ts.
   */
  partitions: { suffix: 'partitions', ...PK_SK },
  /** Consumer groups: pk = group id, sk = "group" for group state or "offset#<topic>#<partition>". */
  groups: { suffix: 'groups', ...PK_SK },
  /**
   * Cluster coordination: leases with pk = "broker#<id>" (a broker's registration) or "controller" and
   * sk = "lease" (broker-lease.ts); the metadata version item, pk = "metadata", sk = "version"
   * (metadata-version.ts); and the producer-id allocator, pk = "producer-ids", sk = "block".
   */
  cluster: { suffix: 'cluster', ...PK_SK },
  /** The archive (tiered storage): heads, committed segments and upload markers; see archive/. */
  archive: { suffix: 'archive', ...PK_SK },
  /**
   * Delayed messages: pk = "s#<shard>", sk = the schedule id, which starts with the due time, so what
   * is due in a shard is one Query from the shard's cursor (pk = "cursor", sk = "<shard>": every
   * schedule before it is finished). See broker/delay/schedule-store.ts.
   */
  schedules: { suffix: 'schedules', ...PK_SK, timeToLiveAttribute: 'ttl' },
} as const satisfies Record<string, TableDefinition>;

/** Each table's name suffix, by table (derived from TABLE_DEFINITIONS). */
export const TABLE_SUFFIXES = Object.fromEntries(
  Object.entries(TABLE_DEFINITIONS).map(([table, definition]) => [table, definition.suffix]),
) as { readonly [T in keyof typeof TABLE_DEFINITIONS]: (typeof TABLE_DEFINITIONS)[T]['suffix'] };

export type TableName = keyof typeof TABLE_SUFFIXES;

export function tableName(prefix: string, table: TableName): string {
  return `${prefix}-${TABLE_SUFFIXES[table]}`;
}

function definition(name: string, table: TableDefinition): CreateTableCommandInput {
  const { partitionKey, sortKey } = table;
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
      { AttributeName: sortKey.name, AttributeType: sortKey.type },
    ],
    KeySchema: [
      { AttributeName: partitionKey.name, KeyType: 'HASH' },
      { AttributeName: sortKey.name, KeyType: 'RANGE' },
    ],
  };
}

/** Creates any missing table and waits until all are ACTIVE. Safe to call from many brokers at once. */
export async function ensureTables(client: DynamoDBDocumentClient, prefix: string): Promise<void> {
  for (const table of Object.keys(TABLE_DEFINITIONS) as TableName[]) {
    const name = tableName(prefix, table);
    try {
      await client.send(new CreateTableCommand(definition(name, TABLE_DEFINITIONS[table])));
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
