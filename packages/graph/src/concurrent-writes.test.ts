import { describe, expect, it } from 'vitest';
import { conflictLimits } from './concurrent-writes.ts';
import { createGraph } from './graph.ts';
import type { Graph } from './graph.ts';
import { createGraphSync } from './graph-sync.ts';
import type { GraphSync } from './graph-sync.ts';
import { createMemoryStore } from './memory-store.ts';
import { makeDeployment, makeWorkload } from './test-fixtures.ts';
import { createTestNetwork } from './test-network.ts';

const start = Date.UTC(2026, 0, 1);

/** Three replicas a, b, c fully linked; each has a wall clock the test moves. */
async function trio(seed: number) {
  const network = createTestNetwork({ seed });
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
    syncs.push(createGraphSync({ graph, transport: network.transport(peer), antiEntropyIntervalMs: 0 }));
  }
  network.link('a', 'b');
  network.link('b', 'c');
  network.link('a', 'c');
  return {
    network,
    graph: (peer: string): Graph => graphs.get(peer)!,
    graphs: () => [...graphs.values()],
    setWall(ms: number, ...only: string[]) {
      for (const peer of only.length === 0 ? peers : only) wall.set(peer, ms);
    },
    async [Symbol.asyncDispose]() {
      for (const sync of syncs) sync.close();
      await Promise.all([...graphs.values()].map((graph) => graph.close()));
    },
  };
}

/** What `monk update` writes: the deployment and its workload, in one transaction. */
async function update(
  graph: Graph,
  greeting: string,
  options: { generation: number; extra?: readonly string[] },
): Promise<void> {
  const { generation, extra = [] } = options;
  graph.transact(() => {
    graph.putDeployment(makeDeployment({ path: 'ns/hello', variables: { greeting }, generation }));
    graph.putWorkloads([
      makeWorkload({
        id: 'ns/hello#main',
        deployment: 'ns/hello',
        generation,
        spec: {
          image: 'busybox',
          environment: { GREETING: greeting },
          ports: [],
          mounts: [],
          files: [],
          labels: {},
        },
      }),
      ...extra.map((id) => makeWorkload({ id, deployment: 'ns/hello', generation })),
    ]);
  });
  await graph.flush();
}

function shown(graph: Graph): { deployment: string | undefined; workload: string | undefined } {
  return {
    deployment: graph.getDeployment('ns/hello')?.variables['greeting'],
    workload: graph.getWorkload('ns/hello#main')?.spec.environment['GREETING'],
  };
}

/** Runs the partition scenario of issue 7: majority writes first, the isolated peer `laterBy` ms after. */
async function race(seed: number, laterBy: number) {
  const c = await trio(seed);
  await update(c.graph('a'), 'first', { generation: 1 });
  c.network.run();
  c.network.partition([['a', 'b'], ['c']]);
  c.setWall(start + 60_000);
  await update(c.graph('a'), 'majority', { generation: 2 });
  c.setWall(start + 60_000 + laterBy, 'c');
  await update(c.graph('c'), 'minority', { generation: 2 });
  await Promise.all(c.graphs().map((graph) => graph.flush()));
  c.network.run();
  c.network.heal();
  c.network.run();
  return c;
}

