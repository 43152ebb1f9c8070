/** Minimal types for kafkajs-snappy: a factory for a kafkajs compression codec. */
declare module 'kafkajs-snappy' {
  interface KafkajsSnappyCodec {
    /** Writes raw (unframed) Snappy. */
    compress(encoder: { readonly buffer: Buffer }): Promise<Buffer>;
    /** Reads raw Snappy or xerial-framed Snappy. */
    decompress(buffer: Buffer): Promise<Buffer>;
  }
  const createSnappyCodec: () => KafkajsSnappyCodec;
  export default createSnappyCodec;
}
