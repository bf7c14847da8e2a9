import type { HandlerGroup } from '../handlers.ts';
import type { Cluster } from './cluster.ts';

/** The `cluster.*` methods of the control API. */
export function createClusterHandlers(cluster: Cluster): HandlerGroup {
  return {
    'cluster.new': async (params) => cluster.create(params.name, params.meshCidr),
    'cluster.joinToken': async (params) => cluster.issueToken(params),
    'cluster.join': async (params) => cluster.join(params.token),
    'cluster.info': async () => cluster.info(),
    'cluster.peers': async () => cluster.peers(),
    'cluster.peerTags': async (params) => cluster.setTags(params.id, params.tags),
    'cluster.peerRemove': async (params) => {
      await cluster.remove(params.id);
      return { removed: params.id };
    },
    'cluster.exit': async () => {
      await cluster.exit();
      return { left: true };
    },
    'cluster.shrink': async () => ({ removed: await cluster.shrink() }),
    'cluster.destroy': async () => ({ removed: await cluster.destroy() }),
  };
}
