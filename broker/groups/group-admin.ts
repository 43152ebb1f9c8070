import { ErrorCode } from '../../protocol/error-codes.js';
import type { Logger } from '../common/logger.js';
import { ConsumerGroup, type GroupState, type GroupSummary } from './consumer-group.js';
import type { GroupRegistry } from './group-registry.js';
import type { GroupStore } from './group-store.js';

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  state: GroupState;
}

/** DescribeGroups, ListGroups and DeleteGroups. */
export class GroupAdmin {
  constructor(
    private readonly registry: GroupRegistry,
    private readonly logger: Logger,
    private readonly errorCodeFor: (error: unknown) => number,
  ) {}

  /** A group's summary; a group that does not exist is reported Dead, as Kafka does. */
  async describeGroup(groupId: string): Promise<GroupSummary & { errorCode: number }> {
    const dead = { groupId, state: 'Dead' as const, protocolType: '', protocolData: '', members: [] };
    if (groupId === '') return { ...dead, errorCode: ErrorCode.INVALID_GROUP_ID };
    try {
      const summary = await this.registry.run(groupId, (_slot, group) =>
        group.isVacant ? dead : group.summary(),
      );
      return { ...summary, errorCode: ErrorCode.NONE };
    } catch (error) {
      return { ...dead, errorCode: this.errorCodeFor(error) };
    }
  }

  /**
   * Every group this broker coordinates (as in Kafka, admin clients ask every broker and merge):
   * all stored groups (offsets-only groups count, as Empty), with the cached state of loaded
   * groups, which may be ahead of storage (e.g. PreparingRebalance is never stored).
   */
  async listGroups(): Promise<{ errorCode: number; groups: ListedGroup[] }> {
    if (this.registry.isClosed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    let stored: Awaited<ReturnType<GroupStore['list']>>;
    try {
      stored = await this.registry.store.list();
    } catch (error) {
      this.logger.error({ err: error }, 'listing groups failed');
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    }
    const groups = new Map<string, ListedGroup>();
    const owns = this.registry.owns;
    for (const g of stored) {
      if (owns(g.groupId) && !this.registry.isKnownVacant(g.groupId)) groups.set(g.groupId, g);
    }
    for (const g of this.registry.cached()) {
      if (!owns(g.groupId)) continue;
      groups.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state });
    }
    return {
      errorCode: ErrorCode.NONE,
      groups: [...groups.values()].sort((a, b) => a.groupId.localeCompare(b.groupId)),
    };
  }

  /** Deletes an Empty group and its offsets; others get NON_EMPTY_GROUP or GROUP_ID_NOT_FOUND. */
  async deleteGroup(groupId: string): Promise<number> {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    try {
      return await this.registry.run(groupId, async (slot, group) => {
        if (group.isVacant || group.state === 'Dead') return ErrorCode.GROUP_ID_NOT_FOUND;
        if (group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
        try {
          await this.registry.store.deleteGroup(groupId, group.storedVersion);
        } catch (cause) {
          throw this.registry.unload(slot, group, cause);
        }
        group.transitionTo('Dead');
        slot.timers.clearAll();
        slot.group = new ConsumerGroup(groupId);
        this.logger.info({ group: groupId }, 'group deleted');
        return ErrorCode.NONE;
      });
    } catch (error) {
      return this.errorCodeFor(error);
    }
  }
}
