/**
 * Spool's TypeScript SDK: one import for applications.
 *
 *   import { Admin, Consumer, Producer, string, json } from './client/index.js';
 */

/** Tagging records for consumers' `tagFilter`: `headers: [tagsHeader(['orders', 'eu'])]`. */
export { InvalidTagError, TAGS_HEADER, tagsHeader } from '../protocol/tag-filter/index.js';
export * from './admin/index.js';
export * from './archive/index.js';
export * from './consumer/index.js';
export {
  BufferFullError,
  ConfigError,
  ConnectionError,
  ErrorCode,
  type ErrorName,
  InvalidTagFilterError,
  KafkaProtocolError,
  SerializationError,
  SpoolError,
  TimeoutError,
} from './errors.js';
export {
  createDefaultPartitioner,
  keyPartition,
  murmur2,
  type Partitioner,
  StickyPartitioner,
} from './partitioners.js';
export type { Acks, Compression, ProducerOptions, ProducerRecord } from './producer/producer.js';
export { Producer } from './producer/producer.js';
export type { RecordMetadata } from './producer/record-accumulator.js';
export { buffer, type Deserializer, json, type Serde, type Serializer, string } from './serializers.js';
