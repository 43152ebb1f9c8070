import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidProducerBatchError,
  InvalidProducerEpochError,
  OutOfOrderSequenceError,
  TransactionalBatchNotSupportedError,
} from '../../../broker/replication/producer-errors.js';
import {
  type LeaderAppendCheck,
  lastSequenceOf,
  type ProducerBatchHeader,
  ProducerStateManager,
  withAssignedOffsets,
} from '../../../broker/replication/producer-state.js';
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  type ProducerEntry,
} from '../../../broker/replication/producer-state-snapshot.js';
import { errorCodeFor } from '../../../broker/server/error-mapping.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { TIMESTAMP_TYPE_BIT, TRANSACTIONAL_BIT } from '../../../protocol/record-batch/index.js';

const INT32_MAX = 0x7fffffff;

function batch(producerId: number, epoch: number, baseSequence: number, count = 1, attributes = 0) {
  return { producerId, producerEpoch: epoch, baseSequence, lastOffsetDelta: count - 1, attributes };
}

type ProduceResult = LeaderAppendCheck | { kind: 'appended'; firstOffset: number; lastOffset: number };

/** The leader's check, append, record cycle against a log that is just an offset counter. */
class FakeLeader {
  readonly state = new ProducerStateManager();
  leo = 0;

  produce(batches: ProducerBatchHeader[], logAppendTime = -1): ProduceResult {
    const check = this.state.checkLeaderAppend(batches);
    if (check.kind === 'duplicate') return check;
    const firstOffset = this.leo;
    const appended = withAssignedOffsets(
      batches.map((b) => ({ ...b, maxTimestamp: 1_000 })),
      firstOffset,
    );
    this.state.onAppended(appended, logAppendTime);
    for (const b of batches) this.leo += b.lastOffsetDelta + 1;
    return { kind: 'appended', firstOffset, lastOffset: this.leo - 1 };
  }
}

