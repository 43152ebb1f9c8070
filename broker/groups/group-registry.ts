import { ErrorCode } from '../../protocol/error-codes.js';
import type { Logger } from '../common/logger.js';
import { SerialQueue } from '../common/serial-queue.js';
import { ConsumerGroup } from './consumer-group.js';
import { GroupFencedError, type GroupStore } from './group-store.js';
import { GroupTimers } from './group-timers.js';

/**
 * A whole request failed with a Kafka error code (the coordinator is closed, storage failed, or
 * the group was fenced by another coordinator). Per-member and per-partition outcomes are return
 * values, not errors.
 */
export class CoordinatorError extends Error {
  override name = 'CoordinatorError';
  constructor(
    readonly errorCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One group id's runtime: its operation queue, its cached state and its timers. */
export interface GroupSlot {
  readonly groupId: string;
  /** Every operation on the group, timers included, runs through here, one at a time. */
  readonly queue: SerialQueue;
  /** The cached group; undefined until loaded from DynamoDB (and again after being unloaded). */
  group: ConsumerGroup | undefined;
  readonly timers: GroupTimers;
  /** Operations queued or running; the slot is forgotten when idle and its group vacant. */
  users: number;
}

/**
 * The coordinator's cache of groups. Groups are loaded lazily from DynamoDB on first access and
 * every operation on a group is serialized through the group's queue, so group state needs no
 * other locking. Storage is the truth: a failed write unloads the group (answering whatever it
 * had parked) and the next access reloads it.
 */
export class GroupRegistry {
  private readonly slots = new Map<string, GroupSlot>();
  private closed = false;

  constructor(
    readonly store: GroupStore,
    private readonly logger: Logger,
    /** Called for a group just loaded from storage, to restart its timers. */
    private readonly onLoad: (slot: GroupSlot, group: ConsumerGroup) => void,
    private readonly now: () => number,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Groups currently cached (and not vacant), for ListGroups. */
  cached(): ConsumerGroup[] {
    return [...this.slots.values()].flatMap((s) => (s.group && !s.group.isVacant ? [s.group] : []));
  }

  /** Whether `groupId` is cached and known not to exist (deleted since storage was scanned). */
  isKnownVacant(groupId: string): boolean {
    return this.slots.get(groupId)?.group?.isVacant === true;
  }

  /**
   * Runs `op` on the group, loading it first if needed. `op` must not wait for other requests
   * (a parked JoinGroup returns its waiter instead), or the group's queue would stall.
   */
  async run<T>(groupId: string, op: (slot: GroupSlot, group: ConsumerGroup) => Promise<T> | T): Promise<T> {
    if (this.closed) throw notAvailable();
    let slot = this.slots.get(groupId);
    if (!slot) {
      slot = { groupId, queue: new SerialQueue(), group: undefined, timers: new GroupTimers(), users: 0 };
      this.slots.set(groupId, slot);
    }
    const current = slot;
    current.users++;
    try {
      return await current.queue.run(async () => {
        if (this.closed) throw notAvailable();
        const group = await this.load(current);
        try {
          return await op(current, group);
        } catch (error) {
          if (error instanceof CoordinatorError) throw error;
          // A bug left the group in an unknown state: drop it and let storage speak.
          throw this.unload(current, group, error);
        }
      });
    } finally {
      current.users--;
      this.maybeForget(current);
    }
  }

  /**
   * Schedules `work` on the group after `delayMs`, as a queued operation that is skipped if the
   * group has since been unloaded or the coordinator closed.
   */
  schedule(
    slot: GroupSlot,
    group: ConsumerGroup,
    name: string,
    delayMs: number,
    work: () => Promise<void> | void,
  ): void {
    slot.timers.set(name, delayMs, () => {
      slot.users++;
      slot.queue
        .run(async () => {
          if (this.closed || slot.group !== group) return;
          try {
            await work();
          } catch (error) {
            if (!(error instanceof CoordinatorError)) this.unload(slot, group, error);
          }
        })
        .finally(() => {
          slot.users--;
          this.maybeForget(slot);
        });
    });
  }

  /** Writes the group item, fenced on the version last read or written. */
  async persist(slot: GroupSlot, group: ConsumerGroup): Promise<void> {
    try {
      group.storedVersion = await this.store.save(group.toStored(), group.storedVersion);
    } catch (error) {
      throw this.unload(slot, group, error);
    }
  }

  /**
   * Forgets a group after a failed or doubtful write: cancels its timers and answers everything it
   * had parked. Returns the error to fail the current request with: NOT_COORDINATOR when another
   * coordinator changed the group, else COORDINATOR_NOT_AVAILABLE (clients retry either).
   */
  unload(slot: GroupSlot, group: ConsumerGroup, cause: unknown): CoordinatorError {
    const fenced = cause instanceof GroupFencedError;
    const errorCode = fenced ? ErrorCode.NOT_COORDINATOR : ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (fenced) this.logger.warn({ group: slot.groupId }, 'group fenced by another coordinator; unloading');
    else this.logger.error({ err: cause, group: slot.groupId }, 'group operation failed; unloading');
    group.failAllWaiters(errorCode);
    slot.timers.clearAll();
    if (slot.group === group) slot.group = undefined;
    return new CoordinatorError(errorCode, `group ${slot.groupId} unloaded`, { cause });
  }

  /**
   * Stops the registry: cancels every timer and answers every parked JoinGroup/SyncGroup with
   * COORDINATOR_NOT_AVAILABLE once in-flight operations have finished. Later requests get the same.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.slots.values()].map((slot) =>
        slot.queue.run(async () => {
          slot.timers.clearAll(true);
          slot.group?.failAllWaiters(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        }),
      ),
    );
    this.slots.clear();
  }

  private async load(slot: GroupSlot): Promise<ConsumerGroup> {
    if (slot.group) return slot.group;
    let group: ConsumerGroup;
    try {
      group = ConsumerGroup.fromStored(slot.groupId, await this.store.load(slot.groupId), this.now());
    } catch (error) {
      this.logger.error({ err: error, group: slot.groupId }, 'loading group failed');
      throw new CoordinatorError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot load group ${slot.groupId}`, {
        cause: error,
      });
    }
    slot.group = group;
    if (!group.isVacant) {
      this.logger.info(
        {
          group: slot.groupId,
          state: group.state,
          generation: group.generationId,
          members: group.members.size,
        },
        'group loaded',
      );
    }
    this.onLoad(slot, group);
    return group;
  }

  private maybeForget(slot: GroupSlot): void {
    if (slot.users > 0 || this.slots.get(slot.groupId) !== slot) return;
    if (slot.group && !slot.group.isVacant) return;
    slot.timers.clearAll();
    this.slots.delete(slot.groupId);
  }
}

function notAvailable(): CoordinatorError {
  return new CoordinatorError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'the group coordinator is not running');
}
