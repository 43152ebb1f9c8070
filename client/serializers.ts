/**
 * Typed serializers and deserializers for record keys and values. Implementations only ever see
 * real values: null (a missing key, or a tombstone value) never reaches them and always comes out
 * as null, which `serializeNullable` / `deserializeNullable` guarantee for the producer and
 * consumer. That keeps user implementations free of null checks and tombstones intact.
 */
import { SerializationError } from './errors.js';

export interface SerdeContext {
  readonly topic: string;
}

export interface Serializer<T> {
  serialize(value: T, context: SerdeContext): Buffer;
}

export interface Deserializer<T> {
  deserialize(data: Buffer, context: SerdeContext): T;
}

/** Both directions for one type, so the same object configures a producer and a consumer. */
export interface Serde<T> extends Serializer<T>, Deserializer<T> {}

/** UTF-8 text. */
export const string: Serde<string> = {
  serialize: (value) => Buffer.from(value, 'utf8'),
  deserialize: (data) => data.toString('utf8'),
};

/**
 * Raw bytes, passed through without copying. A deserialized Buffer may be a view into a larger
 * fetch response; copy it if you keep it long after the record was processed.
 */
export const buffer: Serde<Buffer> = {
  serialize: (value) => value,
  deserialize: (data) => data,
};

/**
 * JSON as UTF-8. `T` is trusted, not validated: deserialize returns whatever the bytes parse to,
 * so validate untrusted input (e.g. with zod) in a custom Deserializer.
 */
export function json<T>(): Serde<T> {
  return {
    serialize(value, context) {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (cause) {
        throw new SerializationError(`cannot serialize value as JSON for topic ${context.topic}`, { cause });
      }
      // JSON.stringify returns undefined for undefined, functions and symbols; writing nothing
      // would silently turn the record into something else, so refuse instead.
      if (text === undefined) {
        throw new SerializationError(`value for topic ${context.topic} has no JSON representation`);
      }
      return Buffer.from(text, 'utf8');
    },
    deserialize(data, context) {
      try {
        return JSON.parse(data.toString('utf8')) as T;
      } catch (cause) {
        throw new SerializationError(`record in topic ${context.topic} is not valid JSON`, { cause });
      }
    },
  };
}

/** Serializes `value`, keeping null (and undefined) as null so tombstones and null keys survive. */
export function serializeNullable<T>(
  serializer: Serializer<T>,
  value: T | null | undefined,
  context: SerdeContext,
): Buffer | null {
  if (value === null || value === undefined) return null;
  return wrap(() => serializer.serialize(value, context), 'serialize', context);
}

/** Deserializes `data`, keeping null as null. */
export function deserializeNullable<T>(
  deserializer: Deserializer<T>,
  data: Buffer | null,
  context: SerdeContext,
): T | null {
  if (data === null) return null;
  return wrap(() => deserializer.deserialize(data, context), 'deserialize', context);
}

/** User serializers may throw anything; the SDK promises typed errors, so wrap what is not one. */
function wrap<R>(run: () => R, verb: string, context: SerdeContext): R {
  try {
    return run();
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    throw new SerializationError(`failed to ${verb} record for topic ${context.topic}`, { cause: error });
  }
}
