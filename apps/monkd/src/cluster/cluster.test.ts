import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PeerState } from '@monk/model';
import { createGraph, createMemoryStore, type Graph } from '@monk/graph';
import { createMemoryNetwork, type MemoryNetwork } from '@monk/p2p';
import type { ControlService } from '../handlers.ts';
import type { Logger } from '../logger.ts';
import { createCluster, type Cluster } from './cluster.ts';

const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silent,
};
const service: ControlService = { handle: () => Promise.resolve(null) };
/** Fast membership, so a stopped peer is dead within about a second of real time. */
const fastMembership = { probeIntervalMs: 100, probeTimeoutMs: 40, suspicionMult: 2 };

interface Peer {
  readonly id: string;
  readonly dataDir: string;
  readonly graph: Graph;
  readonly secrets: { current: Uint8Array };
  readonly events: { peerId: string; state: PeerState; previous: PeerState | undefined }[];
  cluster: Cluster;
}

/** Waits for `check` to hold (polling the state it reads), up to 20 s (the machine may be loaded). */
function until(check: () => void | Promise<void>): Promise<void> {
  return vi.waitFor(check, { timeout: 20_000, interval: 20 });
}

// Real time on the memory network: each test takes about a second, far more on a loaded machine.
describe('cluster on the in-memory network', { timeout: 60_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function clusterOf(network: MemoryNetwork, peer: Omit<Peer, 'cluster' | 'events'>): Cluster {
    return createCluster(
      { dataDir: peer.dataDir, peerId: peer.id, peerName: `host-${peer.id}` },
      {
        graph: peer.graph,
        logger: silent,
        secretsKey: {
          key: () => Promise.resolve(peer.secrets.current),
          adopt: (key) => {
            peer.secrets.current = key;
            return Promise.resolve();
          },
        },
        createNode: ({ networkKey, allowList }) =>
          Promise.resolve(network.createNode({ peerId: peer.id, networkKey, allowList })),
        membershipConfig: fastMembership,
      },
    );
  }

  async function startPeer(network: MemoryNetwork, id: string): Promise<Peer> {
    const dataDir = await mkdtemp(join(tmpdir(), `monk-cluster-${id}-`));
    const graph = await createGraph({ peerId: id, store: createMemoryStore() });
    const parts = { id, dataDir, graph, secrets: { current: new Uint8Array(32).fill(id.charCodeAt(0)) } };
    const peer: Peer = { ...parts, events: [], cluster: clusterOf(network, parts) };
    peer.cluster.onPeerStateChange((event) => peer.events.push(event));
    await peer.cluster.start(service);
    cleanups.push(async () => {
      await peer.cluster.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    return peer;
  }

  async function threePeers(network: MemoryNetwork): Promise<[Peer, Peer, Peer]> {
    const a = await startPeer(network, 'a');
    const b = await startPeer(network, 'b');
    const c = await startPeer(network, 'c');
    await a.cluster.create('test');
    for (const joiner of [b, c]) {
      const { token } = await a.cluster.issueToken({ ttlSeconds: 60, role: 'peer' });
      await joiner.cluster.join(token);
    }
    for (const peer of [a, b, c]) {
      await until(() =>
        expect(peer.cluster.peers().map((p) => [p.id, p.state])).toEqual(
          expect.arrayContaining([
            ['a', 'alive'],
            ['b', 'alive'],
            ['c', 'alive'],
          ]),
        ),
      );
    }
    return [a, b, c];
  }

  it('joins three peers with tokens, hands over the secrets key and replicates the graph', async () => {
    const network = createMemoryNetwork({ seed: 1 });
    const [a, b, c] = await threePeers(network);

    expect(c.cluster.info()).toMatchObject({ clusterName: 'test', peers: 3, alive: 3 });
    expect([...b.secrets.current]).toEqual([...a.secrets.current]);
    expect([...c.secrets.current]).toEqual([...a.secrets.current]);

    // A write on one peer reaches the others: c tags b, a sees it; b writes a template, c sees it.
    await c.cluster.setTags('b', ['gpu']);
    await until(() => expect(a.cluster.peers().find((p) => p.id === 'b')?.tags).toEqual(['gpu']));
    b.graph.putTemplates([{ path: 'ns/app', value: { image: 'nginx' } }]);
    await until(() => expect(c.graph.getTemplate('ns/app')).toEqual({ image: 'nginx' }));

    // A used token is refused by its issuer.
    const { token } = await a.cluster.issueToken({ ttlSeconds: 60, role: 'peer' });
    const d = await startPeer(network, 'd');
    await d.cluster.join(token);
    const e = await startPeer(network, 'e');
    await expect(e.cluster.join(token)).rejects.toMatchObject({ code: 'JOIN_TOKEN_USED' });
    expect(e.cluster.isMember()).toBe(false);
  });

  it('tells subscribers when a peer goes dead and when it comes back', async () => {
    const network = createMemoryNetwork({ seed: 2 });
    const [a, b, c] = await threePeers(network);
    expect(a.events.find((e) => e.peerId === 'c')).toMatchObject({ state: 'alive', previous: undefined });

    // c stops without telling anyone (a crash, as far as the others can tell).
    await c.cluster.stop();
    for (const peer of [a, b]) {
      await until(() => expect(peer.cluster.peers().find((p) => p.id === 'c')?.state).toBe('dead'));
      expect(peer.events.filter((e) => e.peerId === 'c').map((e) => e.state)).toContain('dead');
    }
    expect(a.cluster.info()).toMatchObject({ peers: 3, alive: 2 });

    // c restarts from its cluster.json on a new address and is alive again everywhere.
    c.cluster = clusterOf(network, c);
    await c.cluster.start(service);
    for (const peer of [a, b]) {
      await until(() => expect(peer.cluster.peers().find((p) => p.id === 'c')?.state).toBe('alive'));
      const back = peer.events.filter((e) => e.peerId === 'c').at(-1);
      expect(back?.state).toBe('alive');
      expect(['dead', 'suspect']).toContain(back?.previous);
    }
  });

  it('keeps both sides of a partition writing and merges them when it heals', async () => {
    const network = createMemoryNetwork({ seed: 4 });
    const [a, b, c] = await threePeers(network);

    network.partition('a', 'c');
    network.partition('b', 'c');
    await until(() => expect(a.cluster.peers().find((p) => p.id === 'c')?.state).toBe('dead'));
    await until(() => expect(c.cluster.peers().find((p) => p.id === 'a')?.state).toBe('dead'));
    a.graph.putTemplates([{ path: 'ns/majority', value: { side: 'a' } }]);
    c.graph.putTemplates([{ path: 'ns/minority', value: { side: 'c' } }]);
    await until(() => expect(b.graph.getTemplate('ns/majority')).toEqual({ side: 'a' }));
    expect(c.graph.getTemplate('ns/majority')).toBeUndefined();

    network.heal();
    for (const peer of [a, b, c]) {
      await until(() => {
        expect(peer.cluster.info()).toMatchObject({ alive: 3 });
        expect(peer.graph.getTemplate('ns/majority')).toEqual({ side: 'a' });
        expect(peer.graph.getTemplate('ns/minority')).toEqual({ side: 'c' });
      });
    }
    expect(a.events.filter((e) => e.peerId === 'c').map((e) => e.state)).toEqual(
      expect.arrayContaining(['dead', 'alive']),
    );
  });

  it('removes a live peer: it is told, leaves, and forgets its cluster', async () => {
    const network = createMemoryNetwork({ seed: 3 });
    const [a, b, c] = await threePeers(network);

    await a.cluster.remove('b');
    await until(() => expect(b.cluster.isMember()).toBe(false));
    await until(() => expect(c.cluster.peers().map((p) => p.id)).toEqual(['c', 'a']));
    await until(() =>
      expect(stat(join(b.dataDir, 'cluster.json'))).rejects.toMatchObject({ code: 'ENOENT' }),
    );
    expect(() => b.cluster.info()).toThrow(expect.objectContaining({ code: 'CLUSTER_NOT_FOUND' }));
  });
});
