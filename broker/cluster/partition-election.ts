import type { PartitionState } from './partition-state-store.js';

/**
 * What the controller knows about one broker, from its lease item, judged by the controller's
 * clock with the lease clock-skew margin (see broker-lease.ts):
 * - `live`: its lease has not expired; it can be elected.
 * - `dead`: its lease expired more than the margin ago; the holder has certainly fenced itself, so
 *   its leaderships can be handed over and it can be dropped from ISRs.
 * Between the two, a broker is neither: the controller waits rather than risk two leaders.
 */
export interface BrokerLiveness {
  live: boolean;
  dead: boolean;
  /** The broker's lease epoch (one per process incarnation). */
  brokerEpoch: number;
  /** When this incarnation registered, by its own clock. */
  registeredAt: number;
  /**
   * Registered without its storage marker (BrokerLeaseRecord.rejoining): its ISR memberships are
   * not backed by data. It is not electable and is removed from ISRs it shares with others.
   */
  rejoining: boolean;
}

export interface ElectionContext {
  brokers: ReadonlyMap<number, BrokerLiveness>;
  now: number;
  controllerEpoch: number;
  /** The topic's unclean.leader.election.enable. */
  uncleanElection: boolean;
  /** A returning preferred leader gets leadership back after being registered this long. */
  preferredLeaderDelayMs: number;
}

export type ElectionReason =
  | 'leader-failed'
  | 'leader-restarted'
  | 'leader-returned'
  | 'preferred-leader'
  | 'unclean'
  | 'offline'
  | 'isr-dead-replicas'
  | 'isr-rejoining-replicas';

export interface ElectionOutcome {
  next: PartitionState;
  reason: ElectionReason;
}

/**
 * Decides the controller's next write for one partition, or null if none is needed. Pure, so the
 * safety rules can be tested exhaustively:
 * - A new leader is elected only when the old one is dead, restarted (a new incarnation has
 *   registered, which can only happen after the old one fenced itself) or absent.
 * - A clean election picks the first live ISR member in replica (preference) order. Without one the
 *   partition goes offline (leader -1), unless the topic allows unclean election, in which case the
 *   first live, non-rejoining replica leads with an ISR of itself.
 * - Dead brokers leave the ISR, but the ISR never becomes empty.
 * - A rejoining broker (one whose data directory is new; see storage/storage-marker.ts) is never
 *   elected and leaves every ISR it shares with another member, even an offline partition's. Where
 *   it is the last member it stays: it is elected once it has finished rejoining, as the only copy
 *   the cluster still knows of (its records not yet archived are gone with the old volume).
 * - Every leadership change bumps leaderEpoch; every write bumps version.
 */
export function electPartition(state: PartitionState, ctx: ElectionContext): ElectionOutcome | null {
  const info = (id: number) => ctx.brokers.get(id);
  const live = (id: number) => info(id)?.live === true;
  const dead = (id: number) => info(id)?.dead ?? true;
  const rejoining = (id: number) => info(id)?.rejoining === true;
  const stale = (id: number) => dead(id) || rejoining(id);
  const leaderInfo = state.leader >= 0 ? info(state.leader) : undefined;
  const leaderRestarted = leaderInfo?.live && leaderInfo.brokerEpoch !== state.leaderBrokerEpoch;
  const leaderHealthy = leaderInfo?.live && leaderInfo.brokerEpoch === state.leaderBrokerEpoch;

  if (leaderHealthy) {
    const preferred = state.replicas[0]!;
    const preferredInfo = info(preferred);
    if (
      preferred !== state.leader &&
      preferredInfo?.live &&
      !preferredInfo.rejoining &&
      state.isr.includes(preferred) &&
      ctx.now - preferredInfo.registeredAt >= ctx.preferredLeaderDelayMs
    ) {
      return lead(
        state,
        ctx,
        preferred,
        state.isr.filter((id) => !stale(id)),
        'preferred-leader',
      );
    }
    const isr = state.isr.filter((id) => id === state.leader || !stale(id));
    if (isr.length !== state.isr.length) {
      const reason = state.isr.some((id) => !dead(id) && rejoining(id))
        ? 'isr-rejoining-replicas'
        : 'isr-dead-replicas';
      return { next: { ...state, isr, version: state.version + 1 }, reason };
    }
    return null;
  }
  // The leader may still be acting: wait until its lease has certainly lapsed.
  if (state.leader >= 0 && !leaderRestarted && !dead(state.leader)) return null;

  const candidates = state.replicas.filter((id) => state.isr.includes(id) && live(id) && !rejoining(id));
  if (candidates.length > 0) {
    const leader = candidates[0]!;
    const isr = state.isr.filter((id) => id === leader || !stale(id));
    const reason: ElectionReason =
      state.leader === -1 ? 'leader-returned' : leaderRestarted ? 'leader-restarted' : 'leader-failed';
    return lead(state, ctx, leader, isr, reason);
  }
  if (ctx.uncleanElection) {
    const leader = state.replicas.find((id) => live(id) && !rejoining(id));
    if (leader !== undefined) return lead(state, ctx, leader, [leader], 'unclean');
  }
  // Nobody eligible is alive: go offline, keeping the ISR so a returning member can lead again, but
  // without rejoining members (keeping one if all are), so that none of them waits on another.
  const withoutRejoining = state.isr.filter((id) => !rejoining(id));
  const offlineIsr = withoutRejoining.length > 0 ? withoutRejoining : state.isr.slice(0, 1);
  if (state.leader === -1) {
    if (offlineIsr.length === state.isr.length) return null;
    return {
      next: { ...state, isr: offlineIsr, version: state.version + 1 },
      reason: 'isr-rejoining-replicas',
    };
  }
  return {
    next: {
      ...state,
      isr: offlineIsr,
      leader: -1,
      leaderBrokerEpoch: -1,
      leaderEpoch: state.leaderEpoch + 1,
      version: state.version + 1,
      controllerEpoch: ctx.controllerEpoch,
    },
    reason: 'offline',
  };
}

function lead(
  state: PartitionState,
  ctx: ElectionContext,
  leader: number,
  isr: number[],
  reason: ElectionReason,
): ElectionOutcome {
  return {
    next: {
      ...state,
      leader,
      leaderBrokerEpoch: ctx.brokers.get(leader)!.brokerEpoch,
      leaderEpoch: state.leaderEpoch + 1,
      isr: isr.includes(leader) ? isr : [leader, ...isr],
      version: state.version + 1,
      controllerEpoch: ctx.controllerEpoch,
    },
    reason,
  };
}
