import { createRequire } from 'node:module';

// import.meta.url is empty in a CommonJS bundle (the crash test's child); resolve from the working
// directory there, as NODE_PATH-based resolution does.
const load = createRequire(import.meta.url ?? `${process.cwd()}/`);

/**
 * The native modules Spool uses (CRC-32C and three codecs), loaded on first use. Brokers and SDK
 * users have them from npm. The Lambda bundles leave them out: a bundle carries the binaries of the
 * machine that built it, not the Lambda's. There CRC-32C falls back to JavaScript (crc32c.ts) and
 * a codec that is needed fails with CodecNotInstalledError. Loading goes through createRequire so
 * bundlers do not try to inline them.
 */
export function optionalNative<T>(name: string): () => T | undefined {
  let loaded: { module: T | undefined } | undefined;
  return () => {
    if (!loaded) {
      try {
        loaded = { module: load(name) as T };
      } catch {
        loaded = { module: undefined };
      }
    }
    return loaded.module;
  };
}

/** The module names, so bundling configuration can mark them external. */
export const NATIVE_MODULES = ['@node-rs/crc32', 'snappy', 'lz4-napi', 'zstd-napi'] as const;
