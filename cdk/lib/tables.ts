import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_DEFINITIONS, type TableName, tableName } from '../../broker/cluster/tables.js';

export interface SpoolTablesProps {
  /** Table names are `<prefix>-<suffix>`, the names brokers derive from SPOOL_TABLE_PREFIX. */
  readonly prefix: string;
}

/**
 * Spool's DynamoDB tables, one per entry of TABLE_DEFINITIONS (broker/cluster/tables.ts), the same
 * definitions `ensureTables` creates locally, so the key schemas cannot drift apart.
 */
export class SpoolTables extends Construct {
  readonly tables: Readonly<Record<TableName, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: SpoolTablesProps) {
    super(scope, id);
    const tables: Partial<Record<TableName, dynamodb.Table>> = {};
    for (const [table, definition] of Object.entries(TABLE_DEFINITIONS) as [
      TableName,
      (typeof TABLE_DEFINITIONS)[TableName],
    ][]) {
      tables[table] = new dynamodb.Table(this, pascal(table), {
        // Physical names, because brokers and the Lambda find the tables by prefix, not by ARN.
        tableName: tableName(props.prefix, table),
        partitionKey: { name: definition.partitionKey.name, type: dynamodb.AttributeType.STRING },
        sortKey: { name: definition.sortKey.name, type: dynamodb.AttributeType.STRING },
        // Load follows produce/consume traffic and is spiky; on demand needs no capacity planning.
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        // The tables are the cluster's source of truth (topics, ISR, archive heads): they must
        // survive operator mistakes and stack deletion.
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
        ...('timeToLiveAttribute' in definition
          ? { timeToLiveAttribute: definition.timeToLiveAttribute }
          : {}),
      });
    }
    this.tables = tables as Record<TableName, dynamodb.Table>;
  }

  /** Every table, in TABLE_DEFINITIONS order. */
  all(): dynamodb.Table[] {
    return Object.values(this.tables);
  }
}

function pascal(name: string): string {
  return `${name[0]?.toUpperCase()}${name.slice(1)}Table`;
}
