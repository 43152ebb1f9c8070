import { describe, expect, it } from 'vitest';
import { type CheckInput, check } from './checker.js';
import { compareToLeader, type LogBatch, type ReplicaLog } from './replica-logs.js';

/** The chaos checker must notice each kind of violation it claims to check, on synthetic histories. */

const log = (values: string[]) => values.map((value, offset) => ({ offset, value, leaderEpoch: 0 }));

function input(overrides: Partial<CheckInput>): CheckInput {
  return {
    partitions: 1,
    acked: [
      { id: 'p0.0:0', partition: 0, offset: 0, ackedAt: 0 },
      { id: 'p0.0:1', partition: 0, offset: 1, ackedAt: 0 },
    ],
    indeterminate: [],
    seen: [],
    finalLogs: [log(['p0.0:0', 'p0.0:1'])],
    replicas: [[]],
    ...overrides,
  };
}

describe('chaos checker', () => {
  it('passes a clean history', () => {
    const r = check(
      input({
        seen: [{ consumer: 'c', partition: 0, offset: 1, value: 'p0.0:1' }],
        finalLogs: [log(['p0.0:0', 'p0.0:1', 'p0.1:0'])],
      }),
    );
    expect(r).toMatchObject({
      lost: 0,
      duplicates: 0,
      outOfOrder: 0,
      offsetMismatches: 0,
      consumerSawLost: 0,
      foreign: 0,
    });
  });

  it('finds lost, duplicated, moved, reordered and foreign records', () => {
    expect(check(input({ finalLogs: [log(['p0.0:0'])] })).lost).toBe(1);
    expect(check(input({ finalLogs: [log(['p0.0:0', 'p0.0:1', 'p0.0:1'])] })).duplicates).toBe(1);
    expect(check(input({ finalLogs: [log(['p0.0:1', 'p0.0:0'])] }))).toMatchObject({
      offsetMismatches: 2,
      outOfOrder: 1,
    });
    expect(check(input({ finalLogs: [log(['p0.0:0', 'p0.0:1', 'junk'])] })).foreign).toBe(1);
  });

  it('finds records consumers saw that are gone or changed', () => {
    const r = check(
      input({
        seen: [
          { consumer: 'c', partition: 0, offset: 2, value: 'p0.0:2' },
          { consumer: 'c', partition: 0, offset: 1, value: 'p0.0:9' },
        ],
      }),
    );
    expect(r.consumerSawLost).toBe(2);
  });

  it('compares replica logs batch by batch', () => {
    const b = (baseOffset: number, lastOffset: number, crc: number): LogBatch => ({
      baseOffset,
      lastOffset,
      leaderEpoch: 0,
      crc,
    });
    const replica = (broker: number, batches: LogBatch[]): ReplicaLog => ({
      broker,
      batches,
      endOffset: batches.length ? batches[batches.length - 1]!.lastOffset + 1 : 0,
      problems: [],
    });
    const leader = replica(0, [b(0, 4, 1), b(5, 9, 2)]);
    expect(compareToLeader(leader, replica(1, [b(0, 4, 1), b(5, 9, 2)]))).toMatchObject({
      prefix: true,
      equal: true,
    });
    expect(compareToLeader(leader, replica(1, [b(0, 4, 1)]))).toMatchObject({ prefix: true, equal: false });
    expect(compareToLeader(leader, replica(1, [b(0, 4, 1), b(5, 9, 3)]))).toMatchObject({ prefix: false });
    expect(compareToLeader(leader, replica(1, [b(0, 4, 1), b(5, 9, 2), b(10, 10, 4)]))).toMatchObject({
      prefix: false,
    });
  });
});
