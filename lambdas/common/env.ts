import { z } from 'zod';
import { type AwsSettings, awsSettingsFromEnv } from '../../broker/cluster/aws-config.js';
import { LOG_LEVELS } from './observability.js';

/** Lambda env values are strings; an empty one counts as unset. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
export const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());
export const required = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema);

export const milliseconds = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of milliseconds')
  .transform(Number);
const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** The variables every Spool Lambda that reaches DynamoDB or S3 reads, with the brokers' meaning. */
export const AWS_ENV = {
  SPOOL_TABLE_PREFIX: optional(
    z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'must be 1-200 letters, digits, "_", "." or "-"'),
  ),
  AWS_REGION: optional(z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as eu-west-1')),
  AWS_ENDPOINT_URL_DYNAMODB: optional(url),
  AWS_ENDPOINT_URL_S3: optional(url),
  AWS_ENDPOINT_URL: optional(url),
  SPOOL_LOG_LEVEL: optional(z.enum(LOG_LEVELS)),
};

type AwsEnv = { [K in keyof typeof AWS_ENV]?: string | undefined };

/**
 * The AWS part is awsSettingsFromEnv's (the brokers' own rules), fed the validated values so that
 * empty variables count as unset.
 */
export function awsSettingsOf(e: AwsEnv): AwsSettings {
  const dynamoDbEndpoint = e.AWS_ENDPOINT_URL_DYNAMODB ?? e.AWS_ENDPOINT_URL;
  const s3Endpoint = e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL;
  return awsSettingsFromEnv({
    ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
    ...(e.SPOOL_TABLE_PREFIX ? { tablePrefix: e.SPOOL_TABLE_PREFIX } : {}),
    ...(dynamoDbEndpoint ? { dynamoDbEndpoint } : {}),
    ...(s3Endpoint ? { s3Endpoint } : {}),
  });
}

/** "VARIABLE: problem" for each zod issue, naming the variable only. */
export function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${String(i.path[0] ?? '(env)')}: ${i.message}`);
}
