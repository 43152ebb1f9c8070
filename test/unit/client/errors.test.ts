import { describe, expect, it } from 'vitest';
import {
  BufferFullError,
  ConfigError,
  ConnectionError,
  ErrorCode,
  errorFromCode,
  KafkaProtocolError,
  SerializationError,
  SpoolError,
  TimeoutError,
  toSpoolError,
} from '../../../client/errors.js';
import { ConnectionError as TransportConnectionError } from '../../../client/kafka-connection.js';
import { errorInfo } from '../../../protocol/error-codes.js';

describe('errorFromCode', () => {
  it('returns undefined for NONE', () => {
    expect(errorFromCode(ErrorCode.NONE)).toBeUndefined();
  });

  it('builds a KafkaProtocolError from the shared error table', () => {
    const error = errorFromCode(ErrorCode.NOT_LEADER_OR_FOLLOWER, { topic: 'orders', partition: 2 });
    expect(error).toBeInstanceOf(KafkaProtocolError);
    expect(error).toBeInstanceOf(SpoolError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'KafkaProtocolError',
      code: 6,
      errorName: 'NOT_LEADER_OR_FOLLOWER',
      retriable: true,
      staleMetadata: true,
      topic: 'orders',
      partition: 2,
    });
    expect(error?.message).toBe(`NOT_LEADER_OR_FOLLOWER [orders-2]: ${errorInfo(6).message}`);
  });

  it('takes retriability from the table for every code', () => {
    for (let code = -1; code <= 128; code++) {
      if (code === ErrorCode.NONE) continue;
      const info = errorInfo(code);
      const error = errorFromCode(code);
      expect(error?.retriable, info.name).toBe(info.retriable);
      expect(error?.errorName).toBe(info.name);
    }
  });

  it('marks non-retriable errors and those that need no metadata refresh', () => {
    const error = errorFromCode(ErrorCode.TOPIC_ALREADY_EXISTS, { topic: 'orders' })!;
    expect(error.retriable).toBe(false);
    expect(error.staleMetadata).toBe(false);
    expect(error.partition).toBeUndefined();
    expect(error.message).toMatch(/^TOPIC_ALREADY_EXISTS \[orders\]: /);
    expect(errorFromCode(ErrorCode.REQUEST_TIMED_OUT)!.staleMetadata).toBe(false);
  });

  it('includes the broker message and cause, and tolerates unknown codes', () => {
    const cause = new Error('low level');
    const error = errorFromCode(ErrorCode.INVALID_CONFIG, {
      serverMessage: 'retention.ms is negative',
      cause,
    })!;
    expect(error.message).toContain('(broker: retention.ms is negative)');
    expect(error.serverMessage).toBe('retention.ms is negative');
    expect(error.cause).toBe(cause);
    expect(errorFromCode(ErrorCode.INVALID_CONFIG, { serverMessage: null })!.serverMessage).toBeUndefined();
    const unknown = errorFromCode(9999)!;
    expect(unknown.errorName).toBe('UNKNOWN_ERROR_9999');
    expect(unknown.retriable).toBe(false);
  });
});

describe('client errors', () => {
  it('carry names, fields and retriability', () => {
    const cases: [SpoolError, string, boolean][] = [
      [new ConnectionError('refused', 'h', 9092), 'ConnectionError', true],
      [new TimeoutError('metadata timed out', 5000), 'TimeoutError', true],
      [new ConfigError('batchSize must be positive', 'batchSize'), 'ConfigError', false],
      [new BufferFullError(1024, 32 * 1024 * 1024, 60_000), 'BufferFullError', true],
      [new SerializationError('bad'), 'SerializationError', false],
      [new SpoolError('plain'), 'SpoolError', false],
    ];
    for (const [error, name, retriable] of cases) {
      expect(error).toBeInstanceOf(SpoolError);
      expect(error.name).toBe(name);
      expect(error.retriable, name).toBe(retriable);
    }
    expect(new TimeoutError('t', 5000).timeoutMs).toBe(5000);
    expect(new ConfigError('c', 'batchSize').option).toBe('batchSize');
    const full = new BufferFullError(1024, 2048, 100);
    expect([full.requestedBytes, full.bufferSizeBytes, full.waitedMs]).toEqual([1024, 2048, 100]);
    expect(full.message).toContain('2048-byte buffer');
  });

  it('do not set cause when none is given', () => {
    expect('cause' in new SpoolError('x')).toBe(false);
  });
});

describe('toSpoolError', () => {
  it('converts the transport ConnectionError, keeping host, port and cause', () => {
    const transport = new TransportConnectionError('connection closed', '10.0.0.1', 9093);
    const error = toSpoolError(transport);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({
      host: '10.0.0.1',
      port: 9093,
      retriable: true,
      message: 'connection closed',
    });
    expect(error.cause).toBe(transport);
  });

  it('passes SpoolErrors through and wraps anything else as non-retriable', () => {
    const timeout = new TimeoutError('t');
    expect(toSpoolError(timeout)).toBe(timeout);
    const wrapped = toSpoolError(new TypeError('boom'));
    expect(wrapped).toBeInstanceOf(SpoolError);
    expect(wrapped.retriable).toBe(false);
    expect(wrapped.message).toBe('boom');
    expect(toSpoolError('a string').message).toBe('a string');
  });
});
