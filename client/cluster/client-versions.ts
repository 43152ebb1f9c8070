import type { VersionRange } from './broker-pool.js';

/**
 * The versions of each API this client's code knows how to build requests for and read
 * responses of. The lower bounds skip versions lacking fields we rely on (e.g. Metadata v0 has
 * no controller id; OffsetFetch before v2 cannot ask for "all topics").
 */
export const CLIENT_VERSIONS = {
  Metadata: { min: 1, max: 12 },
  CreateTopics: { min: 2, max: 7 },
  DeleteTopics: { min: 1, max: 6 },
  CreatePartitions: { min: 0, max: 3 },
  DescribeConfigs: { min: 1, max: 4 },
  /** SET and DELETE only (APPEND/SUBTRACT are not sent); the whole API is the same in v0 and v1. */
  IncrementalAlterConfigs: { min: 0, max: 1 },
  DescribeCluster: { min: 0, max: 1 },
  ListGroups: { min: 0, max: 5 },
  DescribeGroups: { min: 0, max: 5 },
  DeleteGroups: { min: 0, max: 2 },
  FindCoordinator: { min: 1, max: 6 },
  OffsetFetch: { min: 2, max: 9 },
  OffsetCommit: { min: 2, max: 9 },
  ListOffsets: { min: 1, max: 6 },
  /** v3+ carries RecordBatch v2, the only format this client writes; v10+ leader hints are not read yet. */
  Produce: { min: 3, max: 9 },
  InitProducerId: { min: 0, max: 4 },
  /** v4+ reads the last stable offset; v13+ addresses topics by id, which this client does not yet. */
  Fetch: { min: 4, max: 12 },
  /** MEMBER_ID_REQUIRED (v4+) is handled; older versions simply never send it. */
  JoinGroup: { min: 0, max: 9 },
  SyncGroup: { min: 0, max: 5 },
  Heartbeat: { min: 0, max: 4 },
  LeaveGroup: { min: 0, max: 5 },
} as const satisfies Record<string, VersionRange>;
