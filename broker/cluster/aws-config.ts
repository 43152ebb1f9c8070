import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Where the broker's AWS dependencies live. Endpoints come from explicit configuration first, then
 * the standard AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL variables, then
 * the SDK's defaults (real AWS). The same code therefore runs against the local emulators,
 * LocalStack, or AWS.
 */
export interface AwsSettings {
  region: string;
  dynamoDbEndpoint?: string;
  s3Endpoint?: string;
  /** Prefix of every DynamoDB table name, so clusters (and test runs) can share one account. */
  tablePrefix: string;
}

export function awsSettingsFromEnv(overrides: Partial<AwsSettings> = {}): AwsSettings {
  const env = process.env;
  const dynamoDbEndpoint =
    overrides.dynamoDbEndpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const s3Endpoint = overrides.s3Endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return {
    region: overrides.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    tablePrefix: overrides.tablePrefix ?? env.SPOOL_TABLE_PREFIX ?? 'spool',
    ...(dynamoDbEndpoint ? { dynamoDbEndpoint } : {}),
    ...(s3Endpoint ? { s3Endpoint } : {}),
  };
}

/** Local emulators accept any credentials; real AWS uses the SDK's default provider chain. */
export function localCredentials(endpoint: string | undefined) {
  const isLoopback = endpoint !== undefined && /^https?:\/\/(127\.|localhost|\[::1\])/.test(endpoint);
  return isLoopback && !process.env.AWS_ACCESS_KEY_ID
    ? { accessKeyId: 'local', secretAccessKey: 'local' }
    : undefined;
}

export function createDynamoDocumentClient(settings: AwsSettings): DynamoDBDocumentClient {
  const credentials = localCredentials(settings.dynamoDbEndpoint);
  const client = new DynamoDBClient({
    region: settings.region,
    ...(settings.dynamoDbEndpoint ? { endpoint: settings.dynamoDbEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
    maxAttempts: 5,
    // Without a timeout one stalled request would hold up a lease renewal until the lease lapsed;
    // timed-out requests are retried by the SDK like any other transient failure.
    requestHandler: { requestTimeout: 1500, connectionTimeout: 1000 },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