describe('concurrent writes to one deployment', () => {
  // Yjs alone picks the winner of a race by random client id: across seeds it would keep either value.
  it.each(Array.from({ length: 12 }, (_, i) => i + 1))(
    'the later write wins on every peer after a partition heals (seed %i)',
    async (seed) => {
      await using c = await race(seed, 4_000);
      for (const graph of c.graphs()) {
        expect(shown(graph), graph.peerId).toEqual({ deployment: 'minority', workload: 'minority' });
      }
      for (const graph of c.graphs()) {
        const conflicts = graph.listConflicts({ path: 'ns/hello' });
        expect(conflicts, graph.peerId).toHaveLength(1);
        expect(conflicts[0]).toMatchObject({
          path: 'ns/hello',
          lost: {
            peer: 'a',
            at: new Date(start + 60_000).toISOString(),
            deployment: { variables: { greeting: 'majority' } },
          },
          won: {
            peer: 'c',
            at: new Date(start + 64_000).toISOString(),
            deployment: { variables: { greeting: 'minority' } },
          },
        });
      }
    },
  );

  it.each([1, 2, 3, 4, 5, 6])(
    'a tie on the wall clock goes to the higher peer id (seed %i)',
    async (seed) => {
      await using c = await race(seed, 0);
      for (const graph of c.graphs()) expect(shown(graph).deployment, graph.peerId).toBe('minority');
      expect(c.graph('b').listConflicts()[0]?.lost.peer).toBe('a');
    },
  );

  it.each([1, 2, 3, 4, 5, 6])('the majority wins when it wrote later (seed %i)', async (seed) => {
    await using c = await race(seed, -4_000);
    for (const graph of c.graphs()) {
      expect(shown(graph), graph.peerId).toEqual({ deployment: 'majority', workload: 'majority' });
      expect(graph.listConflicts()[0]?.lost.deployment.variables, graph.peerId).toEqual({
        greeting: 'minority',
      });
    }
  });

  it.each([1, 2, 3, 4, 5, 6])(
    'a workload only the losing write created is removed with it (seed %i)',
    async (seed) => {
      await using c = await trio(seed);
      await update(c.graph('a'), 'first', { generation: 1 });
      c.network.run();
      c.network.partition([['a', 'b'], ['c']]);
      c.setWall(start + 1_000, 'a');
      // The majority's template has one more container; the isolated peer's write never saw it.
      await update(c.graph('a'), 'majority', { generation: 2, extra: ['ns/hello#extra'] });
      c.setWall(start + 2_000, 'c');
      await update(c.graph('c'), 'minority', { generation: 2 });
      c.network.run();
      c.network.heal();
      c.network.run();
      for (const graph of c.graphs()) {
        expect(shown(graph), graph.peerId).toEqual({ deployment: 'minority', workload: 'minority' });
        expect(
          graph.listWorkloads({ deployment: 'ns/hello' }).map((w) => w.id),
          graph.peerId,
        ).toEqual(['ns/hello#main']);
      }
    },
  );

  it.each([1, 2, 3, 4, 5, 6])(
    'a purge is never undone, and an update it did not see survives it (seed %i)',
    async (seed) => {
      await using c = await trio(seed);
      await update(c.graph('a'), 'first', { generation: 1 });
      c.network.run();
      c.network.partition([['a', 'b'], ['c']]);
      c.setWall(start + 1_000, 'c');
      await update(c.graph('c'), 'minority', { generation: 2 });
      c.setWall(start + 2_000, 'b');
      c.graph('b').transact(() => {
        c.graph('b').deleteDeployment('ns/hello');
        c.graph('b').deleteWorkloads(['ns/hello#main']);
      });
      await c.graph('b').flush();
      c.network.run();
      expect(shown(c.graph('a'))).toEqual({ deployment: undefined, workload: undefined });
      c.network.heal();
      c.network.run();
      for (const graph of c.graphs()) {
        expect(shown(graph), graph.peerId).toEqual({ deployment: 'minority', workload: 'minority' });
      }
    },
  );

  it.each([1, 2, 3, 4, 5, 6])('a purged value never comes back (seed %i)', async (seed) => {
    await using c = await trio(seed);
    c.network.partition([['a', 'b'], ['c']]);
    c.setWall(start + 1_000, 'c');
    await update(c.graph('c'), 'early', { generation: 1 });
    c.setWall(start + 2_000, 'a');
    await update(c.graph('a'), 'purged', { generation: 1 });
    c.network.run();
    c.setWall(start + 3_000, 'b');
    c.graph('b').transact(() => {
      c.graph('b').deleteDeployment('ns/hello');
      c.graph('b').deleteWorkloads(['ns/hello#main']);
    });
    await c.graph('b').flush();
    c.network.run();
    c.network.heal();
    c.network.run();
    const seen = c.graphs().map((graph) => shown(graph));
    // Yjs keeps a concurrent write the purge did not see only when it sorts after the purged one.
    expect([
      { deployment: 'early', workload: 'early' },
      { deployment: undefined, workload: undefined },
    ]).toContainEqual(seen[0]);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
  });

  it('a later write that saw the earlier one wins even against a fast clock, and is no conflict', async () => {
    await using c = await trio(1);
    c.setWall(start + 3_600_000, 'a'); // a's clock runs an hour ahead
    await update(c.graph('a'), 'from-a', { generation: 1 });
    c.network.run();
    await update(c.graph('b'), 'from-b', { generation: 2 });
    c.network.run();
    for (const graph of c.graphs()) expect(shown(graph).deployment).toBe('from-b');
    for (const graph of c.graphs()) expect(graph.listConflicts()).toEqual([]);
  });

  it('a peer catching up on several overwrites at once records no conflict', async () => {
    await using c = await trio(2);
    await update(c.graph('a'), 'v1', { generation: 1 });
    c.network.run();
    c.network.partition([['a', 'b'], ['c']]);
    c.setWall(start + 1_000);
    await update(c.graph('a'), 'v2', { generation: 2 });
    c.network.run();
    c.setWall(start + 2_000);
    await update(c.graph('b'), 'v3', { generation: 3 });
    c.network.run();
    c.network.heal();
    c.network.run();
    for (const graph of c.graphs()) {
      expect(shown(graph).deployment).toBe('v3');
      expect(graph.listConflicts()).toEqual([]);
    }
  });

  it('keeps at most the newest conflicts per deployment, the same on every peer', async () => {
    await using c = await trio(3);
    const rounds = conflictLimits.perPath + 4;
    for (let round = 1; round <= rounds; round++) {
      c.network.partition([['a', 'b'], ['c']]);
      c.setWall(start + round * 10_000, 'a');
      await update(c.graph('a'), `a${round}`, { generation: round });
      c.setWall(start + round * 10_000 + 1, 'c');
      await update(c.graph('c'), `c${round}`, { generation: round });
      c.network.run();
      c.network.heal();
      c.network.run();
    }
    const lists = c.graphs().map((graph) => graph.listConflicts({ path: 'ns/hello' }));
    expect(lists[0]).toHaveLength(conflictLimits.perPath);
    expect(lists[0]?.at(-1)?.lost.deployment.variables).toEqual({ greeting: `a${rounds}` });
    expect(lists[1]).toEqual(lists[0]);
    expect(lists[2]).toEqual(lists[0]);
    expect(
      c.graph('a').listConflicts({ since: new Date(start + rounds * 10_000).toISOString() }),
    ).toHaveLength(1);
  });

  it('a replica that crashed after merging a race but before resolving it resolves it on restart', async () => {
    const clock = (): Date => new Date(start + 5_000);
    // Client ids chosen so that Yjs, left alone, shows the other peer's (earlier) write.
    const mine = await createGraph({ peerId: 'c', clock, random: () => 0.1 });
    await update(mine, 'minority', { generation: 2 });
    const other = await createGraph({ peerId: 'a', clock: () => new Date(start), random: () => 0.9 });
    await update(other, 'majority', { generation: 2 });
    // The store as a crash left it: our write, then the other one merged (whichever Yjs shows), and the
    // resolution never written.
    const store = createMemoryStore();
    await store.append(mine.encodeUpdateSince());
    await store.append(other.encodeUpdateSince());
    await mine.close();
    await other.close();
    const reopened = await createGraph({ peerId: 'c', store, clock, random: () => 0.5 });
    expect(shown(reopened)).toEqual({ deployment: 'minority', workload: 'minority' });
    expect(reopened.listConflicts()).toHaveLength(1);
    await reopened.close();
  });
});
