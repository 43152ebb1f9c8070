import CRC32C from 'crc-32/crc32c.js';
import { optionalNative } from './native-modules.js';

const native = optionalNative<{ crc32c(data: Uint8Array): number }>('@node-rs/crc32');

/**
 * CRC-32C (Castagnoli), as used by RecordBatch v2. Backed by @node-rs/crc32, which uses the SSE4.2
 * / ARMv8 CRC instructions where available, so checking a batch costs far less than copying it.
 * Where the native module is absent (the Lambda bundles; see native-modules.ts) SheetJS's
 * table-driven JavaScript implementation computes the same value, more slowly.
 */
export function crc32c(data: Uint8Array): number {
  const fast = native();
  return (fast ? fast.crc32c(data) : CRC32C.buf(data)) >>> 0;
}
