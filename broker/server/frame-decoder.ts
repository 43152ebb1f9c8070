/**
 * Splits a TCP byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes.
 * Pure and synchronous; the connection feeds it chunks and acts on what it returns.
 */
export type FrameEvent = { kind: 'frame'; frame: Buffer } | { kind: 'invalid-size'; size: number };

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk and returns every complete frame now available, or an invalid-size event. */
  push(chunk: Buffer): FrameEvent[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const events: FrameEvent[] = [];
    while (this.buffered >= 4) {
      const size = this.peekSize();
      if (size < 0 || size > this.maxFrameBytes) {
        events.push({ kind: 'invalid-size', size });
        this.chunks = [];
        this.buffered = 0;
        break;
      }
      if (this.buffered < 4 + size) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      events.push({ kind: 'frame', frame: all.subarray(4, 4 + size) });
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return events;
  }

  private peekSize(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, this.buffered).readInt32BE(0);
  }
}
