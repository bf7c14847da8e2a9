import type { Graph } from '@monk/graph';
import { pendingPlacer, placePending, type DeployPeer } from '@monk/planner';
import type { Logger } from './logger.ts';

/** Places unschedulable instances once room appears; see {@link createPendingPlacer}. */
export interface PendingPlacer {
  /** Looks again soon (coalesced): call it when peers, their capacity or the workloads change. */
  kick(): void;
  /** Looks now; resolves once anything it placed is durable. */
  placeNow(): Promise<void>;
}

/**
 * Runs the planner's {@link placePending} on this peer when it is the one deciding peer (the alive peer
 * with the smallest id, so peers do not race), and writes the instances that now fit. Never throws: a
 * failed write is logged and retried on the next kick.
 */
export function createPendingPlacer(
  options: { readonly peerId: string },
  components: { graph: Graph; peers: () => DeployPeer[]; logger: Logger },
): PendingPlacer {
  let queued = false;
  const placeNow = async (): Promise<void> => {
    const peers = components.peers();
    if (pendingPlacer(peers) !== options.peerId) return;
    const changed = placePending({ workloads: components.graph.listWorkloads(), peers });
    if (changed.length === 0) return;
    components.graph.putWorkloads(changed);
    await components.graph.flush();
    for (const workload of changed.filter((w) => w.owner !== '')) {
      components.logger.info(`placed ${workload.id} on ${workload.owner}: room appeared`);
    }
  };
  return {
    kick() {
      if (queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        placeNow().catch((error: unknown) =>
          components.logger.warn('placing pending instances failed', {
            error: error instanceof Error ? error.message : String(error),
          }),
        );
      });
    },
    placeNow,
  };
}
