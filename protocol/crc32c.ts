import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * CRC-32C (Castagnoli), as used by RecordBatch v2. Backed by @node-rs/crc32, which uses the SSE4.2
 * / ARMv8 CRC instructions where available, so checking a batch costs far less than copying it.
 */
export function crc32c(data: Uint8Array): number {
  return nativeCrc32c(data) >>> 0;
}
