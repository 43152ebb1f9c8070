import { ErrorCode } from '../../protocol/error-codes.js';
import type { StoredMember, StoredProtocol } from './group-store.js';

/** What a JoinGroup request is answered with (wire-independent). */
export interface JoinOutcome {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  memberId: string;
  skipAssignment: boolean;
  /** Filled in for the leader only: every member's metadata for the chosen protocol. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

/** What a SyncGroup request is answered with. */
export interface SyncOutcome {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export function joinError(errorCode: number, memberId = ''): JoinOutcome {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leaderId: '',
    memberId,
    skipAssignment: false,
    members: [],
  };
}

export function syncError(errorCode: number): SyncOutcome {
  return { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
}

/** A response that a later event delivers: a JoinGroup waiting for the rebalance, a follower's SyncGroup. */
export class Waiter<T> {
  readonly promise: Promise<T>;
  private resolveFn!: (value: T) => void;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolveFn = resolve;
    });
  }

  resolve(value: T): void {
    this.resolveFn(value);
  }
}

/**
 * One member of a classic group. `joinWaiter` is set while the member's JoinGroup is parked
 * until the rebalance completes ("awaiting join"); `syncWaiter` while its SyncGroup waits for the
 * leader's assignment ("awaiting sync"). A member has at most one of each.
 */
export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: StoredProtocol[];
  assignment: Buffer;
  /** Not yet part of any completed generation. */
  isNew = false;
  /** When the member was last heard from (ms since epoch); its session expires sessionTimeoutMs later. */
  lastSeen: number;
  joinWaiter: Waiter<JoinOutcome> | undefined;
  syncWaiter: Waiter<SyncOutcome> | undefined;

  constructor(stored: StoredMember, now: number) {
    this.memberId = stored.memberId;
    this.groupInstanceId = stored.groupInstanceId;
    this.clientId = stored.clientId;
    this.clientHost = stored.clientHost;
    this.sessionTimeoutMs = stored.sessionTimeoutMs;
    this.rebalanceTimeoutMs = stored.rebalanceTimeoutMs;
    this.protocols = stored.protocols;
    this.assignment = stored.assignment;
    this.lastSeen = now;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.joinWaiter !== undefined;
  }

  get isAwaitingSync(): boolean {
    return this.syncWaiter !== undefined;
  }

  supports(protocolName: string): boolean {
    return this.protocols.some((p) => p.name === protocolName);
  }

  metadata(protocolName: string): Buffer {
    return this.protocols.find((p) => p.name === protocolName)?.metadata ?? Buffer.alloc(0);
  }

  /** Same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly StoredProtocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every(
        (p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata),
      )
    );
  }

  /** The member's most preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string | undefined {
    return this.protocols.find((p) => candidates.has(p.name))?.name;
  }

  /** Parks a JoinGroup. A member re-sending JoinGroup while one is parked supersedes the old one. */
  awaitJoin(): Waiter<JoinOutcome> {
    this.completeJoin(joinError(ErrorCode.REBALANCE_IN_PROGRESS, this.memberId));
    this.joinWaiter = new Waiter();
    return this.joinWaiter;
  }

  completeJoin(outcome: JoinOutcome): void {
    const waiter = this.joinWaiter;
    this.joinWaiter = undefined;
    waiter?.resolve(outcome);
  }

  awaitSync(): Waiter<SyncOutcome> {
    this.completeSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    this.syncWaiter = new Waiter();
    return this.syncWaiter;
  }

  completeSync(outcome: SyncOutcome): void {
    const waiter = this.syncWaiter;
    this.syncWaiter = undefined;
    waiter?.resolve(outcome);
  }

  toStored(): StoredMember {
    return {
      memberId: this.memberId,
      groupInstanceId: this.groupInstanceId,
      clientId: this.clientId,
      clientHost: this.clientHost,
      sessionTimeoutMs: this.sessionTimeoutMs,
      rebalanceTimeoutMs: this.rebalanceTimeoutMs,
      protocols: this.protocols,
      assignment: this.assignment,
    };
  }
}
