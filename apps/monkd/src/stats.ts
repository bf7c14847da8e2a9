import { setTimeout as sleepFor } from 'node:timers/promises';
import {
  monkLabels,
  MonkError,
  toMonkError,
  type JsonObject,
  type JsonValue,
  type PeerState,
} from '@monk/model';
import type { Graph } from '@monk/graph';
import type { ContainerRuntime, ContainerStats } from '@monk/runtime';
import type { InstanceStats, MethodName, StatsEvent, StatsResult } from '@monk/sdk';
import type { CallChannel, HandlerGroup } from './handlers.ts';
import { selectWorkloads } from './workloads.ts';

/** One running container whose counters are read, and the instance it belongs to. */
export interface StatsTarget {
  readonly workloadId: string;
  readonly container: string;
  readonly peer: string;
  readonly containerId: string;
}

/**
 * The row of one instance from two readings of its container's counters: CPU percent is the container's
 * share of the host's CPU time between them, times the cores online (as `docker stats` computes it); 0 on
 * the first reading, or when the host's clock did not move. Pure.
 *
 * @example
 * instanceStats(target, { previous, current }).cpuPercent; // 50 = half a core
 */
export function instanceStats(
  target: StatsTarget,
  readings: { previous: ContainerStats | undefined; current: ContainerStats },
): InstanceStats {
  const { previous, current } = readings;
  const system = previous === undefined ? 0 : current.systemCpuNanos - previous.systemCpuNanos;
  const used = previous === undefined ? 0 : current.cpuNanos - previous.cpuNanos;
  const cpu = system > 0 && used > 0 ? (used / system) * current.onlineCpus * 100 : 0;
  return {
    workloadId: target.workloadId,
    container: target.container,
    peer: target.peer,
    cpuPercent: Math.round(cpu * 100) / 100,
    memoryBytes: current.memoryBytes,
    memoryLimitBytes: current.memoryLimitBytes,
    networkRxBytes: current.networkRxBytes,
    networkTxBytes: current.networkTxBytes,
    at: current.readAt,
  };
}

/**
 * Reads the counters of containers and turns them into {@link InstanceStats}, remembering each container's
 * last reading so that CPU percent covers the time since the previous `sample` (what `monk stats -f` and
 * autoscaling need). A container that stopped between listing and reading is left out.
 *
 * @example
 * const sampler = createStatsSampler({ runtime });
 * await sampler.sample(targets); // primes: CPU 0
 * await sleep(1000);
 * const rows = await sampler.sample(targets); // CPU over that second
 */
export interface StatsSampler {
  sample(targets: readonly StatsTarget[]): Promise<InstanceStats[]>;
}

export function createStatsSampler(components: { runtime: Pick<ContainerRuntime, 'stats'> }): StatsSampler {
  let last = new Map<string, ContainerStats>();
  return {
    async sample(targets) {
      const read = await Promise.all(
        targets.map(async (target) => {
          try {
            return { target, current: await components.runtime.stats(target.containerId) };
          } catch (error) {
            const code = toMonkError(error).code;
            if (code === 'NOT_RUNNING' || code === 'CONTAINER_NOT_FOUND') return undefined;
            throw error;
          }
        }),
      );
      const next = new Map<string, ContainerStats>();
      const rows: InstanceStats[] = [];
      for (const entry of read) {
        if (entry === undefined) continue;
        next.set(entry.target.containerId, entry.current);
        rows.push(
          instanceStats(entry.target, {
            previous: last.get(entry.target.containerId),
            current: entry.current,
          }),
        );
      }
      last = next;
      return rows.sort((a, b) => a.workloadId.localeCompare(b.workloadId));
    },
  };
}

/**
 * The `stats` method: rows for the running instances under a path, each read on the peer that runs it
 * (other peers are asked through `forward` with `local: true`); peers that cannot answer are listed as
 * unreachable instead of failing the call. With `follow`, each peer streams a `stats` event every
 * interval until the client hangs up.
 *
 * Throws `RUNNABLE_NOT_FOUND` when a path names no instance.
 */
