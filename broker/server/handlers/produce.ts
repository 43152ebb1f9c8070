import { ErrorCode } from '../../../protocol/error-codes.js';
import { API_REGISTRY, type ProduceRequest } from '../../../protocol/messages/index.js';
import { SCHEDULE_TOPIC } from '../../../protocol/schedules.js';
import type { MessageValue } from '../../../protocol/wire/schema.js';
import type { Logger } from '../../common/logger.js';
import { ScheduleNotCancellableError } from '../../delay/delayed-delivery.js';
import { InvalidScheduleError } from '../../delay/schedule-intake.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import { errorCodeFor, isUnexpected } from '../error-mapping.js';
import type { ApiHandler } from '../request-router.js';

/**
 * Produce: appends each partition's batches on its leader and reports per-partition results.
 * acks=0 sends no response at all; acks=1 is answered once the leader has appended; acks=all
 * (-1) once every ISR member has the batches (the high watermark passed them), failing with
 * NOT_ENOUGH_REPLICAS if the ISR is below min.insync.replicas, or REQUEST_TIMED_OUT after the
 * request's timeout.
 */
/** Upper bound on how long an acks=all produce waits for replication. */
export const MAX_PRODUCE_TIMEOUT_MS = 60_000;

/** Takes produces to the schedule topic (delay/delayed-delivery.ts); resolves the records taken. */
export interface ScheduleIntake {
  accept(records: Buffer): Promise<number>;
}

export function produceHandler(
  replicas: ReplicaManager,
  logger: Logger,
  schedules?: ScheduleIntake,
): ApiHandler {
  /**
   * The schedule topic has no log: its records are stored as schedules, and the produce is answered
   * once they are in DynamoDB. A bad record is INVALID_RECORD with the reason; a storage failure is
   * REQUEST_TIMED_OUT, which clients retry (schedule writes are idempotent).
   */
  async function schedule(index: number, records: Buffer | null) {
    if (!schedules) return { index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1 };
    try {
      await schedules.accept(records ?? Buffer.alloc(0));
      return { index, errorCode: ErrorCode.NONE, baseOffset: 0, logAppendTimeMs: -1, logStartOffset: 0 };
    } catch (error) {
      const invalid = error instanceof InvalidScheduleError || error instanceof ScheduleNotCancellableError;
      if (!invalid) logger.warn({ err: error }, 'storing schedules failed');
      return {
        index,
        errorCode: invalid ? ErrorCode.INVALID_RECORD : ErrorCode.REQUEST_TIMED_OUT,
        baseOffset: -1,
        errorMessage: error instanceof Error ? error.message : null,
      };
    }
  }

  return {
    api: API_REGISTRY.get(0)!,
    minVersion: 3,
    maxVersion: 11,
    async handle(request: MessageValue<typeof ProduceRequest>) {
      if (request.acks !== 0 && request.acks !== 1 && request.acks !== -1) {
        return {
          responses: request.topicData.map((topic) => ({
            name: topic.name,
            partitionResponses: topic.partitionData.map((p) => ({
              index: p.index,
              errorCode: ErrorCode.INVALID_REQUIRED_ACKS,
              baseOffset: -1,
            })),
          })),
        };
      }
      const responses = await Promise.all(
        request.topicData.map(async (topic) => ({
          name: topic.name,
          partitionResponses: await Promise.all(
            topic.partitionData.map(async (partition) => {
              if (topic.name === SCHEDULE_TOPIC) return schedule(partition.index, partition.records);
              try {
                const outcome = await replicas.append(topic.name, partition.index, partition.records, {
                  acks: request.acks,
                  timeoutMs: Math.min(Math.max(request.timeoutMs, 0), MAX_PRODUCE_TIMEOUT_MS),
                });
                return {
                  index: partition.index,
                  errorCode: ErrorCode.NONE,
                  baseOffset: outcome.baseOffset,
                  logAppendTimeMs: outcome.logAppendTime,
                  logStartOffset: outcome.logStartOffset,
                };
              } catch (error) {
                const errorCode = errorCodeFor(error);
                if (isUnexpected(errorCode))
                  logger.error({ err: error, topic: topic.name }, 'produce failed');
                return {
                  index: partition.index,
                  errorCode,
                  baseOffset: -1,
                  errorMessage: error instanceof Error ? error.message : null,
                };
              }
            }),
          ),
        })),
      );
      return request.acks === 0 ? null : { responses, throttleTimeMs: 0 };
    },
  };
}
