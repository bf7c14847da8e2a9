import type { PeerCapacity, PeerState } from '@monk/model';
import { compareStrings } from './dependency-order.ts';
import { rendezvousScorer } from './rendezvous-hash.ts';

/** A cluster member as placement sees it. Peer ids are unique. */
export interface PlacementPeer {
  id: string;
  tags: readonly string[];
  state: PeerState;
  /** Operators (CLI machines joined to the cluster) never run workloads. */
  role: 'peer' | 'operator';
  /** How many workloads the peer owns now, including any of this batch it already owns. */
  workloads: number;
  /** Its name (what `affinity.name` and `--peer` may say); the deploy core matches it as well as the id. */
  name?: string;
  /** What its host offers (absent: unknown, and then only GPU requests are refused). */
  capacity?: PeerCapacity;
}

/** A workload to place: its id, its current owner if any, and its constraints. */
export interface PlacementRequest {
  id: string;
  owner?: string;
  /** Tags a peer must all have to run it. */
  requiredTags?: readonly string[];
  /** Workload ids (of the same batch) it should not share a peer with; symmetric and best effort. */
  avoidTogetherWith?: readonly string[];
}

/** Why a workload could not be placed. */
export interface PlacementFailure {
  reason: string;
  /** The required tags that no eligible peer, or the closest one, lacks; empty when tags are not the problem. */
  missingTags: string[];
}

/** A workload of the batch moved off a dead or departed peer. */
export interface Reassignment {
  workloadId: string;
  from: string;
  to: string;
}

/** A workload {@link reassignOrphans} looks at; every `Workload` of @monk/model is one. */
export interface OwnedWorkload {
  id: string;
  owner: string;
  requiredTags?: readonly string[];
}

/**
 * Decides which peer runs each workload of a batch. Pure and deterministic: the answer does not depend on
 * the order of `workloads` or `peers`.
 *
 * - Sticky: a workload whose `owner` is a known peer that is `alive` or `suspect` keeps it, whatever its
 *   tags now say (placement is decided once; a new peer or tag moves nothing).
 * - Every other workload goes to an eligible peer (role `peer`, state `alive`, carrying every required tag).
 *   Workloads are placed in id order; for each, the peer chosen is the one that (1) hosts the fewest of the
 *   workloads it should avoid, then (2) has the lowest load (`workloads` plus those placed on it earlier in
 *   this call), then (3) has the highest rendezvous weight for the (workload, peer) pair, then (4) has the
 *   smallest id. Least-load first keeps loads within one of each other when peers start equal; rendezvous
 *   decides among equals so that ties do not all land on the alphabetically first peer.
 * - No eligible peer: a {@link PlacementFailure} naming the tags no alive peer has, or the tags the closest
 *   peer lacks.
 *
 * Never throws.
 *
 * @example
 * const placed = placeWorkloads({ workloads: [{ id: 'ns/app#web', requiredTags: ['edge'] }], peers });
 * const target = placed.get('ns/app#web'); // 'peer-b', or { reason: 'no alive peer has tag edge', … }
 */
export function placeWorkloads(options: {
  workloads: readonly PlacementRequest[];
  peers: readonly PlacementPeer[];
}): Map<string, string | PlacementFailure> {
  const peers = [...options.peers].sort((a, b) => compareStrings(a.id, b.id));
  const peerById = new Map(peers.map((peer) => [peer.id, peer]));
  const requests = [...options.workloads].sort((a, b) => compareStrings(a.id, b.id));
  const avoid = avoidanceIndex(requests);
  const load = new Map(peers.map((peer) => [peer.id, peer.workloads]));
  const placedOn = new Map<string, string>();
  const result = new Map<string, string | PlacementFailure>();

  for (const request of requests) {
    const owner = request.owner === undefined ? undefined : peerById.get(request.owner);
    if (owner !== undefined && (owner.state === 'alive' || owner.state === 'suspect')) {
      placedOn.set(request.id, owner.id);
      result.set(request.id, owner.id);
    }
  }
  for (const request of requests) {
    if (result.has(request.id)) continue;
    const required = request.requiredTags ?? [];
    const avoided = avoid.get(request.id) ?? new Set<string>();
    const conflicts = (peerId: string): number =>
      [...avoided].filter((other) => placedOn.get(other) === peerId).length;
    const weightOf = rendezvousScorer(request.id);
    const ranked = peers
      .filter((peer) => isEligible(peer, required))
      .map((peer) => ({
        id: peer.id,
        conflicts: conflicts(peer.id),
        load: load.get(peer.id) ?? 0,
        weight: weightOf(peer.id),
      }))
      .sort(
        (a, b) =>
          a.conflicts - b.conflicts || a.load - b.load || b.weight - a.weight || compareStrings(a.id, b.id),
      );
    const chosen = ranked[0];
    if (chosen === undefined) {
      result.set(request.id, placementFailure(required, peers));
      continue;
    }
    placedOn.set(request.id, chosen.id);
    load.set(chosen.id, chosen.load + 1);
    result.set(request.id, chosen.id);
  }
  return result;
}

