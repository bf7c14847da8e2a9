import type { PeerCapacity, PlacementConstraints, Workload } from '@monk/model';
import { compareStrings } from './dependency-order.ts';
import type { PlacementPeer } from './placement.ts';
import { rendezvousScorer } from './rendezvous-hash.ts';

/**
 * One unit of placement: the containers of one replica of one runnable, which always run together on one
 * peer (a runnable's containers stand together on a single peer, as in Monk).
 */
export interface PlacementUnit {
  /** `<runnable>@<replica>`: stable, and the key of its rendezvous weights. */
  key: string;
  runnable: string;
  workloads: readonly Workload[];
  /** Constraints of the unit (its workloads share them: they come from one runnable). */
  placement: PlacementConstraints | undefined;
  /** Sum of the requests of its containers. */
  requests: RequestTotals;
}

/** Requests summed over the containers of a unit, zero for what they do not ask. */
export interface RequestTotals {
  cpus: number;
  memoryBytes: number;
  gpus: number;
}

/** Why one peer cannot take a unit, in words for `monk describe`. */
export interface PeerRejection {
  peer: string;
  reason: string;
}

/** A unit's answer: the peer chosen, or why every peer was filtered out. */
export type UnitPlacement = { peer: string } | { peer: undefined; rejections: PeerRejection[] };

/** Resources in integer units (milli-CPUs, bytes, GPUs), so that sums never depend on their order. */
interface Amounts {
  milliCpus: number;
  memoryBytes: number;
  gpus: number;
}

/**
 * The bookkeeping of one placement run: what each peer runs now (load, allocated requests, residents and
 * replicas per runnable), updated as units are placed. Pure; built from the graph's workloads.
 */
export interface ClusterLoad {
  /** Records `workloads` as running on their owners (those with an owner and desired state running). */
  add(workloads: readonly Workload[]): void;
  /**
   * Chooses a peer for `unit` among `peers` and records it there, or returns why no peer fits.
   * `preferred` wins among otherwise equal peers (the accepting peer).
   */
  place(unit: PlacementUnit, options: { pin?: string; preferred?: string }): UnitPlacement;
}

/**
 * Creates the load book of `peers`. Placement of a unit filters peers (role `peer`, state `alive` or
 * `suspect`, the pin, `affinity.name`, tags, resident peers, GPUs, capacity: the sum of requests never
 * exceeds a known capacity) and ranks the rest by (1) fewest replicas of the same runnable (spread),
 * (2) alive before suspect, (3) fewest running workloads, (4) the preferred peer, (5) the highest
 * rendezvous weight for the unit, (6) the smallest id.
 * Deterministic: the answer does not depend on the order of peers or workloads.
 */
