import type { PeerState, Workload } from '@monk/model';
import type { Graph } from '@monk/graph';
import { peerFailureRecovery, planRepair } from '@monk/planner';
import type { RepairMove, RepairPeer, RepairWorkload } from '@monk/planner';
import type { Logger } from './logger.ts';

/** What the repairer needs of the cluster: who is in it, in which state, and word when that changes. */
export interface RepairMembership {
  /** False out of a cluster: a peer alone has nowhere to move anything. */
  isMember(): boolean;
  /** Membership's state of each peer it knows (this one included or not: it is `alive` to itself). */
  peerStates(): ReadonlyMap<string, PeerState | 'unknown'>;
  /** Calls `listener` when a peer's state changes. Returns an unsubscribe. */
  onPeerStateChange(listener: () => void): () => void;
}

/** One timer; the returned function cancels it. */
export type SetTimer = (fn: () => void, delayMs: number) => () => void;

export interface RepairerOptions {
  readonly peerId: string;
  /**
   * How long each fallback writer waits after the one before it (default 2 s): the new owner writes a move
   * at once; if it has not appeared after this long, the next peer in the move's writer order writes it.
   */
  readonly fallbackDelayMs?: number;
  /** A full pass this often whatever happened (default 5 s), besides the passes changes trigger. */
  readonly resyncIntervalMs?: number;
}

export interface Repairer {
  start(): void;
  stop(): void;
  /** Plans and writes what is due now (what the triggers call); exposed for tests. */
  pass(): void;
}

/**
 * Moves the instances of dead, departed and removed peers to live ones, with no leader: each peer plans
 * with {@link planRepair} over its own view and writes only the moves it is first writer of (the new owner),
 * or, after `fallbackDelayMs` per rank, the moves another peer should have written and did not. Passes run
 * on every membership change, on every workload or peer change in the graph, and every
 * `resyncIntervalMs`. The containers follow the graph: the new owner's reconciler starts the instance,
 * and a peer that finds itself running an instance assigned elsewhere (one that comes back) removes it.
 *
 * @example
 * const repairer = createRepairer({ peerId }, { graph, membership, logger, now: Date.now, setTimer });
 * repairer.start();
 */
