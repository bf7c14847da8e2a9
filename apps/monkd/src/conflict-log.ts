import type { DeploymentConflict, Graph } from '@monk/graph';
import type { Logger } from './logger.ts';

/**
 * Logs each newly recorded conflict (a deployment write that lost a race to a concurrent one) once, as
 * a warning naming both writes, whether this peer or another recorded it. Returns an unsubscribe.
 *
 * @example
 * const stop = logConflicts({ graph, logger: logger.child('graph') });
 */
export function logConflicts(components: { graph: Graph; logger: Logger }): () => void {
  const { graph, logger } = components;
  const id = (c: DeploymentConflict): string =>
    `${c.path}|${c.lost.peer}|${c.lost.at}|${c.won.peer}|${c.won.at}`;
  const seen = new Set(graph.listConflicts().map(id));
  return graph.onChange((changes) => {
    const paths = new Set(changes.filter((c) => c.kind === 'conflict').map((c) => c.key));
    for (const path of paths) {
      for (const conflict of graph.listConflicts({ path })) {
        if (seen.has(id(conflict))) continue;
        seen.add(id(conflict));
        const vars = (c: DeploymentConflict['lost']): string =>
          Object.entries(c.deployment.variables)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ');
        logger.warn(
          `${path}: the write by ${conflict.lost.peer} at ${conflict.lost.at} (${vars(conflict.lost)}) lost to ` +
            `a concurrent later write by ${conflict.won.peer} at ${conflict.won.at} (${vars(conflict.won)})`,
          { path, lostPeer: conflict.lost.peer, wonPeer: conflict.won.peer },
        );
      }
    }
  });
}
