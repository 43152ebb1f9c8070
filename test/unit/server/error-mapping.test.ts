import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { errorCodeFor } from '../../../broker/server/error-mapping.js';
import { ErrorCode } from '../../../protocol/error-codes.js';

describe('errorCodeFor', () => {
  it('answers a DynamoDB or S3 timeout, throttling or 5xx with a retriable REQUEST_TIMED_OUT', () => {
    const timeout = Object.assign(new Error('socket timeout'), { name: 'TimeoutError' });
    const throttled = new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
    const unavailable = Object.assign(new Error('503'), { $metadata: { httpStatusCode: 503 } });
    for (const error of [timeout, throttled, unavailable]) {
      expect(errorCodeFor(error)).toBe(ErrorCode.REQUEST_TIMED_OUT);
    }
    // A 4xx from AWS (a bug or a permission problem) is not something a retry fixes.
    const denied = Object.assign(new Error('denied'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(errorCodeFor(denied)).toBe(ErrorCode.UNKNOWN_SERVER_ERROR);
  });
});