describe('ProducerStateManager leader checks', () => {
  it('accepts an unknown producer at any sequence and epoch, then requires the next sequence', () => {
    const leader = new FakeLeader();
    expect(leader.produce([batch(7, 3, 42, 2)])).toEqual({ kind: 'appended', firstOffset: 0, lastOffset: 1 });
    expect(leader.produce([batch(7, 3, 44, 3)])).toEqual({ kind: 'appended', firstOffset: 2, lastOffset: 4 });
    const error = captureError(() => leader.produce([batch(7, 3, 48)]));
    expect(error).toBeInstanceOf(OutOfOrderSequenceError);
    expect(error).toMatchObject({ producerId: 7, producerEpoch: 3, sequence: 48, expectedSequence: 47 });
    expect(leader.leo).toBe(5);
  });

  it('answers a retry of any of the last five batches with its original offsets', () => {
    const leader = new FakeLeader();
    const sent = [0, 2, 4, 6, 8, 10].map((seq) => {
      const result = leader.produce([batch(1, 0, seq, 2)]);
      return { seq, result };
    });
    for (const { seq, result } of sent.slice(1)) {
      const { firstOffset, lastOffset } = result as { firstOffset: number; lastOffset: number };
      expect(leader.produce([batch(1, 0, seq, 2)])).toEqual({
        kind: 'duplicate',
        firstOffset,
        lastOffset,
        logAppendTime: -1,
      });
    }
    // The sixth most recent batch is no longer cached: a retry that late is out of order.
    expect(() => leader.produce([batch(1, 0, 0, 2)])).toThrow(OutOfOrderSequenceError);
    // A batch with the same first sequence but a different length is not the same batch.
    expect(() => leader.produce([batch(1, 0, 10, 1)])).toThrow(OutOfOrderSequenceError);
    expect(leader.leo).toBe(12);
  });

  it('reports the original append time for duplicates on LogAppendTime topics', () => {
    const leader = new FakeLeader();
    leader.produce([batch(1, 0, 0)], 5_000);
    expect(leader.produce([batch(1, 0, 0)])).toMatchObject({ kind: 'duplicate', logAppendTime: 5_000 });
    // Followers and replay learn the append time from the batch's timestamp-type bit.
    const follower = new ProducerStateManager();
    follower.onAppended([
      { ...batch(1, 0, 0, 1, TIMESTAMP_TYPE_BIT), baseOffset: 0, maxTimestamp: 5_000 },
      { ...batch(2, 0, 0), baseOffset: 1, maxTimestamp: 6_000 },
    ]);
    expect(follower.checkLeaderAppend([batch(1, 0, 0)])).toMatchObject({ logAppendTime: 5_000 });
    expect(follower.checkLeaderAppend([batch(2, 0, 0)])).toMatchObject({ logAppendTime: -1 });
  });

  it('requires a new epoch to start at 0 and fences older epochs', () => {
    const leader = new FakeLeader();
    leader.produce([batch(1, 0, 0, 5)]);
    expect(captureError(() => leader.produce([batch(1, 1, 5)]))).toMatchObject({
      name: 'OutOfOrderSequenceError',
      expectedSequence: 0,
    });
    leader.produce([batch(1, 1, 0, 2)]);
    expect(leader.state.entry(1)).toMatchObject({ producerEpoch: 1, batches: [{ firstSeq: 0, lastSeq: 1 }] });
    // A retry from the old epoch, even of a batch that was appended, is now fenced.
    const fenced = captureError(() => leader.produce([batch(1, 0, 0, 5)]));
    expect(fenced).toBeInstanceOf(InvalidProducerEpochError);
    expect(fenced).toMatchObject({ producerId: 1, producerEpoch: 0, currentEpoch: 1 });
    expect(leader.produce([batch(1, 1, 2)])).toMatchObject({ kind: 'appended' });
  });

  it('checks several batches of one request as a chain, per producer', () => {
    const leader = new FakeLeader();
    leader.produce([batch(1, 0, 0, 2)]);
    expect(
      leader.produce([
        batch(1, 0, 2, 3),
        batch(2, 0, 9),
        batch(1, 0, 5, 1),
        batch(-1, -1, -1, 4),
        batch(2, 0, 10),
      ]),
    ).toEqual({ kind: 'appended', firstOffset: 2, lastOffset: 11 });
    expect(leader.state.entry(1)?.batches.map((b) => [b.firstSeq, b.lastSeq])).toEqual([
      [0, 1],
      [2, 4],
      [5, 5],
    ]);
    // A gap inside the request rejects the whole request, before anything changes.
    expect(() => leader.produce([batch(1, 0, 6), batch(1, 0, 8)])).toThrow(OutOfOrderSequenceError);
    // The same batch twice in one request is a gap too, not a duplicate.
    expect(() => leader.produce([batch(1, 0, 6), batch(1, 0, 6)])).toThrow(OutOfOrderSequenceError);
    // An epoch bump may happen mid-request, but must then start at 0.
    expect(leader.produce([batch(1, 0, 6), batch(1, 1, 0)])).toMatchObject({ kind: 'appended' });
    expect(() => leader.produce([batch(1, 1, 1), batch(1, 0, 2)])).toThrow(InvalidProducerEpochError);
    expect(leader.leo).toBe(14);
  });

  it('answers a request of only duplicates with the whole range, and rejects a mix with new batches', () => {
    const leader = new FakeLeader();
    leader.produce([batch(1, 0, 0, 2), batch(2, 0, 0, 3)]);
    leader.produce([batch(1, 0, 2, 2)]);
    expect(leader.produce([batch(1, 0, 0, 2), batch(2, 0, 0, 3)])).toEqual({
      kind: 'duplicate',
      firstOffset: 0,
      lastOffset: 4,
      logAppendTime: -1,
    });
    const mixed = captureError(() => leader.produce([batch(1, 0, 2, 2), batch(1, 0, 4)]));
    expect(mixed).toBeInstanceOf(OutOfOrderSequenceError);
    expect(mixed).toMatchObject({ expectedSequence: null });
    expect(() => leader.produce([batch(1, 0, 2, 2), batch(-1, -1, -1)])).toThrow(OutOfOrderSequenceError);
    expect(leader.leo).toBe(7);
  });

  it('wraps sequences from Int32 max to 0', () => {
    expect(lastSequenceOf(INT32_MAX - 1, 2)).toBe(0);
    expect(lastSequenceOf(INT32_MAX, 0)).toBe(INT32_MAX);
    const leader = new FakeLeader();
    // Sequences INT32_MAX - 1, INT32_MAX, 0.
    leader.produce([batch(1, 0, INT32_MAX - 1, 3)]);
    expect(leader.state.entry(1)?.batches[0]).toMatchObject({ firstSeq: INT32_MAX - 1, lastSeq: 0 });
    expect(captureError(() => leader.produce([batch(1, 0, 2)]))).toMatchObject({ expectedSequence: 1 });
    expect(leader.produce([batch(1, 0, 1)])).toMatchObject({ kind: 'appended' });
    expect(leader.produce([batch(1, 0, INT32_MAX - 1, 3)])).toMatchObject({
      kind: 'duplicate',
      firstOffset: 0,
    });

    const edge = new FakeLeader();
    edge.produce([batch(2, 0, INT32_MAX)]);
    expect(captureError(() => edge.produce([batch(2, 0, 1)]))).toMatchObject({ expectedSequence: 0 });
    expect(edge.produce([batch(2, 0, 0)])).toMatchObject({ kind: 'appended' });
  });

  it('rejects transactional batches and idempotent batches without an epoch or sequence', () => {
    const leader = new FakeLeader();
    const txn = captureError(() => leader.produce([batch(1, 0, 0, 1, TRANSACTIONAL_BIT)]));
    expect(txn).toBeInstanceOf(TransactionalBatchNotSupportedError);
    expect(txn).toMatchObject({ producerId: 1 });
    expect(() => leader.produce([batch(1, 0, -1)])).toThrow(InvalidProducerBatchError);
    expect(() => leader.produce([batch(1, -1, 0)])).toThrow(InvalidProducerBatchError);
    expect(leader.produce([batch(-1, -1, -1, 3)])).toMatchObject({ kind: 'appended' });
    expect(leader.state.producerCount).toBe(0);
  });

  it('maps its errors to Kafka error codes', () => {
    expect(errorCodeFor(new OutOfOrderSequenceError(1, 0, 5, 3))).toBe(
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    expect(errorCodeFor(new InvalidProducerEpochError(1, 0, 1))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(errorCodeFor(new TransactionalBatchNotSupportedError(1))).toBe(ErrorCode.INVALID_RECORD);
    expect(errorCodeFor(new InvalidProducerBatchError('bad', 1))).toBe(ErrorCode.INVALID_RECORD);
  });

  it('expires producers idle for producerIdExpirationMs', () => {
    const state = new ProducerStateManager({ producerIdExpirationMs: 1_000 });
    state.onAppended([
      { ...batch(1, 0, 0), baseOffset: 0, maxTimestamp: 10_000 },
      { ...batch(2, 0, 0), baseOffset: 1, maxTimestamp: 10_500 },
      // An older timestamp from the same producer does not make it look idle.
      { ...batch(2, 0, 1), baseOffset: 2, maxTimestamp: 9_000 },
    ]);
    expect(state.removeExpiredProducers(10_999)).toBe(0);
    expect(state.removeExpiredProducers(11_000)).toBe(1);
    expect(state.entry(1)).toBeUndefined();
    expect(state.entry(2)?.lastTimestamp).toBe(10_500);
  });
});

describe('ProducerStateManager under random sends and retries', () => {
  type Action =
    | { type: 'send'; requests: Array<{ p: number; count: number }> }
    | { type: 'retry'; p: number; back: number }
    | { type: 'gap'; p: number; skip: number }
    | { type: 'bump'; p: number }
    | { type: 'stale-epoch'; p: number };
  const PRODUCERS = 3;
  const producerArb = fc.integer({ min: 0, max: PRODUCERS - 1 });
  const actionArb: fc.Arbitrary<Action> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .array(
          fc.record({
            p: fc.integer({ min: -1, max: PRODUCERS - 1 }),
            count: fc.integer({ min: 1, max: 4 }),
          }),
          {
            minLength: 1,
            maxLength: 3,
          },
        )
        .map((requests) => ({ type: 'send' as const, requests })),
    },
    {
      weight: 4,
      arbitrary: fc.record({ type: fc.constant('retry' as const), p: producerArb, back: fc.nat(7) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant('gap' as const),
        p: producerArb,
        skip: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('bump' as const), p: producerArb }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('stale-epoch' as const), p: producerArb }) },
  );
  // Unknown producers may start anywhere, so some start just below the wrap point.
  const startArb = fc.oneof(fc.constant(0), fc.integer({ min: INT32_MAX - 6, max: INT32_MAX }), fc.nat(1000));

  interface Sent {
    seq: number;
    count: number;
    firstOffset: number;
    lastOffset: number;
  }
  interface ClientModel {
    epoch: number;
    nextSeq: number;
    /** Batches acknowledged in the current epoch, oldest first. */
    acked: Sent[];
    /** The partition has seen a batch of the current epoch. */
    brokerKnowsEpoch: boolean;
  }

  it('accepts every in-order batch once, answers retries as duplicates and never appends one twice', () => {
    fc.assert(
      fc.property(
        fc.array(startArb, { minLength: PRODUCERS, maxLength: PRODUCERS }),
        fc.array(actionArb, { maxLength: 80, size: 'max' }),
        (starts, actions) => {
          const leader = new FakeLeader();
          const clients: ClientModel[] = starts.map((nextSeq) => ({
            epoch: 0,
            nextSeq,
            acked: [],
            brokerKnowsEpoch: false,
          }));
          // Every appended (producer, epoch, sequence), to prove nothing is appended twice.
          const appendedSeqs = new Set<string>();
          const known = (p: number) => leader.state.entry(p) !== undefined;

          for (const action of actions) {
            if (action.type === 'send') {
              const headers: ProducerBatchHeader[] = [];
              const planned: Array<{ p: number; seq: number; count: number }> = [];
              const next = clients.map((c) => c.nextSeq);
              for (const { p, count } of action.requests) {
                if (p < 0) {
                  headers.push(batch(-1, -1, -1, count));
                  continue;
                }
                headers.push(batch(p, clients[p]!.epoch, next[p]!, count));
                planned.push({ p, seq: next[p]!, count });
                next[p] = (lastSequenceOf(next[p]!, count - 1) + 1) % (INT32_MAX + 1);
              }
              const result = leader.produce(headers);
              expect(result.kind).toBe('appended');
              let offset = (result as { firstOffset: number }).firstOffset;
              let plannedIndex = 0;
              for (const { p, count } of action.requests) {
                if (p >= 0) {
                  const { seq } = planned[plannedIndex++]!;
                  const client = clients[p]!;
                  client.acked.push({ seq, count, firstOffset: offset, lastOffset: offset + count - 1 });
                  client.brokerKnowsEpoch = true;
                  for (let i = 0; i < count; i++) {
                    const key = `${p}/${client.epoch}/${lastSequenceOf(seq, i)}`;
                    expect(appendedSeqs.has(key)).toBe(false);
                    appendedSeqs.add(key);
                  }
                }
                offset += count;
              }
              clients.forEach((c, p) => {
                c.nextSeq = next[p]!;
              });
            } else if (action.type === 'retry') {
              const client = clients[action.p]!;
              const sent = client.acked[client.acked.length - 1 - action.back];
              if (!sent) continue;
              const retry = () => leader.produce([batch(action.p, client.epoch, sent.seq, sent.count)]);
              if (action.back < 5) {
                expect(retry()).toEqual({
                  kind: 'duplicate',
                  firstOffset: sent.firstOffset,
                  lastOffset: sent.lastOffset,
                  logAppendTime: -1,
                });
              } else {
                expect(retry).toThrow(OutOfOrderSequenceError);
              }
            } else if (action.type === 'gap') {
              const client = clients[action.p]!;
              if (!known(action.p)) continue;
              const seq = (client.nextSeq + action.skip) % (INT32_MAX + 1);
              expect(() => leader.produce([batch(action.p, client.epoch, seq)])).toThrow(
                OutOfOrderSequenceError,
              );
            } else if (action.type === 'bump') {
              const client = clients[action.p]!;
              if (!client.brokerKnowsEpoch) continue;
              clients[action.p] = { epoch: client.epoch + 1, nextSeq: 0, acked: [], brokerKnowsEpoch: false };
            } else {
              const client = clients[action.p]!;
              if (client.epoch === 0 || !client.brokerKnowsEpoch) continue;
              expect(() => leader.produce([batch(action.p, client.epoch - 1, 0)])).toThrow(
                InvalidProducerEpochError,
              );
            }
          }

          // Whatever the state is, a snapshot of it decodes to the same state.
          const entries = [...Array(PRODUCERS).keys()]
            .map((p) => leader.state.entry(p))
            .filter((e): e is ProducerEntry => e !== undefined);
          expect(
            decodeProducerSnapshot(encodeProducerSnapshot(leader.leo, entries), 'mem', leader.leo),
          ).toEqual(entries);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
