import {
  MonkError,
  type PeerCapacity,
  type PeerState,
  type ResolvedRunnable,
  type Unschedulable,
  type Workload,
} from '@monk/model';
import { buildWorkloads } from './build-workloads.ts';
import { compareStrings } from './dependency-order.ts';
import { diffWorkloads, type DeploymentChange } from './deployment-diff.ts';
import { createClusterLoad, sumRequests, type PlacementUnit } from './schedule-instances.ts';

/** A cluster member as the deploy core sees it: its membership state, tags and capacity. */
export interface DeployPeer {
  id: string;
  name?: string;
  role: 'peer' | 'operator';
  state: PeerState;
  tags: readonly string[];
  capacity?: PeerCapacity;
}

/** Everything one `run`/`update`/`plan`/`scale` decides from. Plain data; nothing is read from elsewhere. */
export interface DeployInput {
  /** The deployment path (`ns/app`, a runnable or a group). */
  deployment: string;
  /** The runnables the template resolved to, in dependency order. */
  runnables: readonly ResolvedRunnable[];
  generation: number;
  /** Every workload of the graph now (of every deployment: they count in load and capacity). */
  workloads: readonly Workload[];
  /** The cluster's members; on a peer in no cluster, itself alone. */
  peers: readonly DeployPeer[];
  /** The peer that accepted the call: it wins among otherwise equal peers. */
  accepting: string;
  /** `--peer`: every instance runs on this peer id, moving those that run elsewhere. */
  pin?: string;
  /** `-t TAG`: tags every instance's peer must carry, on top of `affinity.tag`. */
  tags?: readonly string[];
  /** `--force-move`: re-place every instance (those with a volume stay), not only new ones. */
  forceMove?: boolean;
  /** Replicas by runnable path that win over the template's `scale` (`monk scale`). */
  replicas?: Readonly<Record<string, number>>;
}

/** An instance no peer can take now, and why each peer was filtered out. */
export interface UnschedulableInstance extends Unschedulable {
  workloadId: string;
}

/** What a deploy writes: the deployment's next workloads (with owners) and the ids to delete. */
export interface DeployPlan {
  /** The deployment's workloads after the deploy, sorted by id; unschedulable ones have owner `''`. */
  workloads: Workload[];
  /** Workloads of the deployment to delete (scaled down, or gone from the template), sorted. */
  deleted: string[];
  /** What changes, workload by workload ({@link diffWorkloads}). */
  changes: DeploymentChange[];
  unschedulable: UnschedulableInstance[];
}

/**
 * The deploy core: resolved runnables + the graph's workloads + the peers → the deployment's next
 * workloads with their owners. Pure and deterministic (the order of `runnables`, `workloads` and `peers`
 * does not change the answer).
 *
 * Rules:
 * - Instances stay where they run (sticky): an instance whose owner is alive, suspect or not yet known
 *   keeps it, whatever its constraints now say, and a peer joining moves nothing. `pin` moves instances
 *   that run elsewhere; `forceMove` re-places all of them (an instance that cannot go anywhere else stays).
 * - An instance with a bind mount or a named volume stays on its peer even when that peer is dead or
 *   `forceMove` is set: its data is there. Only a `pin` moves it.
 * - The containers of one replica of a runnable always go to the same peer; replicas spread across peers;
 *   see {@link createClusterLoad} for the filters (tags, name, resident, GPUs, capacity) and the ranking.
 * - Adopt if unchanged: an instance whose spec is unchanged, running, on the same owner keeps its record
 *   (generation included), so its container is adopted, not recreated.
 * - An instance no peer can take gets owner `''` and `unschedulable` (the reason per peer); it is placed
 *   when room appears ({@link placePending}).
 *
 * Throws `TEMPLATE_INVALID` when the runnables define no container, and `INVALID_REQUEST` when an instance
 * id already belongs to another deployment.
 *
 * @example
 * const plan = planDeploy({ deployment: 'ns/web', runnables, generation: 2, workloads: graph.listWorkloads(),
 *   peers, accepting: selfId });
 * graph.transact(() => { graph.deleteWorkloads(plan.deleted); graph.putWorkloads(plan.workloads); });
 */
