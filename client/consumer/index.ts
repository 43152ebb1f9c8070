export type {
  GroupAssignment,
  GroupMember,
  PartitionAssignor,
  RebalanceProtocol,
} from './assignors/assignor.js';
export { CooperativeStickyAssignor } from './assignors/cooperative-sticky.js';
export { RangeAssignor } from './assignors/range.js';
export { RoundRobinAssignor } from './assignors/round-robin.js';
export { type BatchControl, Consumer, type ConsumerEvents, type RunOptions } from './consumer.js';
export type {
  ConsumerBatch,
  ConsumerOptions,
  ConsumerRecord,
  DeliveryMode,
  PartitionLag,
  RebalanceListener,
  StartPosition,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js';
