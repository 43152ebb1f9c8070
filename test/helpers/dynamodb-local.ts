import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createDynamoDocumentClient } from '../../broker/cluster/aws-config.js';
import { ensureTables } from '../../broker/cluster/tables.js';
import { type RunningEmulator, startDynamoDbLocal } from '../../broker/local/emulators.js';

/**
 * Starts DynamoDB Local once for the calling test file, with Spool's tables created under
 * `tablePrefix`, and stops it afterwards. Read `client` and `endpoint` inside tests and hooks.
 */
export function useDynamoDbLocal(tablePrefix: string): {
  readonly client: DynamoDBDocumentClient;
  readonly endpoint: string;
} {
  let emulator: RunningEmulator | undefined;
  let client: DynamoDBDocumentClient | undefined;
  beforeAll(async () => {
    emulator = await startDynamoDbLocal();
    client = createDynamoDocumentClient({
      region: 'us-east-1',
      dynamoDbEndpoint: emulator.endpoint,
      tablePrefix,
    });
    await ensureTables(client, tablePrefix);
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
  });
  return {
    get client() {
      if (!client) throw new Error('DynamoDB Local is not started yet (use it inside tests or hooks)');
      return client;
    },
    get endpoint() {
      if (!emulator) throw new Error('DynamoDB Local is not started yet (use it inside tests or hooks)');
      return emulator.endpoint;
    },
  };
}
