/**
 * A one-line progress display on stderr: redrawn in place (at most 10 times a second) on a
 * terminal, a plain line every second otherwise (when progress was asked for with --progress).
 */

const MIB = 1024 * 1024;

export interface ProgressFigures {
  bytesDone: number;
  totalBytes: number;
  records: number;
  elapsedMs: number;
}

/** `[#######.............]  35.2%  12.3/35.0 MiB  120000 records  8.1 MiB/s  ETA 3s` */
export function formatProgress(p: ProgressFigures, barWidth = 24): string {
  const fraction = p.totalBytes > 0 ? Math.min(1, p.bytesDone / p.totalBytes) : 0;
  const filled = Math.round(fraction * barWidth);
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.bytesDone / MIB / seconds : 0;
  const remaining = (p.totalBytes - p.bytesDone) / MIB;
  const eta = rate > 0 && remaining > 0 ? ` ETA ${formatDuration(remaining / rate)}` : '';
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
    `${(p.bytesDone / MIB).toFixed(1)}/${(p.totalBytes / MIB).toFixed(1)} MiB  ${p.records} records  ` +
    `${rate.toFixed(1)} MiB/s${eta}`
  );
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly interactive = stream.isTTY === true,
  ) {}

  /** Shows `text` unless the last update was too recent (`force` draws anyway). */
  update(text: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < (this.interactive ? 100 : 1000)) return;
    this.lastDraw = now;
    if (this.interactive) {
      this.stream.write(`\r\x1b[K${text}`);
      this.drawn = true;
    } else this.stream.write(`${text}\n`);
  }

  /** Ends the in-place line, so what is written next starts on a line of its own. */
  end(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