/**
 * Moves the workloads whose owner is `dead` or `left` to the live eligible peer (role `peer`, `alive`,
 * every required tag) with the highest rendezvous weight for the workload, ties by smallest peer id. Load
 * is deliberately ignored: the answer depends only on the membership view, so every peer that computes it
 * independently from the same view agrees, whatever the order of its inputs.
 *
 * Owners that are unknown to `peers` are left alone (their membership record may not have arrived yet), as
 * are orphans with no eligible peer ({@link placeWorkloads} reports why). The result is sorted by workload
 * id. Never throws.
 *
 * @example
 * for (const move of reassignOrphans({ workloads, peers })) graph.setOwner(move.workloadId, move.to);
 */
export function reassignOrphans(options: {
  workloads: readonly OwnedWorkload[];
  peers: readonly PlacementPeer[];
}): Reassignment[] {
  const peerById = new Map(options.peers.map((peer) => [peer.id, peer]));
  const moves: Reassignment[] = [];
  for (const workload of options.workloads) {
    const owner = peerById.get(workload.owner);
    if (owner === undefined || (owner.state !== 'dead' && owner.state !== 'left')) continue;
    const required = workload.requiredTags ?? [];
    const weightOf = rendezvousScorer(workload.id);
    let best: { id: string; weight: number } | undefined;
    for (const peer of options.peers) {
      if (!isEligible(peer, required)) continue;
      const weight = weightOf(peer.id);
      if (best === undefined || weight > best.weight || (weight === best.weight && peer.id < best.id)) {
        best = { id: peer.id, weight };
      }
    }
    if (best !== undefined) moves.push({ workloadId: workload.id, from: workload.owner, to: best.id });
  }
  return moves.sort((a, b) => compareStrings(a.workloadId, b.workloadId));
}

function isEligible(peer: PlacementPeer, required: readonly string[]): boolean {
  return peer.role === 'peer' && peer.state === 'alive' && required.every((tag) => peer.tags.includes(tag));
}

function placementFailure(required: readonly string[], peers: readonly PlacementPeer[]): PlacementFailure {
  const alive = peers.filter((peer) => peer.role === 'peer' && peer.state === 'alive');
  if (alive.length === 0) {
    return {
      reason: `no alive peer to run it (${peers.length} known, none alive with role peer)`,
      missingTags: [],
    };
  }
  const tags = [...new Set(required)];
  const nowhere = tags.filter((tag) => !alive.some((peer) => peer.tags.includes(tag)));
  if (nowhere.length > 0) {
    return {
      reason: `no alive peer has ${plural('tag', nowhere)} ${nowhere.join(', ')}`,
      missingTags: nowhere,
    };
  }
  const lacking = (peer: PlacementPeer): string[] => tags.filter((tag) => !peer.tags.includes(tag));
  const closest = [...alive].sort(
    (a, b) => lacking(a).length - lacking(b).length || compareStrings(a.id, b.id),
  )[0];
  const missing = closest === undefined ? tags : lacking(closest);
  return {
    reason: `no alive peer has all of the tags ${tags.join(', ')} (closest: ${closest?.id ?? 'none'}, missing ${missing.join(', ')})`,
    missingTags: missing,
  };
}

function avoidanceIndex(requests: readonly PlacementRequest[]): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  const add = (a: string, b: string): void => {
    if (a === b) return;
    index.set(a, (index.get(a) ?? new Set()).add(b));
  };
  for (const request of requests) {
    for (const other of request.avoidTogetherWith ?? []) {
      add(request.id, other);
      add(other, request.id);
    }
  }
  return index;
}

function plural(word: string, items: readonly unknown[]): string {
  return items.length === 1 ? word : `${word}s`;
}
