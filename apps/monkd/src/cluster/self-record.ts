import type { PeerCapacity, PeerRecord } from '@monk/model';
import type { Graph } from '@monk/graph';
import type { WireguardKey } from '@monk/network';
import type { Logger } from '../logger.ts';
import { loadMeshKey, meshRecordOf, underlayHostOf, type MeshOptions } from './mesh-record.ts';

/**
 * This peer's own record in the graph: name, addresses, and with `monkd --mesh` its WireGuard key,
 * endpoint, subnet and overlay address (the mesh preparation).
 */
export interface SelfRecord {
  /** Creates the mesh key pair in the data dir, once, when this peer is in the mesh. */
  prepareMesh(): Promise<void>;
  /** The record to write for this peer, reachable at `addresses`; tags and joinedAt are kept from the graph. */
  record(addresses: readonly string[], joinedAt: string): PeerRecord;
  /**
   * Rewrites the record when the address plan, run over the records we now have, gives this peer another
   * subnet than the one it claimed: another peer that joined at the same time claimed it too and ranks first.
   */
  refresh(addresses: readonly string[]): void;
}

export interface SelfRecordOptions {
  readonly self: string;
  readonly peerName: string;
  readonly dataDir: string;
  readonly mesh: MeshOptions | undefined;
  /** What this host offers to workloads, published in this peer's record for placement. */
  readonly capacity?: PeerCapacity | undefined;
  readonly graph: Graph;
  readonly logger: Logger;
}

/**
 * @example
 * const own = createSelfRecord({ self, peerName: 'host-a', dataDir, mesh: undefined, graph, logger });
 * await own.prepareMesh();
 * graph.putPeer(own.record(node.addresses(), new Date().toISOString()));
 */
export function createSelfRecord(options: SelfRecordOptions): SelfRecord {
  const { self, graph, logger, mesh } = options;
  let meshKey: WireguardKey | undefined;

  function meshRecord(addresses: readonly string[], joinedAt: string): PeerRecord['wireguard'] {
    if (mesh === undefined || meshKey === undefined) return undefined;
    const host = mesh.endpointHost ?? underlayHostOf(addresses);
    const wireguard = meshRecordOf({
      self,
      joinedAt,
      peers: graph.listPeers(),
      meshCidr: graph.getMeta().meshCidr,
      publicKey: meshKey.publicKey,
      endpoint: host === undefined ? undefined : `${host}:${mesh.listenPort}`,
    });
    if (wireguard === undefined) logger.warn('the mesh address plan has no subnet left for this peer');
    return wireguard;
  }

  function record(addresses: readonly string[], joinedAt: string): PeerRecord {
    const existing = graph.getPeer(self);
    const wireguard = meshRecord(addresses, existing?.joinedAt ?? joinedAt);
    return {
      id: self,
      name: options.peerName,
      role: 'peer',
      tags: existing?.tags ?? [],
      addresses: [...addresses],
      joinedAt: existing?.joinedAt ?? joinedAt,
      ...(wireguard === undefined ? {} : { wireguard }),
      ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
    };
  }

  return {
    async prepareMesh() {
      if (mesh !== undefined && meshKey === undefined) meshKey = await loadMeshKey(options.dataDir);
    },
    record,
    refresh(addresses) {
      const existing = graph.getPeer(self);
      if (mesh === undefined || existing === undefined) return;
      const next = record(addresses, existing.joinedAt);
      if (JSON.stringify(next.wireguard) === JSON.stringify(existing.wireguard)) return;
      if (existing.wireguard !== undefined && next.wireguard !== undefined) {
        logger.info(
          `mesh subnet ${existing.wireguard.subnet} is another peer's; moving to ${next.wireguard.subnet}`,
        );
      }
      graph.putPeer(next);
    },
  };
}