export function createClusterLoad(peers: readonly PlacementPeer[]): ClusterLoad {
  const sorted = [...peers].sort((a, b) => compareStrings(a.id, b.id));
  const allocated = new Map<string, Amounts>(
    sorted.map((p) => [p.id, { milliCpus: 0, memoryBytes: 0, gpus: 0 }]),
  );
  const load = new Map<string, number>(sorted.map((p) => [p.id, p.workloads]));
  /** Runnables with instances on each peer, with how many. */
  const runnables = new Map<string, Map<string, number>>(sorted.map((p) => [p.id, new Map()]));
  /** The resident runnable of each peer that has one. */
  const residents = new Map<string, string>();

  const record = (peer: string, runnable: string, workload: Workload): void => {
    const amounts = allocated.get(peer);
    if (amounts === undefined) return;
    const requests = workload.placement?.requests;
    amounts.milliCpus += milliCpus(requests?.cpus);
    amounts.memoryBytes += requests?.memoryBytes ?? 0;
    amounts.gpus += requests?.gpus ?? 0;
    load.set(peer, (load.get(peer) ?? 0) + 1);
    const counts = runnables.get(peer);
    counts?.set(runnable, (counts.get(runnable) ?? 0) + 1);
    if (workload.placement?.resident === true) residents.set(peer, runnable);
  };

  return {
    add(workloads) {
      for (const workload of workloads) {
        if (workload.owner === '' || workload.state !== 'running') continue;
        record(workload.owner, workload.runnable, workload);
      }
    },
    place(unit, options) {
      const rejections: PeerRejection[] = [];
      const candidates: PlacementPeer[] = [];
      for (const peer of sorted) {
        const reason = rejection(peer, unit, options.pin);
        if (reason === undefined) candidates.push(peer);
        else rejections.push({ peer: peer.id, reason });
      }
      const weightOf = rendezvousScorer(unit.key);
      const ranked = candidates
        .map((peer) => ({
          id: peer.id,
          same: runnables.get(peer.id)?.get(unit.runnable) ?? 0,
          suspect: peer.state === 'suspect' ? 1 : 0,
          load: load.get(peer.id) ?? 0,
          preferred: peer.id === options.preferred ? 0 : 1,
          weight: weightOf(peer.id),
        }))
        .sort(
          (a, b) =>
            a.same - b.same ||
            a.suspect - b.suspect ||
            a.load - b.load ||
            a.preferred - b.preferred ||
            b.weight - a.weight ||
            compareStrings(a.id, b.id),
        );
      const chosen = ranked[0];
      if (chosen === undefined) return { peer: undefined, rejections };
      for (const workload of unit.workloads) record(chosen.id, unit.runnable, workload);
      return { peer: chosen.id };
    },
  };

  function rejection(peer: PlacementPeer, unit: PlacementUnit, pin: string | undefined): string | undefined {
    if (peer.role !== 'peer') return 'an operator (runs no workloads)';
    // Suspect is still a member (SWIM): it may take new instances, after the alive peers of equal spread.
    if (peer.state !== 'alive' && peer.state !== 'suspect') return `${peer.state}`;
    if (pin !== undefined && peer.id !== pin) return `not the pinned peer (--peer ${pin})`;
    const placement = unit.placement;
    if (placement?.peer !== undefined && placement.peer !== peer.id && placement.peer !== peer.name) {
      return `not ${placement.peer} (affinity.name)`;
    }
    const missing = (placement?.tags ?? []).filter((tag) => !peer.tags.includes(tag));
    if (missing.length > 0) return `lacks ${missing.length === 1 ? 'tag' : 'tags'} ${missing.join(', ')}`;
    const resident = residents.get(peer.id);
    if (resident !== undefined && resident !== unit.runnable) return `reserved by resident ${resident}`;
    if (placement?.resident === true) {
      const others = [...(runnables.get(peer.id) ?? new Map<string, number>()).entries()]
        .filter(([runnable, count]) => runnable !== unit.runnable && count > 0)
        .map(([runnable]) => runnable)
        .sort(compareStrings);
      if (others.length > 0)
        return `not empty (runs ${others.join(', ')}; affinity.resident needs a peer of its own)`;
    }
    return capacityRejection(peer.capacity, allocated.get(peer.id), unit.requests);
  }
}

function capacityRejection(
  capacity: PeerCapacity | undefined,
  used: Amounts | undefined,
  requests: RequestTotals,
): string | undefined {
  const taken = used ?? { milliCpus: 0, memoryBytes: 0, gpus: 0 };
  if (requests.gpus > 0) {
    const gpus = capacity?.gpus ?? 0;
    if (gpus === 0) return `has no GPU (needs ${requests.gpus})`;
    if (taken.gpus + requests.gpus > gpus) {
      return `not enough GPUs (needs ${requests.gpus}, ${gpus - taken.gpus} of ${gpus} free)`;
    }
  }
  if (capacity === undefined) return undefined;
  const cpus = milliCpus(capacity.cpus);
  const wanted = milliCpus(requests.cpus);
  if (wanted > 0 && taken.milliCpus + wanted > cpus) {
    return `not enough CPU (needs ${formatCpus(wanted)}, ${formatCpus(Math.max(cpus - taken.milliCpus, 0))} of ${formatCpus(cpus)} free)`;
  }
  if (requests.memoryBytes > 0 && taken.memoryBytes + requests.memoryBytes > capacity.memoryBytes) {
    const free = Math.max(capacity.memoryBytes - taken.memoryBytes, 0);
    return `not enough memory (needs ${formatBytes(requests.memoryBytes)}, ${formatBytes(free)} of ${formatBytes(capacity.memoryBytes)} free)`;
  }
  return undefined;
}

/** The sum of the requests of some workloads, with zeros for what they do not ask. */
export function sumRequests(workloads: readonly Workload[]): RequestTotals {
  let milli = 0;
  let memoryBytes = 0;
  let gpus = 0;
  for (const workload of workloads) {
    milli += milliCpus(workload.placement?.requests?.cpus);
    memoryBytes += workload.placement?.requests?.memoryBytes ?? 0;
    gpus += workload.placement?.requests?.gpus ?? 0;
  }
  return { cpus: milli / 1000, memoryBytes, gpus };
}

function milliCpus(cpus: number | undefined): number {
  return Math.round((cpus ?? 0) * 1000);
}

function formatCpus(milli: number): string {
  return `${milli / 1000} CPU`;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(1))} ${units[unit] ?? 'B'}`;
}
