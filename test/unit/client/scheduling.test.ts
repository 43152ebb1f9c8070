import { describe, expect, it } from 'vitest';
import { scheduledRecord } from '../../../client/producer/scheduling.js';
import { parseScheduleId, SCHEDULE_HEADERS } from '../../../protocol/schedules.js';

describe('scheduledRecord', () => {
  it('names a schedule due at the requested time and replaces any old schedule headers', () => {
    const now = 1_700_000_000_000;
    const old = [
      { key: 'app', value: Buffer.from('x') },
      { key: SCHEDULE_HEADERS.id, value: Buffer.from('0000000aa-01-oldoldold') },
      { key: SCHEDULE_HEADERS.deliverAt, value: Buffer.from('1') },
    ];
    const { scheduleId, headers } = scheduledRecord('orders', { deliverAfterMs: 5000 }, old, undefined, now);
    expect(parseScheduleId(scheduleId).dueAt).toBe(now + 5000);
    expect(headers.filter((h) => h.key === SCHEDULE_HEADERS.id).map((h) => h.value?.toString())).toEqual([
      scheduleId,
    ]);
    expect(
      headers.filter((h) => h.key === SCHEDULE_HEADERS.deliverAt).map((h) => h.value?.toString()),
    ).toEqual([String(now + 5000)]);
    expect(headers.find((h) => h.key === 'app')?.value?.toString()).toBe('x');
    expect(headers.find((h) => h.key === SCHEDULE_HEADERS.topic)?.value?.toString()).toBe('orders');
  });

  it('refuses both or neither of the times, negative delays and delays beyond a year', () => {
    expect(() => scheduledRecord('t', {}, [], undefined)).toThrow(/one of/);
    expect(() => scheduledRecord('t', { deliverAfterMs: 1, deliverAt: 2 }, [], undefined)).toThrow(/one of/);
    expect(() => scheduledRecord('t', { deliverAfterMs: -1 }, [], undefined)).toThrow(/negative/);
    expect(() => scheduledRecord('t', { deliverAfterMs: 366 * 24 * 3600 * 1000 }, [], undefined)).toThrow(
      /at most/,
    );
  });
});
