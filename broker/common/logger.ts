import { type Logger, pino } from 'pino';

export type { Logger };

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
