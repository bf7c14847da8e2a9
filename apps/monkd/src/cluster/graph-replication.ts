import { MonkError, toMonkError, type JsonObject } from '@monk/model';
import { createGraphSync, type Graph, type SyncTransport } from '@monk/graph';
import type { P2PNode } from '@monk/p2p';
import type { Logger } from '../logger.ts';

/** The protocol replicas exchange graph sync messages on, one request per message. */
export const graphSyncProtocol = '/monk/graph-sync/1.0.0';

/** This replica of the graph kept in step with the other peers' over the cluster's node. */
export interface GraphReplication {
  /** Exchanges state vectors with one peer (back from a partition or a restart), or every connected one. */
  resync(peerId?: string): void;
  /** Stops serving and sending. Idempotent. */
  close(): void;
}

export interface GraphReplicationOptions {
  readonly node: P2PNode;
  readonly graph: Graph;
  readonly logger: Logger;
  /** Called once per peer whose answer to our state vector was applied (this replica then holds what it held). */
  readonly onCaughtUp: (peerId: string) => void;
  readonly antiEntropyIntervalMs: number;
}

/**
 * Starts `@monk/graph`'s sync over {@link graphSyncProtocol}. Replicas are the allowed peers that are not
 * operators: the allow-list, not the graph, decides, since a newcomer's graph is empty until the first
 * sync yet it must sync with the peers it was told about. A message from anyone else is refused with
 * `NOT_A_MEMBER`.
 *
 * @example
 * const replication = startGraphReplication({ node, graph, logger, onCaughtUp, antiEntropyIntervalMs: 10_000 });
 * replication.resync(); // the connections opened before replication started
 */
export function startGraphReplication(options: GraphReplicationOptions): GraphReplication {
  const { node, graph, logger } = options;
  const isReplica = (id: string): boolean =>
    graph.getPeer(id)?.role !== 'operator' && node.allowList().includes(id);
  const transport: SyncTransport = {
    peers: () => node.connectedPeers().filter(isReplica),
    send: (peer, message) => {
      if (!isReplica(peer)) return;
      node.request(peer, graphSyncProtocol, message, { timeoutMs: 15_000 }).catch((error: unknown) => {
        logger.debug('graph sync message not delivered', { peer, error: toMonkError(error).message });
      });
    },
    onMessage: (handler) => {
      node.handle(
        graphSyncProtocol,
        async (request, context) => {
          if (!isReplica(context.from)) {
            throw new MonkError('NOT_A_MEMBER', 'only peers replicate the graph');
          }
          handler(context.from, request);
          return new Uint8Array(0);
        },
        { maxMessageBytes: 64 * 1024 * 1024 },
      );
      return () => node.unhandle(graphSyncProtocol);
    },
    onPeerConnected: (handler) => node.onPeerConnected(handler),
  };
  const sync = createGraphSync({
    graph,
    transport,
    antiEntropyIntervalMs: options.antiEntropyIntervalMs,
    onProblem: (problem) => logger.warn('graph sync problem', { problem: problem as unknown as JsonObject }),
    onCaughtUp: options.onCaughtUp,
  });
  return {
    resync: (peerId) => (peerId === undefined ? sync.resync() : sync.resync(peerId)),
    close: () => sync.close(),
  };
}
