import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createRetentionHandler,
  RetentionConfigError,
  retentionConfigFromEnv,
} from '../../../lambdas/retention/handler.js';

/** The retention Lambda's configuration: defaults, the standard AWS variables, and clear errors. */

const VARIABLES = [
  'SPOOL_TABLE_PREFIX',
  'SPOOL_ARCHIVE_BUCKET',
  'SPOOL_ORPHAN_GRACE_MS',
  'SPOOL_LOG_LEVEL',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_S3',
];

function environment(values: Record<string, string>): void {
  for (const name of VARIABLES) vi.stubEnv(name, values[name]);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('retention Lambda configuration', () => {
  it('has defaults for everything', () => {
    environment({});
    expect(retentionConfigFromEnv()).toEqual({
      aws: { region: 'us-east-1', tablePrefix: 'spool' },
      bucket: 'spool-archive',
      orphanGraceMs: 3_600_000,
      logLevel: 'info',
    });
  });

  it('reads the Spool and standard AWS variables; empty ones count as unset', () => {
    environment({
      SPOOL_TABLE_PREFIX: 'prod',
      SPOOL_ARCHIVE_BUCKET: 'acme-spool-archive',
      SPOOL_ORPHAN_GRACE_MS: '7200000',
      SPOOL_LOG_LEVEL: 'debug',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      AWS_ENDPOINT_URL_DYNAMODB: '',
    });
    expect(retentionConfigFromEnv()).toEqual({
      aws: {
        region: 'eu-west-1',
        tablePrefix: 'prod',
        dynamoDbEndpoint: 'http://localhost:4566',
        s3Endpoint: 'http://127.0.0.1:4569',
      },
      bucket: 'acme-spool-archive',
      orphanGraceMs: 7_200_000,
      logLevel: 'debug',
    });
  });

  it('names every bad variable in one clear error', () => {
    environment({
      SPOOL_ARCHIVE_BUCKET: 'Not_A_Bucket',
      SPOOL_ORPHAN_GRACE_MS: 'an hour',
      AWS_ENDPOINT_URL_S3: 'localhost:4569',
      SPOOL_TABLE_PREFIX: 'has space',
    });
    let error: unknown;
    try {
      retentionConfigFromEnv();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RetentionConfigError);
    const { message, issues } = error as RetentionConfigError;
    expect(message).toMatch(/^invalid retention Lambda configuration: /);
    for (const name of [
      'SPOOL_ARCHIVE_BUCKET',
      'SPOOL_ORPHAN_GRACE_MS',
      'AWS_ENDPOINT_URL_S3',
      'SPOOL_TABLE_PREFIX',
    ])
      expect(issues.some((issue) => issue.startsWith(`${name}: `))).toBe(true);
    expect(message).toContain('S3 bucket name');
  });

  it('makes the handler fail on every invocation while the configuration is bad', async () => {
    environment({ SPOOL_LOG_LEVEL: 'loud' });
    const handler = createRetentionHandler();
    await expect(handler({})).rejects.toThrow(/SPOOL_LOG_LEVEL/);
    await expect(handler({})).rejects.toBeInstanceOf(RetentionConfigError);
  });
});
