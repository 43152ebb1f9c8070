import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue } from '../../../broker/common/serial-queue.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedSerialQueue', () => {
  it('runs the tasks of one key one at a time in submission order, even when an early one is slow', async () => {
    const queues = new KeyedSerialQueue();
    const log: string[] = [];
    const first = queues.run('p0', async () => {
      await tick(30);
      log.push('first');
    });
    const second = queues.run('p0', async () => {
      log.push('second');
    });
    const other = queues.run('p1', async () => {
      log.push('other key');
    });
    await Promise.all([first, second, other]);
    expect(log).toEqual(['other key', 'first', 'second']);
  });

  it('passes results and failures through, keeps going after a failure, and forgets idle keys', async () => {
    const queues = new KeyedSerialQueue();
    const failed = queues.run('p0', async () => {
      throw new Error('boom');
    });
    const next = queues.run('p0', async () => 42);
    expect(queues.size).toBe(1);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
    expect(queues.size).toBe(0);
  });
});
