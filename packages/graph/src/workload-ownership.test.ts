import { describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import { createGraph } from './graph.ts';
import type { Graph, GraphChange } from './graph.ts';
import { createGraphSync } from './graph-sync.ts';
import type { GraphSync } from './graph-sync.ts';
import { createMemoryStore } from './memory-store.ts';
import { makeWorkload } from './test-fixtures.ts';
import { createTestNetwork } from './test-network.ts';

const start = Date.UTC(2026, 0, 1);
const id = 'ns/app#web';

/** Replicas a, b and c fully linked over the simulated network; each has a wall clock the test sets. */
async function replicas(seed: number, faults: { drop?: number; duplicate?: number; reorder?: number } = {}) {
  const network = createTestNetwork({ seed, faults });
  const peers = ['a', 'b', 'c'];
  const wall = new Map(peers.map((peer) => [peer, start]));
  const graphs = new Map<string, Graph>();
  const syncs: GraphSync[] = [];
  for (const peer of peers) {
    const graph = await createGraph({
      peerId: peer,
      random: network.random,
      clock: () => new Date(wall.get(peer) ?? 0),
      store: createMemoryStore(),
    });
    graphs.set(peer, graph);
    // Anti-entropy makes lost messages good again: what a real cluster does every 10 s.
    syncs.push(createGraphSync({ graph, transport: network.transport(peer), antiEntropyIntervalMs: 0 }));
  }
  network.link('a', 'b');
  network.link('b', 'c');
  network.link('a', 'c');
  return {
    network,
    syncs,
    graph: (peer: string): Graph => graphs.get(peer)!,
    graphs: () => [...graphs.values()],
    setWall(ms: number, ...only: string[]) {
      for (const peer of only.length === 0 ? peers : only) wall.set(peer, ms);
    },
    /** Delivers everything, retrying what faults lost, until every replica shows the same workloads. */
    settle() {
      network.setFaults({ drop: 0, duplicate: 0, reorder: 0 });
      network.run();
      for (const sync of syncs) sync.resync();
      network.run();
    },
    async [Symbol.asyncDispose]() {
      for (const sync of syncs) sync.close();
      await Promise.all([...graphs.values()].map((graph) => graph.close()));
    },
  };
}

describe('workload ownership', () => {
  it('assignWorkloads moves a workload without touching the rest of its record', async () => {
    await using graph = await createGraph({ peerId: 'a' });
    graph.putWorkloads([makeWorkload({ id, owner: 'a', generation: 3 })]);
    const changes: GraphChange[] = [];
    graph.onChange((batch) => changes.push(...batch));

    graph.assignWorkloads([{ workloadId: id, owner: 'b' }]);

    expect(graph.getWorkload(id)).toMatchObject({ owner: 'b', generation: 3, state: 'running' });
    expect(graph.listWorkloads({ owner: 'b' }).map((w) => w.id)).toEqual([id]);
    expect(graph.listWorkloads({ owner: 'a' })).toEqual([]);
    // Listeners hear of a move as a change of the workload.
    expect(changes).toContainEqual({ kind: 'workload', key: id, origin: 'local' });
    expect(Object.isFrozen(graph.getWorkload(id))).toBe(true);
  });

  it('after a move, only the new owner speaks for the instance', async () => {
    await using graph = await createGraph({ peerId: 'a' });
    graph.putWorkloads([makeWorkload({ id, owner: 'a' })]);
    graph.setObserved({
      workloadId: id,
      peer: 'a',
      phase: 'running',
      ready: true,
      restarts: 0,
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(graph.getObserved(id)?.ready).toBe(true);
    graph.assignWorkloads([{ workloadId: id, owner: 'b' }]);
    // What a (returning) old owner last saw does not make the moved instance look ready.
    expect(graph.getObserved(id)).toBeUndefined();
    expect(graph.getObserved(id, 'a')?.ready).toBe(true);
  });

  it('a whole-record write keeps the owner unless it names another one', async () => {
    await using graph = await createGraph({ peerId: 'a' });
    graph.putWorkloads([makeWorkload({ id, owner: 'a' })]);
    graph.assignWorkloads([{ workloadId: id, owner: 'b' }]);

    // A stop made from this replica's read names the owner it shows and leaves it alone.
    graph.putWorkloads([{ ...graph.getWorkload(id)!, state: 'stopped' }]);
    expect(graph.getWorkload(id)).toMatchObject({ owner: 'b', state: 'stopped' });

    // `--peer c`: another owner than shown is an explicit assignment.
    graph.putWorkloads([{ ...graph.getWorkload(id)!, owner: 'c' }]);
    expect(graph.getWorkload(id)?.owner).toBe('c');
  });

  it('a purged workload forgets its owner: running it again places it afresh', async () => {
    await using graph = await createGraph({ peerId: 'a' });
    graph.putWorkloads([makeWorkload({ id, owner: 'a' })]);
    graph.assignWorkloads([{ workloadId: id, owner: 'b' }]);
    graph.deleteWorkloads([id]);
    expect(graph.getWorkload(id)).toBeUndefined();

    graph.putWorkloads([makeWorkload({ id, owner: 'a' })]);
    expect(graph.getWorkload(id)?.owner).toBe('a');
  });

  it('refuses to assign a workload it does not hold, or to no one, writing nothing', async () => {
    await using graph = await createGraph({ peerId: 'a' });
    graph.putWorkloads([makeWorkload({ id, owner: 'a' })]);
    const attempt = (moves: Array<{ workloadId: string; owner: string }>): unknown => {
      try {
        graph.assignWorkloads(moves);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const missing = attempt([
      { workloadId: id, owner: 'b' },
      { workloadId: 'ns/app#gone', owner: 'b' },
    ]);
    expect(missing).toBeInstanceOf(MonkError);
    expect((missing as MonkError).code).toBe('INVALID_REQUEST');
    expect((missing as MonkError).message).toContain('ns/app#gone');
    expect((attempt([{ workloadId: id, owner: '' }]) as MonkError).code).toBe('INVALID_REQUEST');
    expect(graph.getWorkload(id)?.owner).toBe('a');
  });

  it('keeps assignments across a restart', async () => {
    const store = createMemoryStore();
    await using graph = await createGraph({ peerId: 'a', store });
    graph.putWorkloads([makeWorkload({ id, owner: 'a' })]);
    graph.assignWorkloads([{ workloadId: id, owner: 'b' }]);
    await graph.flush();
    // A second replica over the same store: what a restart reads from disk.
    await using reopened = await createGraph({ peerId: 'a', store });
    expect(reopened.getWorkload(id)?.owner).toBe('b');
  });

  it('a stop racing a repair keeps both: the move and the stop', async () => {
    for (const stopLater of [true, false]) {
      await using net = await replicas(stopLater ? 1 : 2);
      net.graph('a').putWorkloads([makeWorkload({ id, owner: 'a' })]);
      net.settle();
      net.network.partition([['a', 'c'], ['b']]);

      // b repairs (a is dead to it) while an operator on c stops the instance from c's older view.
      net.setWall(start + (stopLater ? 1_000 : 2_000), 'b');
      net.setWall(start + (stopLater ? 2_000 : 1_000), 'c');
      net.graph('b').assignWorkloads([{ workloadId: id, owner: 'b' }]);
      const seen = net.graph('c').getWorkload(id)!;
      expect(seen.owner).toBe('a');
      net.graph('c').putWorkloads([{ ...seen, state: 'stopped', generation: 2 }]);
      await Promise.all(net.graphs().map((graph) => graph.flush()));

      net.network.heal();
      net.settle();
      for (const graph of net.graphs()) {
        expect(graph.getWorkload(id), `replica ${graph.peerId}, stop later: ${stopLater}`).toMatchObject({
          owner: 'b',
          state: 'stopped',
          generation: 2,
        });
      }
    }
  });

  it(
    'concurrent assignments converge on the latest, whatever the network does',
    { timeout: 60_000 },
    async () => {
      for (let seed = 1; seed <= 25; seed++) {
        await using net = await replicas(seed, { drop: 0.2, duplicate: 0.2, reorder: 0.5 });
        net
          .graph('a')
          .putWorkloads([makeWorkload({ id, owner: 'a' }), makeWorkload({ id: 'ns/app#db', owner: 'a' })]);
        net.settle();
        net.network.partition([['a'], ['b'], ['c']]);
        const random = net.network.random;
        const writes = ['a', 'b', 'c'].map((peer) => ({ peer, at: start + 1 + Math.floor(random() * 5) }));
        for (const { peer, at } of writes) {
          net.setWall(at, peer);
          net.graph(peer).assignWorkloads([{ workloadId: id, owner: `to-${peer}` }]);
          // A whole-record write of the other workload from each replica's own view: it moves nothing.
          const db = net.graph(peer).getWorkload('ns/app#db')!;
          net.graph(peer).putWorkloads([{ ...db, generation: db.generation + 1 }]);
        }
        await Promise.all(net.graphs().map((graph) => graph.flush()));
        net.network.heal();
        net.network.run();
        net.settle();
        // The highest stamp (wall time, then peer id) wins.
        const winner = `to-${[...writes].sort((x, y) => x.at - y.at || (x.peer < y.peer ? -1 : 1)).at(-1)!.peer}`;
        for (const graph of net.graphs()) {
          expect(graph.getWorkload(id)?.owner, `seed ${seed}, replica ${graph.peerId}`).toBe(winner);
          expect(graph.getWorkload('ns/app#db')?.owner, `seed ${seed}`).toBe('a');
        }
      }
    },
  );
});
