/**
 * Which broker coordinates a consumer group: rendezvous (highest-random-weight) hashing. Every
 * live broker gets a pseudo-random weight for the key, hash(`${key}#${brokerId}`), and the heaviest
 * wins. A broker's weight for a key does not depend on which other brokers are live, so:
 * - every broker holding the same live set computes the same coordinator, with no coordination;
 * - when a broker leaves, only the keys it won move (each to its runner-up); when one joins, only
 *   the keys it now wins move (to it). That is ~1/n of the keys either way.
 *
 * The hash is part of the cluster's contract: brokers running different builds must agree on it,
 * so it must never change without a cluster-wide migration. It is 32-bit FNV-1a over the UTF-8
 * bytes of the string (lone surrogates encoded as U+FFFD, as TextEncoder does), followed by
 * MurmurHash3's fmix32 finalizer: FNV-1a alone mixes its last input bytes poorly, and here the
 * inputs differ exactly there, in the broker id.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvByte(h: number, byte: number): number {
  return Math.imul(h ^ byte, FNV_PRIME);
}

/** Feeds the UTF-8 encoding of `text` into an FNV-1a state, without allocating the bytes. */
function fnv1a(state: number, text: string): number {
  let h = state;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      h = fnvByte(h, cp);
      continue;
    }
    if (cp < 0x800) {
      h = fnvByte(fnvByte(h, 0xc0 | (cp >>> 6)), 0x80 | (cp & 0x3f));
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const low = text.charCodeAt(i + 1);
      if (cp <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
        h = fnvByte(h, 0xf0 | (cp >>> 18));
        h = fnvByte(h, 0x80 | ((cp >>> 12) & 0x3f));
        h = fnvByte(h, 0x80 | ((cp >>> 6) & 0x3f));
        h = fnvByte(h, 0x80 | (cp & 0x3f));
        continue;
      }
      cp = 0xfffd;
    }
    h = fnvByte(h, 0xe0 | (cp >>> 12));
    h = fnvByte(h, 0x80 | ((cp >>> 6) & 0x3f));
    h = fnvByte(h, 0x80 | (cp & 0x3f));
  }
  return h;
}

/** MurmurHash3's finalizer: every input bit affects every output bit (avalanche). Unsigned result. */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The weight of `brokerId` for `key`: hash(`${key}#${brokerId}`) as an unsigned 32-bit integer. */
export function placementWeight(key: string, brokerId: number): number {
  return fmix32(fnv1a(fnv1a(FNV_OFFSET_BASIS, `${key}#`), String(brokerId)));
}

/**
 * The broker among `liveBrokerIds` that coordinates `groupKey`, or undefined when none is live.
 * Depends only on the set of ids (not their order, nor duplicates). Equal weights, vanishingly
 * rare, go to the lower broker id so the answer stays deterministic.
 */
export function coordinatorFor(groupKey: string, liveBrokerIds: readonly number[]): number | undefined {
  // The key's prefix is hashed once; FNV is a stream, so each broker only adds its own suffix.
  const prefix = fnv1a(FNV_OFFSET_BASIS, `${groupKey}#`);
  let best: number | undefined;
  let bestWeight = -1;
  for (const id of liveBrokerIds) {
    const weight = fmix32(fnv1a(prefix, String(id)));
    if (weight > bestWeight || (weight === bestWeight && id < best!)) {
      best = id;
      bestWeight = weight;
    }
  }
  return best;
}
