import { appendFileSync } from 'node:fs';
import { Consumer, type DeliveryMode } from '../../client/consumer/index.js';

/**
 * A consumer process for the delivery-mode tests, which SIGKILL it mid-processing. Configured by
 * environment: SPOOL_BOOTSTRAP, TOPIC, GROUP, MODE (atLeastOnce | atMostOnce), LOG, and optionally
 * INSTANCE (static membership). Appends `partition:offset` to LOG when a handler starts (`start `)
 * and when it finishes (`done `), so the test can check the promise each mode makes.
 */
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const log = env('LOG');
const consumer = new Consumer({
  bootstrap: env('SPOOL_BOOTSTRAP').split(','),
  groupId: env('GROUP'),
  ...(process.env.INSTANCE ? { groupInstanceId: process.env.INSTANCE } : {}),
  deliveryMode: env('MODE') as DeliveryMode,
  startFrom: 'earliest',
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 500,
  autoCommitIntervalMs: 100,
  maxBatchRecords: 10,
});
consumer.subscribe(env('TOPIC'));
process.on('SIGTERM', () => {
  void consumer.close().then(() => process.exit(0));
});
await consumer.run({
  eachMessage: async ({ partition, offset }) => {
    appendFileSync(log, `start ${partition}:${offset}\n`);
    await new Promise((resolve) => setTimeout(resolve, 3)); // the "work"
    appendFileSync(log, `done ${partition}:${offset}\n`);
  },
});