export function createRepairer(
  options: RepairerOptions,
  components: {
    readonly graph: Pick<Graph, 'listWorkloads' | 'listPeers' | 'assignWorkloads' | 'onChange'>;
    readonly membership: RepairMembership;
    readonly logger: Logger;
    readonly now: () => number;
    readonly setTimer: SetTimer;
  },
): Repairer {
  const { graph, membership, logger, now, setTimer } = components;
  const self = options.peerId;
  const fallbackDelayMs = options.fallbackDelayMs ?? 2_000;
  const resyncIntervalMs = options.resyncIntervalMs ?? 5_000;
  /** When this peer first planned each move (by workload and target), to time its fallback. */
  const firstPlanned = new Map<string, number>();
  const waitingReported = new Map<string, string>();
  /** When this peer first saw each gone peer gone, for `recovery.after`. */
  const goneSince = new Map<string, number>();
  let running = false;
  let cancelSoon: (() => void) | undefined;
  let cancelWake: (() => void) | undefined;
  let cancelResync: (() => void) | undefined;
  const unsubscribes: Array<() => void> = [];

  const wakeAt = (delayMs: number): void => {
    cancelWake?.();
    cancelWake = setTimer(() => {
      cancelWake = undefined;
      pass();
    }, delayMs);
  };

  /** A pass on the next turn: triggers come in bursts, and graph listeners must not write the graph. */
  const soon = (): void => {
    cancelSoon ??= setTimer(() => {
      cancelSoon = undefined;
      pass();
    }, 0);
  };

  const resync = (): void => {
    cancelResync = setTimer(() => {
      pass();
      if (running) resync();
    }, resyncIntervalMs);
  };

  function view(t: number): { peers: RepairPeer[]; workloads: RepairWorkload[]; wakeAt?: number } {
    const states = membership.peerStates();
    const peers = graph.listPeers().map((peer): RepairPeer => ({
      id: peer.id,
      role: peer.role,
      tags: peer.tags,
      state: peer.id === self ? 'alive' : (states.get(peer.id) ?? 'unknown'),
    }));
    const recorded = new Map(peers.map((peer) => [peer.id, peer.state]));
    const isGone = (id: string): boolean => {
      const state = recorded.get(id);
      return state === undefined || state === 'dead' || state === 'left';
    };
    for (const id of goneSince.keys()) if (!isGone(id)) goneSince.delete(id);
    let wake: number | undefined;
    const workloads: RepairWorkload[] = [];
    // Unschedulable instances (no owner) are the pending placer's, not repair's.
    for (const workload of graph.listWorkloads().filter((w) => w.owner !== '')) {
      const seen = repairWorkload(workload);
      if (seen.pinned !== undefined || !isGone(workload.owner)) {
        workloads.push(seen);
        continue;
      }
      const deadSince = goneSince.get(workload.owner) ?? t;
      goneSince.set(workload.owner, deadSince);
      // `recovery` (when, after) decides whether and when an instance leaves a dead peer.
      const decision = peerFailureRecovery(workload.recovery, { deadSince, now: t });
      if (decision.move) {
        workloads.push(seen);
        continue;
      }
      if (decision.at !== undefined) wake = Math.min(wake ?? decision.at, decision.at);
      workloads.push({ ...seen, pinned: decision.reason });
    }
    return { peers, workloads, ...(wake === undefined ? {} : { wakeAt: wake }) };
  }

  function pass(): void {
    if (!running || !membership.isMember()) return;
    const t = now();
    const seen = view(t);
    const plan = planRepair(seen);
    const planned = new Set(plan.moves.map(moveKey));
    for (const key of firstPlanned.keys()) if (!planned.has(key)) firstPlanned.delete(key);
    const due: RepairMove[] = [];
    let nextDue: number | undefined;
    for (const move of plan.moves) {
      const rank = move.writers.indexOf(self);
      if (rank < 0) continue;
      const since = firstPlanned.get(moveKey(move)) ?? t;
      firstPlanned.set(moveKey(move), since);
      const at = since + rank * fallbackDelayMs;
      if (at <= t) due.push(move);
      else nextDue = Math.min(nextDue ?? at, at);
    }
    for (const wait of plan.waiting) {
      if (waitingReported.get(wait.workloadId) === wait.reason) continue;
      waitingReported.set(wait.workloadId, wait.reason);
      logger.warn(`${wait.workloadId} stays on ${wait.owner}, which is gone: ${wait.reason}`, {
        workload: wait.workloadId,
        owner: wait.owner,
      });
    }
    for (const id of waitingReported.keys())
      if (!plan.waiting.some((w) => w.workloadId === id)) waitingReported.delete(id);
    if (seen.wakeAt !== undefined) nextDue = Math.min(nextDue ?? seen.wakeAt, seen.wakeAt);
    if (nextDue !== undefined) wakeAt(nextDue - t);
    if (due.length === 0) return;
    try {
      graph.assignWorkloads(due.map((move) => ({ workloadId: move.workloadId, owner: move.to })));
    } catch (error) {
      // A full disk, or a workload purged meanwhile: the next pass plans afresh.
      logger.warn('could not write repair moves', {
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    for (const move of due) {
      logger.info(`moved ${move.workloadId} from ${move.from} to ${move.to}`, {
        workload: move.workloadId,
        from: move.from,
        to: move.to,
        fallback: move.writers[0] !== self,
      });
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      unsubscribes.push(membership.onPeerStateChange(soon));
      unsubscribes.push(
        graph.onChange((changes) => {
          if (changes.some((change) => change.kind === 'workload' || change.kind === 'peer')) soon();
        }),
      );
      resync();
      soon();
    },
    stop() {
      running = false;
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      cancelSoon?.();
      cancelWake?.();
      cancelResync?.();
      cancelSoon = cancelWake = cancelResync = undefined;
    },
    pass,
  };
}

function moveKey(move: RepairMove): string {
  return `${move.workloadId}\u0000${move.to}`;
}

/**
 * A workload as repair sees it: replicas of one runnable container form a group; a named volume or a
 * writable host path pins it to its peer (its data is there); anonymous volumes start empty anywhere.
 */
export function repairWorkload(workload: Workload): RepairWorkload {
  const data = workload.spec.mounts.find(
    (mount) => (mount.kind === 'volume' && mount.source !== '') || (mount.kind === 'bind' && !mount.readOnly),
  );
  const tags = workload.placement?.tags ?? [];
  return {
    id: workload.id,
    owner: workload.owner,
    group: `${workload.runnable}#${workload.container}`,
    ...(tags.length === 0 ? {} : { requiredTags: tags }),
    ...(data === undefined
      ? {}
      : { pinned: `its data (${data.source} at ${data.target}) lives on ${workload.owner}` }),
  };
}
