import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableName } from './tables.js';

const KEY = { pk: 'metadata', sk: 'version' };

/**
 * A single counter that every metadata writer bumps after changing topics, partition state or the
 * set of live brokers. Brokers poll it with one strongly consistent GetItem and re-read the
 * metadata tables only when it moved, so a change reaches every broker within one poll interval
 * without scanning the tables each time.
 *
 * The bump is a separate write after the change itself, not part of it: a writer that dies in
 * between leaves the change unannounced until the next periodic full refresh (MetadataCache's
 * backstop), never announces a change that did not happen.
 */
export class MetadataVersion {
  private readonly table: string;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    tablePrefix: string,
  ) {
    this.table = tableName(tablePrefix, 'cluster');
  }

  async read(): Promise<number> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: KEY, ConsistentRead: true }),
    );
    return (Item?.version as number | undefined) ?? 0;
  }

  async bump(): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: KEY,
        UpdateExpression: 'ADD version :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Attributes!.version as number;
  }
}
