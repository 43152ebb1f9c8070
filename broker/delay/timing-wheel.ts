/**
 * A hierarchical timing wheel (Varghese & Lauck; Kafka's purgatory): O(1) insertion and expiry for
 * many timers, with `tickMs` resolution. Level i has `wheelSize` slots of tickMs * wheelSize^i ms;
 * a timer goes to the lowest level whose span covers its delay, and moves down a level ("cascades")
 * when the level above reaches its slot. Timers beyond the top level wait in an overflow list.
 *
 * Pure: time only moves through `advance(now)`, so tests drive it with any clock.
 *
 * Invariants: every added item is returned by `advance` exactly once (unless removed), never
 * before its due time, and at most one tick after the first `advance` at or past it.
 */
export class TimingWheel<T> {
  /** levels[i][slot] holds [dueAt, item] entries. */
  private readonly levels: [number, T][][][];
  private readonly overflow: [number, T][] = [];
  private readonly ready: [number, T][] = [];
  /** Start of the current level-0 tick; everything due before it has been returned. */
  private current: number;
  private count = 0;

  constructor(
    startMs: number,
    private readonly tickMs = 10,
    private readonly wheelSize = 64,
    levelCount = 4,
  ) {
    this.current = Math.floor(startMs / tickMs) * tickMs;
    this.levels = Array.from({ length: levelCount }, () => Array.from({ length: wheelSize }, () => []));
  }

  get size(): number {
    return this.count;
  }

  /** The span of level `level`'s slots. */
  private span(level: number): number {
    return this.tickMs * this.wheelSize ** level;
  }

  add(dueAt: number, item: T): void {
    this.count++;
    this.place([dueAt, item]);
  }

  private place(entry: [number, T]): void {
    const [dueAt] = entry;
    if (dueAt < this.current + this.tickMs) {
      this.ready.push(entry);
      return;
    }
    for (let level = 0; level < this.levels.length; level++) {
      const slotSpan = this.span(level);
      // The level covers [start of the current slot, + wheelSize slots).
      const levelStart = Math.floor(this.current / slotSpan) * slotSpan;
      if (dueAt < levelStart + slotSpan * this.wheelSize) {
        this.levels[level]![Math.floor(dueAt / slotSpan) % this.wheelSize]!.push(entry);
        return;
      }
    }
    this.overflow.push(entry);
  }

  /** Removes the first entry whose item satisfies `match`; true if one was found. */
  remove(match: (item: T) => boolean): boolean {
    for (const list of [this.ready, this.overflow, ...this.levels.flat()]) {
      const index = list.findIndex(([, item]) => match(item));
      if (index >= 0) {
        list.splice(index, 1);
        this.count--;
        return true;
      }
    }
    return false;
  }

  /** Moves time to `now` and returns every item due by then, in due order. */
  advance(now: number): T[] {
    const due: [number, T][] = [];
    const take = (entry: [number, T]) => {
      if (entry[0] <= now) due.push(entry);
      else this.place(entry);
    };
    for (const entry of this.ready.splice(0)) take(entry);
    const target = Math.floor(now / this.tickMs) * this.tickMs;
    while (this.current < target) {
      // Jump straight to the next slot boundary that has work: empty stretches cost nothing.
      const next = this.nextBoundary();
      if (next === undefined || next > target) {
        this.current = target;
        break;
      }
      this.current = next;
      // Entering a new slot at a higher level: its timers move down, where they now fit.
      if (this.current % this.span(this.levels.length) === 0) {
        for (const entry of this.overflow.splice(0)) take(entry);
      }
      for (let level = this.levels.length - 1; level >= 1; level--) {
        if (this.current % this.span(level) === 0) {
          const slot = this.levels[level]![Math.floor(this.current / this.span(level)) % this.wheelSize]!;
          for (const entry of slot.splice(0)) take(entry);
        }
      }
      const slot = this.levels[0]![Math.floor(this.current / this.tickMs) % this.wheelSize]!;
      for (const entry of slot.splice(0)) take(entry);
    }
    // The current tick's slot may hold entries due within it.
    const slot = this.levels[0]![Math.floor(this.current / this.tickMs) % this.wheelSize]!;
    for (const entry of slot.splice(0)) take(entry);
    for (const entry of this.ready.splice(0)) take(entry);
    this.count -= due.length;
    return due.sort((a, b) => a[0] - b[0]).map(([, item]) => item);
  }

  /** The start of the next slot, at any level, that holds timers (or of the overflow's turn). */
  private nextBoundary(): number | undefined {
    let next: number | undefined;
    for (let level = 0; level < this.levels.length; level++) {
      const span = this.span(level);
      const first = Math.floor(this.current / span) + 1;
      for (let k = first; k < first + this.wheelSize; k++) {
        if (this.levels[level]![k % this.wheelSize]!.length > 0) {
          if (next === undefined || k * span < next) next = k * span;
          break;
        }
      }
    }
    if (this.overflow.length > 0) {
      const top = this.span(this.levels.length);
      const boundary = (Math.floor(this.current / top) + 1) * top;
      if (next === undefined || boundary < next) next = boundary;
    }
    return next;
  }

  /** When the next item could be due (for the driver's timer): the next tick while any is waiting. */
  nextWakeup(): number | undefined {
    if (this.count === 0) return undefined;
    return this.ready.length > 0 ? this.current : this.current + this.tickMs;
  }
}
