import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger.js';

/** The part of the Lambda context Spool's handlers read. */
export interface ScheduledLambdaContext {
  getRemainingTimeInMillis(): number;
}

/** An EventBridge "Scheduled Event", as the rule in the CDK stack delivers it. */
export interface ScheduledEvent {
  version: '0';
  id: string;
  'detail-type': 'Scheduled Event';
  source: 'aws.events';
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, never>;
}

export interface LocalLambdaScheduleOptions<R> {
  /** For logs, e.g. "retention". */
  name: string;
  /** The very handler the stack deploys (lambdas/<name>/handler.ts), built with local config. */
  handler: (event: ScheduledEvent, context: ScheduledLambdaContext) => Promise<R>;
  /** The function's timeout in the stack: the context's remaining time counts down from it. */
  timeoutMs: number;
  logger: Logger;
  /** Closes the handler's clients on stop. */
  dispose?: () => void;
}

/**
 * `spool dev`'s stand-in for an EventBridge schedule: invokes a Lambda handler itself every
 * interval, with a scheduled event and a context whose deadline is the function's timeout, so
 * local clusters run exactly the code the stack deploys. Invocations never overlap (the next is
 * scheduled when one ends, which is stricter than EventBridge; the handlers tolerate both), and a
 * failed one is logged and retried on the next tick.
 */
export class LocalLambdaSchedule<R> {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<unknown> | undefined;
  private stopped = false;
  /** Invocations completed so far, and the last result (for tests and diagnostics). */
  runs = 0;
  lastResult: R | undefined;

  constructor(private readonly options: LocalLambdaScheduleOptions<R>) {}

  /** Invokes the handler every `intervalMs`, the first time one interval from now. */
  start(intervalMs: number): void {
    if (this.timer || this.stopped) throw new Error(`the ${this.options.name} schedule was started already`);
    const tick = () => {
      this.pass = this.invoke()
        .catch((error: unknown) =>
          this.options.logger.warn(
            { err: error, lambda: this.options.name },
            'scheduled Lambda failed; will retry',
          ),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, intervalMs).unref();
  }

  /** One invocation now (also what each tick does). */
  async invoke(): Promise<R> {
    const started = Date.now();
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: new Date(started).toISOString(),
      region: process.env.AWS_REGION ?? 'us-east-1',
      resources: [`local:schedule/${this.options.name}`],
      detail: {},
    };
    const result = await this.options.handler(event, {
      getRemainingTimeInMillis: () => Math.max(0, this.options.timeoutMs - (Date.now() - started)),
    });
    this.runs++;
    this.lastResult = result;
    return result;
  }

  /** Stops the schedule, waits for an invocation in progress and disposes of the handler. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
    this.options.dispose?.();
  }
}
