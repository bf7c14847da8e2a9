import type { Graph } from '@monk/graph';
import type { ClusterConfig } from './cluster-files.ts';
import type { KnownPeer } from './peer-membership.ts';

/**
 * Who this peer lets in and dials, beyond what its replica of the graph records: peers named by a join
 * response (allowed until the graph records them), and the peers cluster.json remembers (`knownPeers`),
 * which a graph rebuilt from a damaged store may have lost.
 */
export interface PeerMemory {
  /** Allows peers a join response named, until the graph records them. */
  introduce(peerIds: Iterable<string>): void;
  isIntroduced(peerId: string): boolean;
  /** The allow-list: this peer, the recorded peers and the introduced ones. */
  memberIds(): string[];
  /**
   * Recovering from a damaged graph: admits the peers `stored` remembers that the graph lacks, until the
   * graph has caught up from one of them; `onForgotten` is then called to narrow the allow-list again.
   */
  admitRemembered(stored: ClusterConfig, caughtUp: Promise<unknown>, onForgotten: () => void): void;
  /**
   * `current` with `knownPeers` in step with the graph's peer records, or undefined when nothing changed
   * or must not change yet (a replica still catching up knows fewer peers than it remembers).
   */
  remembered(current: ClusterConfig): ClusterConfig | undefined;
  /** The peers to dial when joining membership: recorded ones, and remembered ones admitted while recovering. */
  knownPeers(current: ClusterConfig | undefined): KnownPeer[];
}

export interface PeerMemoryOptions {
  readonly self: string;
  readonly graph: Graph;
  /** This peer's graph was rebuilt from a damaged store and has not caught up yet. */
  readonly recovering: boolean;
  /** Settles when the graph has caught up from a neighbour. */
  readonly caughtUp: Promise<unknown>;
}

/**
 * @example
 * const memory = createPeerMemory({ self, graph, recovering: false, caughtUp });
 * memory.introduce(response.peers.map((p) => p.id));
 * node.setAllowList(memory.memberIds());
 */
export function createPeerMemory(options: PeerMemoryOptions): PeerMemory {
  const { self, graph } = options;
  const introduced = new Set<string>();
  let recovering = options.recovering;
  void options.caughtUp.then(() => (recovering = false));

  return {
    introduce(peerIds) {
      for (const id of peerIds) introduced.add(id);
    },
    isIntroduced: (peerId) => introduced.has(peerId),
    memberIds() {
      const recorded = graph.listPeers().map((p) => p.id);
      for (const id of recorded) introduced.delete(id);
      return [...new Set([self, ...recorded, ...introduced])];
    },
    admitRemembered(stored, caughtUp, onForgotten) {
      const remembered = (stored.knownPeers ?? [])
        .map((p) => p.id)
        .filter((id) => graph.getPeer(id) === undefined);
      for (const id of remembered) introduced.add(id);
      void caughtUp.then(() => {
        for (const id of remembered) introduced.delete(id);
        onForgotten();
      });
    },
    remembered(current) {
      const knownPeers = graph
        .listPeers()
        .filter((p) => p.role === 'peer' && p.id !== self)
        .map((p) => ({ id: p.id, addresses: [...p.addresses] }))
        .sort((a, b) => a.id.localeCompare(b.id));
      if (recovering || knownPeers.length === 0) return undefined;
      if (JSON.stringify(knownPeers) === JSON.stringify(current.knownPeers ?? [])) return undefined;
      return { ...current, knownPeers };
    },
    knownPeers(current) {
      const recorded = graph.listPeers().filter((p) => p.role === 'peer' && p.id !== self);
      const remembered = (current?.knownPeers ?? []).filter(
        (p) => introduced.has(p.id) && !recorded.some((r) => r.id === p.id),
      );
      return [...recorded, ...remembered].map((p) => ({ id: p.id, addresses: p.addresses }));
    },
  };
}