export function planDeploy(input: DeployInput): DeployPlan {
  const extraTags = [...new Set(input.tags ?? [])].sort(compareStrings);
  const built = buildWorkloads({
    deployment: input.deployment,
    runnables: input.runnables,
    owner: '',
    generation: input.generation,
    ...(input.replicas === undefined ? {} : { replicas: input.replicas }),
  }).map((workload) => withTags(workload, extraTags));
  if (built.length === 0) {
    throw new MonkError('TEMPLATE_INVALID', `${input.deployment} defines no containers to run`);
  }
  const builtIds = new Set(built.map((w) => w.id));
  const taken = input.workloads
    .filter((w) => w.deployment !== input.deployment && builtIds.has(w.id))
    .sort((a, b) => compareStrings(a.id, b.id));
  if (taken.length > 0) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${taken.map((w) => w.id).join(', ')} already run as part of ${taken[0]?.deployment ?? '?'}; purge that first`,
    );
  }

  const current = input.workloads.filter((w) => w.deployment === input.deployment);
  const currentById = new Map(current.map((w) => [w.id, w]));
  const peerById = new Map(input.peers.map((peer) => [peer.id, peer]));
  const load = createClusterLoad(input.peers.map((peer) => ({ ...peer, workloads: 0 })));
  load.add(input.workloads.filter((w) => w.deployment !== input.deployment));

  const units = unitsOf(built);
  const owners = new Map<string, string>();
  const toPlace: PlacementUnit[] = [];
  for (const unit of units) {
    const previous = previousOwner(unit, currentById);
    // Data on the peer, or a `recovery` that waits (`after`) or never moves: a dead owner keeps it, as
    // repair would (the deploy reports it pending).
    const volumes = holdsData(unit) || unit.workloads.some(waitsForItsPeer);
    const usable =
      previous !== undefined && (volumes || ownerUsable(peerById.get(previous)?.state ?? 'unknown'));
    const keep =
      previous !== undefined &&
      usable &&
      (input.pin === undefined || previous === input.pin) &&
      (input.forceMove !== true || volumes);
    if (keep) {
      owners.set(unit.key, previous);
      load.add(unit.workloads.map((w) => ({ ...w, owner: previous })));
    } else {
      toPlace.push(unit);
    }
  }

  const unschedulable = new Map<string, Unschedulable>();
  for (const unit of toPlace) {
    const placed = load.place(unit, {
      ...(input.pin === undefined ? {} : { pin: input.pin }),
      preferred: input.accepting,
    });
    if (placed.peer !== undefined) {
      owners.set(unit.key, placed.peer);
      continue;
    }
    const previous = previousOwner(unit, currentById);
    if (
      input.forceMove === true &&
      input.pin === undefined &&
      previous !== undefined &&
      ownerUsable(peerById.get(previous)?.state ?? 'unknown')
    ) {
      // Nowhere better to go: a forced move leaves it where it runs rather than stopping it.
      owners.set(unit.key, previous);
      load.add(unit.workloads.map((w) => ({ ...w, owner: previous })));
      continue;
    }
    unschedulable.set(unit.key, describeRejections(placed.rejections, peerById));
  }

  const next = units
    .flatMap((unit) =>
      unit.workloads.map((workload) => {
        const owner = owners.get(unit.key) ?? '';
        const why = unschedulable.get(unit.key);
        return nextWorkload({ workload, owner, why, old: currentById.get(workload.id) });
      }),
    )
    .sort((a, b) => compareStrings(a.id, b.id));
  const nextIds = new Set(next.map((w) => w.id));
  return {
    workloads: next,
    deleted: current
      .map((w) => w.id)
      .filter((id) => !nextIds.has(id))
      .sort(compareStrings),
    changes: diffWorkloads(current, next),
    unschedulable: next.flatMap((w) =>
      w.unschedulable === undefined ? [] : [{ workloadId: w.id, ...w.unschedulable }],
    ),
  };
}

/**
 * Places the unschedulable instances of the graph that now fit (room appeared: a peer joined, got a tag
 * or capacity, or something stopped), by the same filters and ranking as {@link planDeploy}, with no
 * preferred peer so every peer computes the same answer. Returns the workloads to write: the ones placed
 * (owner set, `unschedulable` gone) and those whose reasons changed. Pure; never throws.
 *
 * @example
 * const changed = placePending({ workloads: graph.listWorkloads(), peers });
 * if (changed.length > 0) graph.putWorkloads(changed);
 */
export function placePending(input: {
  workloads: readonly Workload[];
  peers: readonly DeployPeer[];
}): Workload[] {
  const pending = input.workloads.filter((w) => w.owner === '' && w.state === 'running');
  if (pending.length === 0) return [];
  const peerById = new Map(input.peers.map((peer) => [peer.id, peer]));
  const load = createClusterLoad(input.peers.map((peer) => ({ ...peer, workloads: 0 })));
  load.add(input.workloads);
  const changed: Workload[] = [];
  for (const unit of unitsOf(pending)) {
    const placed = load.place(unit, {});
    for (const workload of unit.workloads) {
      if (placed.peer !== undefined) {
        const { unschedulable: _, ...rest } = workload;
        changed.push({ ...rest, owner: placed.peer });
        continue;
      }
      const why = describeRejections(placed.rejections, peerById);
      if (JSON.stringify(why) !== JSON.stringify(workload.unschedulable)) {
        changed.push({ ...workload, unschedulable: why });
      }
    }
  }
  return changed.sort((a, b) => compareStrings(a.id, b.id));
}

/**
 * The one peer that places pending instances, so that peers do not race to place them: the alive
 * member of role `peer` with the smallest id in the membership view. Undefined when none is alive.
 */
export function pendingPlacer(peers: readonly DeployPeer[]): string | undefined {
  return peers
    .filter((peer) => peer.role === 'peer' && peer.state === 'alive')
    .map((peer) => peer.id)
    .sort(compareStrings)[0];
}

function withTags(workload: Workload, tags: readonly string[]): Workload {
  if (tags.length === 0) return workload;
  const merged = [...new Set([...(workload.placement?.tags ?? []), ...tags])].sort(compareStrings);
  return { ...workload, placement: { ...workload.placement, tags: merged } };
}

/** Groups workloads into units: one per replica of a runnable (its containers run together). */
function unitsOf(workloads: readonly Workload[]): PlacementUnit[] {
  const byKey = new Map<string, Workload[]>();
  for (const workload of workloads) {
    const key = `${workload.runnable}@${replicaOf(workload)}`;
    byKey.set(key, [...(byKey.get(key) ?? []), workload]);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([key, members]) => {
      const sorted = [...members].sort((a, b) => compareStrings(a.id, b.id));
      return {
        key,
        runnable: sorted[0]?.runnable ?? '',
        workloads: sorted,
        placement: sorted[0]?.placement,
        requests: sumRequests(sorted),
      };
    });
}

/** The replica number of a workload, from its id (`ns/app#web@2` → 2; no suffix → 0). */
function replicaOf(workload: Workload): number {
  const suffix = workload.id.slice(workload.runnable.length + 1 + workload.container.length);
  const match = /^@(\d+)$/.exec(suffix);
  return match === null ? 0 : Number(match[1]);
}

function previousOwner(unit: PlacementUnit, current: ReadonlyMap<string, Workload>): string | undefined {
  for (const workload of unit.workloads) {
    const owner = current.get(workload.id)?.owner;
    if (owner !== undefined && owner !== '') return owner;
  }
  return undefined;
}

/** Whether `recovery` keeps an instance on a dead peer for now (`after`) or for good (`when`). */
function waitsForItsPeer(workload: Workload): boolean {
  const { when, afterMs } = workload.recovery;
  return when === 'none' || when === 'container-failure' || (afterMs !== undefined && afterMs > 0);
}

/** An owner keeps its instances unless membership says it is gone. */
function ownerUsable(state: PeerState | 'unknown'): boolean {
  return state !== 'dead' && state !== 'left';
}

function holdsData(unit: PlacementUnit): boolean {
  return unit.workloads.some((w) => w.spec.mounts.some((m) => m.kind === 'bind' || m.kind === 'volume'));
}

function describeRejections(
  rejections: ReadonlyArray<{ peer: string; reason: string }>,
  peers: ReadonlyMap<string, DeployPeer>,
): Unschedulable {
  const label = (id: string): string => peers.get(id)?.name ?? id;
  const reason =
    rejections.length === 0
      ? 'no peer to run it'
      : `no peer fits: ${rejections.map((r) => `${label(r.peer)}: ${r.reason}`).join('; ')}`;
  return { reason, peers: rejections.map((r) => ({ peer: r.peer, reason: r.reason })) };
}

function nextWorkload(options: {
  workload: Workload;
  owner: string;
  why: Unschedulable | undefined;
  old: Workload | undefined;
}): Workload {
  const { workload, owner, why, old } = options;
  if (
    owner !== '' &&
    old !== undefined &&
    old.owner === owner &&
    old.specHash === workload.specHash &&
    old.state === 'running'
  ) {
    // Adopt: the old record (its generation) stays, so the running container is kept as it is.
    const { placement: _, unschedulable: __, ...rest } = old;
    return workload.placement === undefined ? rest : { ...rest, placement: workload.placement };
  }
  return { ...workload, owner, ...(why === undefined ? {} : { unschedulable: why }) };
}
