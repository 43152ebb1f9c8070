/**
 * Lines of a byte stream as records for `spool produce`. Works on bytes, so keys and values go to
 * the broker exactly as they are in the input (no decoding), and pulls chunks only as fast as the
 * consumer of the generator asks for lines: backpressure reaches the file or pipe.
 */
import { CliError } from './common.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Each line of `source`, without its `\n` (or `\r\n`). A last line without a newline counts; the
 * empty remainder after a final newline does not. Lines are copies, not views of the chunks.
 */
export async function* readLines(source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let partial: Buffer[] = [];
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let nl = bytes.indexOf(LF, start); nl >= 0; nl = bytes.indexOf(LF, start)) {
      const piece = bytes.subarray(start, nl);
      const line = partial.length === 0 ? Buffer.from(piece) : Buffer.concat([...partial, piece]);
      partial = [];
      start = nl + 1;
      yield withoutCr(line);
    }
    if (start < bytes.length) partial.push(Buffer.from(bytes.subarray(start)));
  }
  if (partial.length > 0) yield withoutCr(Buffer.concat(partial));
}

function withoutCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

export interface LineRecord {
  key: Buffer | null;
  value: Buffer;
}

/**
 * Splits `line` at the first `separator` into key and value. Without a separator the whole line
 * is the value; with one that the line lacks, the result is `undefined` (the caller decides
 * whether that is a null key or an error).
 */
export function splitLine(line: Buffer, separator: Buffer | undefined): LineRecord | undefined {
  if (!separator) return { key: null, value: line };
  const at = line.indexOf(separator);
  if (at < 0) return undefined;
  return { key: line.subarray(0, at), value: line.subarray(at + separator.length) };
}

/**
 * `key=value` header arguments, in order (split at the first `=`; the value may be empty). A key
 * may repeat, as Kafka headers allow.
 */
export function parseHeaders(pairs: readonly string[]): { key: string; value: Buffer }[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid header '${pair}' (expected key=value)`);
    return { key: pair.slice(0, eq), value: Buffer.from(pair.slice(eq + 1), 'utf8') };
  });
}
