/** Minimal types for lz4js 0.2 (pure-JS LZ4), covering the frame API the tests use. */
declare module 'lz4js' {
  interface Lz4js {
    /** Compresses `src` into one LZ4 frame (independent 4 MiB blocks, no content size). */
    compress(src: Uint8Array, maxSize?: number): Uint8Array;
    /** Decompresses one LZ4 frame. */
    decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  }
  const lz4js: Lz4js;
  export default lz4js;
}
