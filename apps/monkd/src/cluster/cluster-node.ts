import { createP2PNode, type P2PNode, type PeerIdentity } from '@monk/p2p';
import type { Logger } from '../logger.ts';

/**
 * Makes the cluster's network node, not yet started, for a network key and a first allow-list. The daemon
 * passes {@link libp2pNodeFactory}; unit tests pass `createMemoryNetwork().createNode` (the in-memory twin),
 * so whole clusters run in one process with no sockets. The node's peer id must be this peer's.
 *
 * @example
 * const createNode: ClusterNodeFactory = async ({ networkKey, allowList }) =>
 *   network.createNode({ peerId: 'peer-a', networkKey, allowList });
 */
export type ClusterNodeFactory = (options: {
  readonly networkKey: Uint8Array;
  readonly allowList: readonly string[];
}) => Promise<P2PNode>;

/** The real node: libp2p over TCP on `listen`, under the cluster's private-network key. */
export function libp2pNodeFactory(options: {
  readonly identity: PeerIdentity;
  readonly listen: { readonly host: string; readonly port: number };
  readonly logger: Logger;
}): ClusterNodeFactory {
  return ({ networkKey, allowList }) =>
    createP2PNode(
      { identity: options.identity, listen: options.listen, networkKey, allowList },
      { logger: options.logger },
    );
}
