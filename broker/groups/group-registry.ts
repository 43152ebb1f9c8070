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
  /**
   * Ownership of the group left this broker since `group` was loaded (or while it was loading):
   * another coordinator may have changed the stored group, so the cached copy must be dropped
   * before the next use, even if ownership has come back since.
   */
  stale: boolean;
}

/** Whether this broker coordinates a group right now. */
export type OwnsGroup = (groupId: string) => boolean;

/**
 * The coordinator's cache of groups. Groups are loaded lazily from DynamoDB on first access and
 * every operation on a group is serialized through the group's queue, so group state needs no
 * other locking. Storage is the truth: a failed write unloads the group (answering whatever it
 * had parked) and the next access reloads it.
 *
 * Only groups this broker coordinates (`owns`) are served: every operation and timer re-checks
 * ownership inside the group's queue, and answers NOT_COORDINATOR for a group owned elsewhere.
 * When ownership moves (`ownershipChanged`), groups that moved away are marked stale at once and
 * unloaded through their queue (after any operation already running), so a group that comes back
 * is always re-read from DynamoDB. Two brokers may still briefly both believe they own a group
 * (their views of the live brokers differ); the store's version and generation fencing makes the
 * later writer fail with NOT_COORDINATOR rather than clobber the other's state.
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
    readonly owns: OwnsGroup = () => true,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Groups currently cached (and not vacant), for ListGroups. Stale copies are left out. */
  cached(): ConsumerGroup[] {
    return [...this.slots.values()].flatMap((s) =>
      s.group && !s.group.isVacant && !s.stale ? [s.group] : [],
    );
  }

  /** Whether `groupId` is cached and known not to exist (deleted since storage was scanned). */
  isKnownVacant(groupId: string): boolean {
    const slot = this.slots.get(groupId);
    return slot?.group?.isVacant === true && !slot.stale;
  }

  /**
   * Runs `op` on the group, loading it first if needed. `op` must not wait for other requests
   * (a parked JoinGroup returns its waiter instead), or the group's queue would stall.
   */
  async run<T>(groupId: string, op: (slot: GroupSlot, group: ConsumerGroup) => Promise<T> | T): Promise<T> {
    if (this.closed) throw notAvailable();
    let slot = this.slots.get(groupId);
    // Fast path: no need to queue behind a group's operations only to be turned away.
    if (!slot && !this.owns(groupId)) throw notCoordinator(groupId);
    if (!slot) {
      slot = {
        groupId,
        queue: new SerialQueue(),
        group: undefined,
        timers: new GroupTimers(),
        users: 0,
        stale: false,
      };
      this.slots.set(groupId, slot);
    }
    const current = slot;
    current.users++;
    try {
      return await current.queue.run(async () => {
        if (this.closed) throw notAvailable();
        // Ownership may have moved while this request waited in the queue.
        if (!this.reconcileOwnership(current)) throw notCoordinator(groupId);
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
          // A group this broker no longer coordinates is unloaded instead (its timers with it).
          if (!this.reconcileOwnership(slot) || slot.group !== group) return;
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
   * The live brokers changed, so groups may have moved. Every cached group this broker no longer
   * coordinates is marked stale now (so no later operation can use it, even if ownership returns
   * before the unload runs) and unloaded through its queue once operations already queued are
   * done: timers cancelled, parked JoinGroup/SyncGroup answered with NOT_COORDINATOR. Groups
   * gained need nothing: they load from DynamoDB on first access.
   */
  ownershipChanged(): void {
    if (this.closed) return;
    for (const slot of this.slots.values()) {
      if (this.owns(slot.groupId)) continue;
      slot.stale = true;
      slot.users++;
      slot.queue
        .run(async () => {
          if (!this.closed) this.reconcileOwnership(slot);
        })
        .finally(() => {
          slot.users--;
          this.maybeForget(slot);
        });
    }
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

  /**
   * Runs inside the slot's queue. Drops the cached group if it is stale or owned elsewhere (see
   * `ownershipChanged`) and returns whether this broker coordinates the group now.
   */
  private reconcileOwnership(slot: GroupSlot): boolean {
    const owned = this.owns(slot.groupId);
    if (slot.stale || !owned) {
      slot.stale = false;
      const group = slot.group;
      if (group) {
        this.logger.info({ group: slot.groupId, owned }, 'group coordination moved; unloading');
        group.failAllWaiters(ErrorCode.NOT_COORDINATOR);
        slot.timers.clearAll();
        slot.group = undefined;
      }
    }
    return owned;
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

function notCoordinator(groupId: string): CoordinatorError {
  return new CoordinatorError(ErrorCode.NOT_COORDINATOR, `group ${groupId} is coordinated by another broker`);
}

function notAvailable(): CoordinatorError {
  return new CoordinatorError(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'the group coordinator is not running');
}
