import { describe, expect, it } from 'vitest';
import { coordinatorFor, placementWeight } from '../../../broker/cluster/group-placement.js';

const keys = (count: number, prefix = 'group-') => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** The documented hash, written the slow and obvious way. */
function reference(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function countsBy(assigned: readonly (number | undefined)[]): Map<number | undefined, number> {
  const counts = new Map<number | undefined, number>();
  for (const id of assigned) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

describe('coordinatorFor (rendezvous hashing)', () => {
  it('has no coordinator without live brokers, and the only one when there is one', () => {
    expect(coordinatorFor('g', [])).toBeUndefined();
    expect(coordinatorFor('g', [5])).toBe(5);
    expect(coordinatorFor('', [5])).toBe(5);
  });

  it('is deterministic and depends only on the set of broker ids', () => {
    for (const key of keys(200)) {
      const answer = coordinatorFor(key, [1, 2, 3, 4]);
      expect(coordinatorFor(key, [1, 2, 3, 4])).toBe(answer);
      expect(coordinatorFor(key, [4, 2, 3, 1])).toBe(answer);
      expect(coordinatorFor(key, [3, 3, 1, 4, 2, 1])).toBe(answer);
    }
  });

  it('picks the broker with the highest weight for the key', () => {
    const brokers = [0, 1, 2, 7, 42];
    for (const key of keys(200, 'weighted-')) {
      const heaviest = [...brokers].sort((a, b) => placementWeight(key, b) - placementWeight(key, a))[0];
      expect(coordinatorFor(key, brokers)).toBe(heaviest);
    }
  });

  it('hashes as documented: FNV-1a over the UTF-8 bytes, then fmix32', () => {
    for (const key of ['orders', '', 'grüße', '日本', '😀x', '\ud800x', 'a\udc00', 'x\ud83d']) {
      for (const id of [0, 1, 17, 1000]) expect(placementWeight(key, id)).toBe(reference(`${key}#${id}`));
    }
  });

  it('is pinned: brokers of every build must agree on it', () => {
    // Changing these values means changing the hash, which moves groups between brokers that then
    // disagree on where they live: a cluster-wide migration, never a refactoring.
    expect([placementWeight('orders', 0), placementWeight('orders', 1), placementWeight('', 2)]).toEqual([
      679517595, 1335577245, 681746955,
    ]);
    expect(keys(8).map((k) => coordinatorFor(k, [0, 1, 2]))).toEqual([1, 0, 1, 0, 2, 2, 1, 1]);
  });

  it.each([
    ['0, 1, 2', [0, 1, 2], 'group-'],
    ['1, 2, 3', [1, 2, 3], 'group-'],
    ['1, 2, 3 with uuid-like keys', [1, 2, 3], 'consumer-3f9c1a2e-'],
  ])('spreads 3000 groups evenly over brokers %s', (_name, brokers, prefix) => {
    const counts = countsBy(keys(3000, prefix).map((k) => coordinatorFor(k, brokers)));
    expect([...counts.keys()].sort()).toEqual(brokers);
    // Expected 1000 each, standard deviation ~26: ±100 is a ~4-sigma band.
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(100);
  });

  it('moves only the removed broker’s groups when a broker leaves, spreading them over the rest', () => {
    const all = keys(3000);
    const before = all.map((k) => coordinatorFor(k, [1, 2, 3, 4]));
    for (const removed of [1, 2, 3, 4]) {
      const remaining = [1, 2, 3, 4].filter((id) => id !== removed);
      const after = all.map((k) => coordinatorFor(k, remaining));
      const movedTo: number[] = [];
      all.forEach((_, i) => {
        if (before[i] === removed) movedTo.push(after[i]!);
        else expect(after[i]).toBe(before[i]);
      });
      // Each of the removed broker's ~750 groups goes to its runner-up, so all survivors share them.
      const shares = countsBy(movedTo);
      expect([...shares.keys()].sort()).toEqual(remaining);
      for (const share of shares.values()) expect(share).toBeGreaterThan(movedTo.length / 3 - 80);
    }
  });

  it('moves only the groups the new broker wins when a broker joins', () => {
    const all = keys(3000);
    const before = all.map((k) => coordinatorFor(k, [1, 2, 3]));
    const after = all.map((k) => coordinatorFor(k, [1, 2, 3, 4]));
    let moved = 0;
    all.forEach((_, i) => {
      if (after[i] !== before[i]) {
        moved++;
        expect(after[i]).toBe(4);
      }
    });
    // ~1/4 of the groups: 750 ± 4 sigma.
    expect(Math.abs(moved - 750)).toBeLessThan(100);
  });
});
