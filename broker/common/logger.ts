import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * What domain code that also runs in Lambdas logs through: fields first, then the message, as
 * pino takes them. A pino Logger is one; lambdas/common/observability.ts adapts Powertools' Logger.
 */
export interface StructuredLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Structured JSON logs (pino). Components take a logger and add their own bindings. */
export function createLogger(options: { name?: string; level?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'spool',
    level: options.level ?? process.env.SPOOL_LOG_LEVEL ?? 'info',
  });
}

/** A logger that drops everything, for library use and tests that do not assert on logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
