import { ErrorCode } from '../../protocol/error-codes.js';
import type { BrokerConnection, Cluster } from '../cluster/index.js';

/**
 * Lanes to the coordinator. JoinGroup long-polls (up to the rebalance timeout) and brokers answer
 * a connection's requests in order, so joins get their own socket and never hold up heartbeats
 * and commits.
 */
export const JOIN_LANE = 'group-join';
export const GROUP_LANE = 'group';

/** Group-state errors that mean "this member's generation is over". */
export const GENERATION_LOST = new Set<number>([ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.ILLEGAL_GENERATION]);

/** Errors after which the group's coordinator must be looked up again. */
export const COORDINATOR_MOVED = new Set<number>([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

/** Where a group's coordinator is: found with FindCoordinator, cached until it moves. */
export class CoordinatorLink {
  private coordinatorId: number | undefined;

  constructor(
    private readonly cluster: Cluster,
    readonly groupId: string,
  ) {}

  /** The coordinator's connection on `lane`, finding the coordinator if it is not known. */
  connection(lane: string): Promise<BrokerConnection> {
    return this.cluster.retry(async () => {
      this.coordinatorId ??= await this.cluster.findCoordinator(this.groupId);
      try {
        return await this.cluster.broker(this.coordinatorId, lane);
      } catch (error) {
        this.coordinatorId = undefined;
        throw error;
      }
    });
  }

  /** The coordinator moved or is unreachable: look it up again next time. */
  forget(): void {
    this.coordinatorId = undefined;
  }

  /** Forgets the coordinator if `code` says it moved. */
  check(code: number): void {
    if (COORDINATOR_MOVED.has(code)) this.forget();
  }
}
