/**
 * Where the archive keeps a partition's segments in S3 (DESIGN.md, "Tiering and the archive"):
 *
 *   <topicId>/<partition>/<baseOffset, 20 digits>-<leaderEpoch>-<uploadId>.<kind>
 *
 * Keys start with the topic id, not the name, so a re-created topic never sees the old one's
 * data. The upload id makes every attempt's keys unique: cleaning up a failed attempt can never
 * delete the objects of a later attempt at the same segment that did commit.
 */

export const SEGMENT_OBJECT_KINDS = ['log', 'index', 'timeindex', 'epochs', 'snapshot'] as const;
export type SegmentObjectKind = (typeof SEGMENT_OBJECT_KINDS)[number];
export type SegmentObjectKeys = Record<SegmentObjectKind, string>;

export function partitionPrefix(topicId: string, partition: number): string {
  return `${topicId}/${partition}/`;
}

export function segmentObjectKeys(
  topicId: string,
  partition: number,
  baseOffset: number,
  leaderEpoch: number,
  uploadId: string,
): SegmentObjectKeys {
  const stem = `${partitionPrefix(topicId, partition)}${String(baseOffset).padStart(20, '0')}-${leaderEpoch}-${uploadId}`;
  return {
    log: `${stem}.log`,
    index: `${stem}.index`,
    timeindex: `${stem}.timeindex`,
    epochs: `${stem}.epochs`,
    snapshot: `${stem}.snapshot`,
  };
}

/** The DynamoDB partition key of a partition's archive items. */
export function archivePartitionKey(topicId: string, partition: number): string {
  return `${topicId}#${partition}`;
}
