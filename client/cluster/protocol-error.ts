import { errorFromCode, type ProtocolErrorContext, SpoolError, toSpoolError } from '../errors.js';

/**
 * Helpers tying the cluster core to the SDK's typed errors in client/errors.ts, which owns
 * KafkaProtocolError (wire error name + retriability from protocol/error-codes.ts).
 */

/**
 * The brokers do not implement an API, or no version both sides speak. Never retriable: asking
 * again will not teach the broker the API. (Candidate to move into client/errors.ts.)
 */
export class UnsupportedByBrokerError extends SpoolError {
  override name = 'UnsupportedByBrokerError';
  /** The wire error a broker would give for it. */
  readonly errorName = 'UNSUPPORTED_VERSION';
  constructor(
    readonly api: string,
    detail: string,
  ) {
    super(`${api} is not supported by this broker: ${detail}`, { retriable: false });
  }
}

/** Throws the typed KafkaProtocolError for `code` unless it is NONE (0). */
export function throwIfError(code: number, context: ProtocolErrorContext = {}): void {
  const error = errorFromCode(code, context);
  if (error) throw error;
}

/** Whether retrying (after a metadata refresh) may succeed: retriable wire errors, lost connections. */
export function isRetriable(error: unknown): boolean {
  return toSpoolError(error).retriable;
}
