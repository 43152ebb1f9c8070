/**
 * Typed errors of the Spool SDK. Every error the SDK surfaces is a `SpoolError`, so callers can
 * `instanceof`-match one base class and read `retriable` to decide whether trying again can help.
 * Wire error codes are described only by the table in protocol/error-codes.ts; nothing here
 * repeats a code's name, message or retriability.
 */

import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { ConnectionError as TransportConnectionError } from './kafka-connection.js';

export { ErrorCode, type ErrorName } from '../protocol/error-codes.js';

export interface SpoolErrorOptions {
  cause?: unknown;
  retriable?: boolean;
}

export class SpoolError extends Error {
  override name = 'SpoolError';
  /** Whether the same operation may succeed if tried again (after a backoff or metadata refresh). */
  readonly retriable: boolean;

  constructor(message: string, options: SpoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? false;
  }
}

export interface ProtocolErrorContext {
  topic?: string;
  partition?: number;
  /** The broker's own error message, when the response carries one. */
  serverMessage?: string | null;
  cause?: unknown;
}

/**
 * Codes after which the client's cached leaders or topic ids are stale, so it must refresh
 * metadata before retrying (the Java client's InvalidMetadataException family). Kept as a set of
 * codes rather than a column of the table because only the client cares about it.
 */
const STALE_METADATA_CODES: ReadonlySet<number> = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.LISTENER_NOT_FOUND,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
]);

/** An error code returned by a broker, with the code's table entry and where it happened. */
export class KafkaProtocolError extends SpoolError {
  override name = 'KafkaProtocolError';
  readonly code: number;
  /** The code's name in Kafka's protocol, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  readonly errorName: string;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly serverMessage: string | undefined;
  /** The client should refresh metadata (leaders, topic ids) before retrying. */
  readonly staleMetadata: boolean;

  constructor(code: number, context: ProtocolErrorContext = {}) {
    const info = errorInfo(code);
    super(describe(info.name, info.message, context), { cause: context.cause, retriable: info.retriable });
    this.code = code;
    this.errorName = info.name;
    this.topic = context.topic;
    this.partition = context.partition;
    this.serverMessage = context.serverMessage ?? undefined;
    this.staleMetadata = STALE_METADATA_CODES.has(code);
  }
}

function describe(name: string, tableMessage: string, context: ProtocolErrorContext): string {
  let where = '';
  if (context.topic !== undefined) {
    where =
      context.partition === undefined ? ` [${context.topic}]` : ` [${context.topic}-${context.partition}]`;
  }
  const server = context.serverMessage ? ` (broker: ${context.serverMessage})` : '';
  return `${name}${where}: ${tableMessage}${server}`;
}

/** The typed error for a wire error code, or undefined for NONE so callers can `if (error) throw error`. */
export function errorFromCode(
  code: number,
  context: ProtocolErrorContext = {},
): KafkaProtocolError | undefined {
  return code === ErrorCode.NONE ? undefined : new KafkaProtocolError(code, context);
}

/**
 * A socket-level failure talking to a broker. Retriable: another connection attempt, possibly to
 * another broker after a metadata refresh, can succeed.
 */
export class ConnectionError extends SpoolError {
  override name = 'ConnectionError';
  constructor(
    message: string,
    readonly host: string,
    readonly port: number,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause, retriable: true });
  }
}

/** An operation did not complete in time. Retriable because the condition is usually transient. */
export class TimeoutError extends SpoolError {
  override name = 'TimeoutError';
  constructor(
    message: string,
    readonly timeoutMs?: number,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause, retriable: true });
  }
}

/** Invalid user configuration or arguments; retrying the same call cannot help. */
export class ConfigError extends SpoolError {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** The offending option, e.g. `batchSize`, when there is one. */
    readonly option?: string,
  ) {
    super(message, { retriable: false });
  }
}

/**
 * The consumer's `tagFilter` is not a valid tag expression (see protocol/tag-filter). Thrown by
 * the Consumer constructor, before anything is sent.
 */
export class InvalidTagFilterError extends ConfigError {
  override name = 'InvalidTagFilterError';
  constructor(
    readonly expression: string,
    /** 0-based index of the offending character. */
    readonly position: number,
    readonly reason: string,
  ) {
    super(`invalid tagFilter ${JSON.stringify(expression)} at position ${position}: ${reason}`, 'tagFilter');
  }
}

/**
 * The producer's bounded buffer stayed full for longer than the caller was willing to wait.
 * Retriable: space frees up as in-flight batches are acknowledged.
 */
export class BufferFullError extends SpoolError {
  override name = 'BufferFullError';
  constructor(
    readonly requestedBytes: number,
    readonly bufferSizeBytes: number,
    readonly waitedMs: number,
  ) {
    super(
      `producer buffer full: ${requestedBytes} bytes did not fit in the ${bufferSizeBytes}-byte buffer within ${waitedMs} ms`,
      { retriable: true },
    );
  }
}

/** A key or value could not be serialized or deserialized; the data itself is at fault. */
export class SerializationError extends SpoolError {
  override name = 'SerializationError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause, retriable: false });
  }
}

/**
 * Normalizes anything thrown below the SDK's surface into a SpoolError: the transport's
 * ConnectionError (which predates this module and is not a SpoolError) becomes ours, and unknown
 * errors become a non-retriable SpoolError that keeps the original as `cause`.
 */
export function toSpoolError(error: unknown): SpoolError {
  if (error instanceof SpoolError) return error;
  if (error instanceof TransportConnectionError) {
    return new ConnectionError(error.message, error.host, error.port, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SpoolError(message, { cause: error });
}
