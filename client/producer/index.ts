export { IdempotenceState } from './idempotence.js';
export {
  type Acks,
  type Compression,
  Producer,
  type ProducerOptions,
  type ProducerRecord,
} from './producer.js';
export {
  ProducerBatch,
  RecordAccumulator,
  type RecordAccumulatorOptions,
  type RecordMetadata,
  recordSize,
} from './record-accumulator.js';
export { Sender, type SenderOptions } from './sender.js';