export function createStatsHandlers(
  options: { peerId: string },
  components: {
    graph: Pick<Graph, 'listWorkloads'>;
    runtime: Pick<ContainerRuntime, 'listContainers' | 'stats'>;
    /** Membership's view of the other peers; a peer it shows dead or left is not asked. */
    peerStates?: () => ReadonlyMap<string, PeerState | 'unknown'>;
    forward?: (
      peerId: string,
      request: { method: MethodName; params: JsonObject },
      channel: CallChannel,
    ) => Promise<JsonValue>;
    /** Waits between samples; rejects or returns early when `signal` aborts. Default: a real timer. */
    sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  },
): HandlerGroup {
  const sleep =
    components.sleep ?? ((ms: number, signal: AbortSignal) => sleepFor(ms, undefined, { signal }));

  async function localTargets(path: string | undefined): Promise<StatsTarget[]> {
    const mine = pick(path).filter((w) => w.owner === options.peerId);
    if (mine.length === 0) return [];
    const containers = await components.runtime.listContainers({
      labels: { [monkLabels.peer]: options.peerId },
    });
    const byWorkload = new Map(containers.map((c) => [c.labels[monkLabels.workload], c.id]));
    return mine.flatMap((w) => {
      const containerId = byWorkload.get(w.id);
      return containerId === undefined
        ? []
        : [{ workloadId: w.id, container: w.container, peer: w.owner, containerId }];
    });
  }

  function pick(path: string | undefined) {
    const workloads = components.graph.listWorkloads().filter((w) => w.state === 'running');
    return path === undefined ? workloads : selectWorkloads(workloads, path);
  }

  return {
    stats: async (params, channel) => {
      const path = params.path?.replace(/^\/+/, '');
      const selected = pick(path);
      if (path !== undefined && selected.length === 0 && !params.local) {
        throw new MonkError('RUNNABLE_NOT_FOUND', `no running instance at ${path}`);
      }
      const others = params.local
        ? []
        : [...new Set(selected.map((w) => w.owner))].filter((peer) => peer !== options.peerId).sort();
      const unreachable: Array<{ peer: string; message: string }> = [];
      const instances: InstanceStats[] = [];
      const states = components.peerStates?.() ?? new Map<string, PeerState | 'unknown'>();

      const remote = async (peer: string): Promise<void> => {
        const state = states.get(peer);
        if (components.forward === undefined || state === 'dead' || state === 'left') {
          unreachable.push({ peer, message: `peer is ${state ?? 'not in a cluster with this one'}` });
          return;
        }
        try {
          const answer = (await components.forward(
            peer,
            {
              method: 'stats',
              params: {
                ...(path === undefined ? {} : { path }),
                follow: params.follow,
                intervalMs: params.intervalMs,
                local: true,
              },
            },
            channel,
          )) as unknown as StatsResult;
          instances.push(...answer.instances);
        } catch (error) {
          if (channel.signal.aborted) return;
          unreachable.push({ peer, message: toMonkError(error).message });
        }
      };

      const local = async (): Promise<void> => {
        const sampler = createStatsSampler(components);
        await sampler.sample(await localTargets(path));
        let rows: InstanceStats[] = [];
        do {
          try {
            await sleep(params.intervalMs, channel.signal);
          } catch {
            break;
          }
          if (channel.signal.aborted) break;
          rows = await sampler.sample(await localTargets(path));
          if (params.follow) {
            const event: StatsEvent = { type: 'stats', peer: options.peerId, instances: rows };
            await channel.emit(event as unknown as JsonObject);
          }
        } while (params.follow && !channel.signal.aborted);
        instances.push(...rows);
      };

      await Promise.all([local(), ...others.map(remote)]);
      const result: StatsResult = {
        instances: instances.sort((a, b) => a.workloadId.localeCompare(b.workloadId)),
        unreachable: unreachable.sort((a, b) => a.peer.localeCompare(b.peer)),
      };
      return result;
    },
  };
}
