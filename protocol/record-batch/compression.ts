import { gunzipSync, gzipSync } from 'node:zlib';
import { CodecNotInstalledError, CorruptRecordBatchError, UnsupportedCompressionError } from '../errors.js';
import { optionalNative } from '../native-modules.js';
import { CompressionType } from './layout.js';

type Lz4 = typeof import('lz4-napi');
type Snappy = typeof import('snappy');
type Zstd = typeof import('zstd-napi');
const lz4Module = optionalNative<Lz4>('lz4-napi');
const snappyModule = optionalNative<Snappy>('snappy');
const zstdModule = optionalNative<Zstd>('zstd-napi');

function codec<T>(type: CompressionType, name: string, module: () => T | undefined): T {
  const loaded = module();
  if (!loaded) throw new CodecNotInstalledError(type, name);
  return loaded;
}
const lz4 = () => codec<Lz4>(CompressionType.Lz4, 'lz4-napi', lz4Module);
const snappy = () => codec<Snappy>(CompressionType.Snappy, 'snappy', snappyModule);
const zstd = () => codec<Zstd>(CompressionType.Zstd, 'zstd-napi', zstdModule);

/**
 * Compression codecs for the records section of a RecordBatch. Synchronous on purpose: the codec
 * stays a pure function of its input, and the broker never recompresses on the hot path.
 *
 * - gzip: node:zlib.
 * - snappy: Kafka's Java client writes Snappy in xerial's framing (a magic header, then
 *   length-prefixed blocks). We write that framing so every client can read our batches, and we
 *   read both framed and raw Snappy, since librdkafka and kafkajs may write either.
 * - lz4: the standard LZ4 frame format (KIP-57) with independent blocks.
 * - zstd: a single zstd frame.
 */

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** xerial's default block size, and the size Kafka's Java producer uses. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

function snappyEncodeXerial(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  parts.push(header);
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_SIZE) {
    const block = snappy().compressSync(data.subarray(start, start + XERIAL_BLOCK_SIZE));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

function snappyDecode(data: Buffer): Buffer {
  const framed = data.length >= XERIAL_HEADER_SIZE && data.subarray(0, 8).equals(XERIAL_MAGIC);
  if (!framed) return asBuffer(snappy().uncompressSync(data));
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new CorruptRecordBatchError('truncated xerial snappy block length');
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || pos + length > data.length) {
      throw new CorruptRecordBatchError('xerial snappy block overruns the payload');
    }
    blocks.push(asBuffer(snappy().uncompressSync(data.subarray(pos, pos + length))));
    pos += length;
  }
  return Buffer.concat(blocks);
}

function asBuffer(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

export function compress(type: CompressionType, data: Buffer): Buffer {
  switch (type) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return gzipSync(data);
    case CompressionType.Snappy:
      return snappyEncodeXerial(data);
    case CompressionType.Lz4:
      return lz4().compressFrameSync(data);
    case CompressionType.Zstd:
      return zstd().compress(data);
    default:
      throw new UnsupportedCompressionError(type);
  }
}

export function decompress(type: number, data: Buffer): Buffer {
  try {
    switch (type) {
      case CompressionType.None:
        return data;
      case CompressionType.Gzip:
        return gunzipSync(data);
      case CompressionType.Snappy:
        return snappyDecode(data);
      case CompressionType.Lz4:
        return lz4().decompressFrameSync(data);
      case CompressionType.Zstd:
        return zstd().decompress(data);
    }
  } catch (error) {
    if (error instanceof CorruptRecordBatchError || error instanceof CodecNotInstalledError) throw error;
    throw new CorruptRecordBatchError(`cannot decompress records (codec ${type})`, {}, { cause: error });
  }
  throw new UnsupportedCompressionError(type);
}
