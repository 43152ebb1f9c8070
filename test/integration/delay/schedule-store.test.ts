import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../broker/common/logger.js';
import { Promoter, type PromotionTarget, promoteDue } from '../../../broker/delay/promoter.js';
import { ScheduleStore } from '../../../broker/delay/schedule-store.js';
import { newScheduleId, parseScheduleId, type Schedule } from '../../../protocol/schedules.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/**
 * The schedules table and the promotion protocol against DynamoDB Local. The promotion target is
 * an in-memory log: what is under test is the store, the cursors and the claims.
 */

const db = useDynamoDbLocal('sched');

/** A one-partition "topic" in memory; `failAfterAppend` makes the next produce append and then throw. */
function memoryTarget() {
  const log: { id: string }[] = [];
  let failAfterAppend = false;
  const target: PromotionTarget = {
    partitionFor: async () => 0,
    endOffset: async () => log.length,
    produce: async (_topic, _partition, record) => {
      const id = record.headers.find((h) => h.key === 'spool-schedule-id')!.value!.toString();
      log.push({ id });
      if (failAfterAppend) {
        failAfterAppend = false;
        throw new Error('the promoter died after producing');
      }
      return log.length - 1;
    },
    find: async (_topic, _partition, from, id) => {
      const index = log.findIndex((r, i) => i >= from && r.id === id);
      return index >= 0 ? index : undefined;
    },
  };
  return { log, target, failNextAfterAppend: () => (failAfterAppend = true) };
}

/** A schedule in a chosen shard (the unique part decides the shard). */
function scheduleInShard(shard: number, dueAt: number, now: number): Schedule {
  for (let i = 0; ; i++) {
    const id = newScheduleId(dueAt, `u${i}-${dueAt}`.padEnd(8, 'x'));
    if (parseScheduleId(id).shard === shard) {
      return {
        id,
        dueAt,
        shard,
        topic: 't',
        partition: null,
        key: null,
        value: null,
        headers: [],
        createdAt: now,
      };
    }
  }
}

describe('schedule store and promotion', () => {
  it('promotes a short delay in a shard whose first schedule is 40 days away', async () => {
    const store = new ScheduleStore(db.client, 'sched');
    const { log, target } = memoryTarget();
    const now = Date.now();
    await store.put(scheduleInShard(3, now + 40 * 24 * 3600 * 1000, now));
    const soon = scheduleInShard(3, now + 1000, now);
    await store.put(soon);
    const promoter = new Promoter(store, target, {
      owner: 'a',
      logger: silentLogger(),
      now: () => now + 2000,
    });
    const summary = await promoteDue({
      store,
      promoter,
      shards: [3],
      now: now + 2000,
      until: now + 2000,
      logger: silentLogger(),
    });
    expect(summary.delivered).toBe(1);
    expect(log.map((r) => r.id)).toEqual([soon.id]);
  });

  it('never promotes twice when a promoter dies after producing: the next claimer finds the record', async () => {
    const store = new ScheduleStore(db.client, 'sched');
    const { log, target, failNextAfterAppend } = memoryTarget();
    const now = Date.now();
    const schedule = scheduleInShard(5, now, now);
    await store.put(schedule);
    const first = new Promoter(store, target, { owner: 'first', logger: silentLogger(), now: () => now });
    failNextAfterAppend();
    await expect(first.promote({ ...schedule, state: 'pending' })).rejects.toThrow(/died/);
    // While the claim is live, nobody else may take it.
    const second = new Promoter(store, target, {
      owner: 'second',
      logger: silentLogger(),
      now: () => now + 1000,
    });
    expect(await second.promote((await store.get(schedule.id))!)).toBe('taken');
    // After it ran out (30 s) and the margin (5 s), the taker finds the record instead of producing.
    const later = new Promoter(store, target, {
      owner: 'later',
      logger: silentLogger(),
      now: () => now + 36_000,
    });
    expect(await later.promote((await store.get(schedule.id))!)).toBe('found');
    expect(log).toHaveLength(1);
    expect(await store.get(schedule.id)).toMatchObject({ state: 'delivered', deliveredOffset: 0 });
    expect(await store.cancel(schedule.id, now)).toBe('already-delivered');
  });

  it('stores a schedule once however often its produce is retried, and cancels only a pending one', async () => {
    const store = new ScheduleStore(db.client, 'sched');
    const now = Date.now();
    const schedule = scheduleInShard(7, now + 60_000, now);
    expect(await store.put(schedule)).toBe(true);
    expect(await store.put(schedule)).toBe(false);
    expect(await store.cancel(schedule.id, now)).toBe('cancelled');
    expect(await store.cancel(newScheduleId(now + 60_000), now)).toBe('not-found');
  });
});
