import { readFileIfExists, writeFileAtomically } from './checkpoint-file.js';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

/**
 * The leader-epoch cache of one partition: for each leader epoch, the first offset written in it,
 * persisted as `leader-epoch-checkpoint` in Kafka's text layout (version, count, "epoch offset"
 * lines). Followers use it to find where their log diverged from the leader's (KIP-101/KIP-279).
 *
 * Invariant: epochs and start offsets are both strictly increasing.
 */
export class LeaderEpochCheckpoint {
  private entries: EpochEntry[] = [];

  private constructor(readonly path: string) {}

  static async load(path: string): Promise<LeaderEpochCheckpoint> {
    const checkpoint = new LeaderEpochCheckpoint(path);
    const text = await readFileIfExists(path);
    if (text !== null) checkpoint.entries = parse(text);
    return checkpoint;
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  get latest(): EpochEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  /**
   * Records that `epoch` starts at `startOffset`. Returns true if the cache changed (and must be
   * persisted). An epoch at or below the latest is ignored: batches of an older epoch never start
   * a new range.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    const latest = this.latest;
    if (latest && epoch <= latest.epoch) return false;
    // A new epoch starting at or below the previous start replaces entries it overlaps.
    this.entries = this.entries.filter((entry) => entry.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /**
   * The end offset of `epoch`: the start offset of the next higher epoch, or `logEndOffset` when
   * `epoch` is the latest. Returns the largest known epoch <= the requested one, as Kafka's
   * OffsetForLeaderEpoch does, or undefined when the epoch predates the cache.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } | undefined {
    let found = -1;
    for (let i = 0; i < this.entries.length; i++) {
      if (this.entries[i]!.epoch <= epoch) found = i;
    }
    if (found < 0) return undefined;
    const next = this.entries[found + 1];
    return { epoch: this.entries[found]!.epoch, endOffset: next ? next.startOffset : logEndOffset };
  }

  /** After truncating the log to `endOffset`, forget epochs that start at or after it. */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((entry) => entry.startOffset < endOffset);
    return this.entries.length !== before;
  }

  /** After the log start moves to `startOffset`, clamp the earliest surviving epoch to start there. */
  truncateFromStart(startOffset: number): boolean {
    let changed = false;
    while (this.entries.length > 1 && this.entries[1]!.startOffset <= startOffset) {
      this.entries.shift();
      changed = true;
    }
    const first = this.entries[0];
    if (first && first.startOffset < startOffset) {
      first.startOffset = startOffset;
      changed = true;
    }
    return changed;
  }

  persist(): Promise<void> {
    const lines = [
      '0',
      String(this.entries.length),
      ...this.entries.map((e) => `${e.epoch} ${e.startOffset}`),
    ];
    return writeFileAtomically(this.path, `${lines.join('\n')}\n`);
  }
}

function parse(text: string): EpochEntry[] {
  const lines = text.trim().split('\n');
  if (lines[0] !== '0') return [];
  const count = Number(lines[1]);
  const entries: EpochEntry[] = [];
  for (let i = 0; i < count; i++) {
    const [epoch, startOffset] = (lines[2 + i] ?? '').split(' ').map(Number);
    if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset)) return [];
    entries.push({ epoch: epoch!, startOffset: startOffset! });
  }
  return entries;
}
