import type { PeerState } from '@monk/model';
import { compareStrings } from './dependency-order.ts';
import { rendezvousScorer } from './rendezvous-hash.ts';

/**
 * A cluster member as repair sees it: its graph record joined with what this peer's membership says of it
 * (`unknown` when membership has not heard of it yet).
 */
export interface RepairPeer {
  readonly id: string;
  readonly state: PeerState | 'unknown';
  /** Operators never run workloads, and do not count for the quorum. */
  readonly role: 'peer' | 'operator';
  readonly tags: readonly string[];
}

/** A workload as repair sees it; every `Workload` of @monk/model gives one (see the repairer). */
export interface RepairWorkload {
  readonly id: string;
  readonly owner: string;
  /** Replicas of one runnable container share a group; repair spreads a group over peers. */
  readonly group?: string;
  /** Tags a peer must all have to run it. */
  readonly requiredTags?: readonly string[];
  /** Why it must wait for its own peer instead of moving (its data is there), if it must. */
  readonly pinned?: string;
}

/** One instance to move off a gone owner, and who writes the move. */
export interface RepairMove {
  readonly workloadId: string;
  readonly from: string;
  readonly to: string;
  /**
   * The live peers in the order they write this move: `to` first (the new owner assigns itself), then the
   * other live peers by rendezvous weight. The peer at index `i` writes it once the owner has been gone for
   * `i` fallback delays and the move has not appeared; see {@link planRepair}.
   */
  readonly writers: readonly string[];
}

/** An instance of a gone owner that stays where it is, and why. */
export interface RepairWait {
  readonly workloadId: string;
  readonly owner: string;
  readonly reason: string;
}

export interface RepairPlan {
  readonly moves: readonly RepairMove[];
  readonly waiting: readonly RepairWait[];
  /** False when this view sees fewer than half the voting peers alive: it then moves nothing. */
  readonly quorum: boolean;
}

/**
 * Decides, from one peer's view of the cluster, which instances of gone peers move where. Pure and
 * deterministic: every peer with the same view (graph and membership states) computes the same plan,
 * whatever the order of its inputs, so no leader is needed.
 *
 * - Gone: an owner whose state is `dead` or `left`, or that has no record at all (it was removed). A
 *   `suspect` or `unknown` owner is not gone: its instances stay until membership decides.
 * - Quorum: voters are the peers (role `peer`) not `left`; a view with fewer than half of them `alive`
 *   (counting this one) moves nothing, so a partitioned minority keeps its own instances and does not take
 *   the majority's. An even split repairs on both sides; the graph resolves the duplicate assignments on
 *   heal (the later one wins) and the losing peer stops its copy.
 * - Pinned instances (their data lives on their peer) wait for it.
 * - Target: among the eligible peers (role `peer`, `alive`, carrying every required tag), instances in id
 *   order go to the peer that (1) holds the fewest of their group (replicas spread), then (2) holds the
 *   fewest workloads, counting the moves decided before it, then (3) has the highest rendezvous weight for
 *   the instance, then (4) has the smallest id. None eligible: it waits, with the reason.
 * - Writers: the target itself first; it writes its moves at once. The other live peers follow in
 *   rendezvous order, each one fallback delay later than the one before, writing only what has not
 *   appeared: one write per move in the common case, and a repair even when the target dies in turn.
 *   Concurrent writes of a move converge (the owner is a stamped register in the graph).
 *
 * Never throws.
 *
 * @example
 * const plan = planRepair({ workloads, peers });
 * const mine = plan.moves.filter((move) => move.writers[0] === self);
 * graph.assignWorkloads(mine.map((move) => ({ workloadId: move.workloadId, owner: move.to })));
 */
export function planRepair(input: {
  readonly workloads: readonly RepairWorkload[];
  readonly peers: readonly RepairPeer[];
}): RepairPlan {
  const peers = [...input.peers].sort((a, b) => compareStrings(a.id, b.id));
  const peerById = new Map(peers.map((peer) => [peer.id, peer]));
  const gone = (owner: string): boolean => {
    const peer = peerById.get(owner);
    return peer === undefined || peer.state === 'dead' || peer.state === 'left';
  };
  const voters = peers.filter((peer) => peer.role === 'peer' && peer.state !== 'left');
  const alive = peers.filter((peer) => peer.role === 'peer' && peer.state === 'alive');
  const quorum = alive.length > 0 && alive.length * 2 >= voters.length;
  const workloads = [...input.workloads].sort((a, b) => compareStrings(a.id, b.id));
  const orphans = workloads.filter((workload) => gone(workload.owner));
  if (orphans.length === 0) return { moves: [], waiting: [], quorum };
  if (!quorum) {
    const reason = `only ${alive.length} of ${voters.length} peers are alive here: a minority moves nothing`;
    return {
      moves: [],
      waiting: orphans.map((workload) => ({ workloadId: workload.id, owner: workload.owner, reason })),
      quorum,
    };
  }

  const load = new Map<string, number>();
  const groupLoad = new Map<string, number>();
  const groupKey = (group: string, peer: string): string => `${group}\u0000${peer}`;
  const count = (workload: RepairWorkload, peer: string): void => {
    load.set(peer, (load.get(peer) ?? 0) + 1);
    if (workload.group !== undefined) {
      const key = groupKey(workload.group, peer);
      groupLoad.set(key, (groupLoad.get(key) ?? 0) + 1);
    }
  };
  for (const workload of workloads) if (!gone(workload.owner)) count(workload, workload.owner);

  const moves: RepairMove[] = [];
  const waiting: RepairWait[] = [];
  for (const workload of orphans) {
    if (workload.pinned !== undefined) {
      waiting.push({ workloadId: workload.id, owner: workload.owner, reason: workload.pinned });
      continue;
    }
    const required = workload.requiredTags ?? [];
    const weightOf = rendezvousScorer(workload.id);
    const ranked = alive
      .filter((peer) => required.every((tag) => peer.tags.includes(tag)))
      .map((peer) => ({
        id: peer.id,
        siblings: workload.group === undefined ? 0 : (groupLoad.get(groupKey(workload.group, peer.id)) ?? 0),
        load: load.get(peer.id) ?? 0,
        weight: weightOf(peer.id),
      }))
      .sort(
        (a, b) =>
          a.siblings - b.siblings || a.load - b.load || b.weight - a.weight || compareStrings(a.id, b.id),
      );
    const chosen = ranked[0];
    if (chosen === undefined) {
      const reason =
        required.length === 0
          ? 'no alive peer to run it'
          : `no alive peer has all of the tags ${[...new Set(required)].join(', ')}`;
      waiting.push({ workloadId: workload.id, owner: workload.owner, reason });
      continue;
    }
    count(workload, chosen.id);
    const fallbacks = alive
      .filter((peer) => peer.id !== chosen.id)
      .map((peer) => ({ id: peer.id, weight: weightOf(peer.id) }))
      .sort((a, b) => b.weight - a.weight || compareStrings(a.id, b.id))
      .map((peer) => peer.id);
    moves.push({
      workloadId: workload.id,
      from: workload.owner,
      to: chosen.id,
      writers: [chosen.id, ...fallbacks],
    });
  }
  return { moves, waiting, quorum };
}
