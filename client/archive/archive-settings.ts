/**
 * Where the archive is, without loading the AWS SDK (archive-access.ts does, on first use). The
 * SDK does not depend on the broker, so the little it shares with broker/cluster (table naming)
 * is repeated here; a unit test keeps the names in step with broker/cluster/tables.ts.
 */

export interface ArchiveEndpoints {
  /** Default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1. */
  region?: string;
  /** An S3-compatible endpoint (s3rver, LocalStack). Default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL; unset means AWS. */
  s3Endpoint?: string;
  /** Default: AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL; unset means AWS. */
  dynamoDbEndpoint?: string;
}

/** Endpoints with the standard AWS environment variables applied. */
export function resolveEndpoints(
  settings: ArchiveEndpoints,
): Required<Pick<ArchiveEndpoints, 'region'>> & ArchiveEndpoints {
  const env = process.env;
  const s3Endpoint = settings.s3Endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const dynamoDbEndpoint = settings.dynamoDbEndpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  return {
    region: settings.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(s3Endpoint ? { s3Endpoint } : {}),
    ...(dynamoDbEndpoint ? { dynamoDbEndpoint } : {}),
  };
}

/** `<prefix>-archive`, as broker/cluster/tables.ts names it. */
export function archiveTableName(prefix: string): string {
  return `${prefix}-archive`;
}

/** `<prefix>-topics`, as broker/cluster/tables.ts names it. */
export function topicsTableName(prefix: string): string {
  return `${prefix}-topics`;
}
