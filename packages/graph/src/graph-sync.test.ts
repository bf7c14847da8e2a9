import { describe, expect, it } from 'vitest';
import { createGraph } from './graph.ts';
import { createMemoryStore } from './memory-store.ts';
import type { Graph } from './graph.ts';
import { createGraphSync } from './graph-sync.ts';
import type { GraphSync } from './graph-sync.ts';
import type { GraphProblem } from './graph-problem.ts';
import { encodeSyncMessage } from './sync-message.ts';
import { makeObserved, makeWorkload, steppingClock } from './test-fixtures.ts';
import { createTestNetwork } from './test-network.ts';

async function cluster(peers: string[], seed = 1) {
  const network = createTestNetwork({ seed });
  const graphs = new Map<string, Graph>();
  const problems: GraphProblem[] = [];
  const syncs: GraphSync[] = [];
  for (const peer of peers) {
    const graph = await createGraph({ peerId: peer, clock: steppingClock(), random: network.random });
    graphs.set(peer, graph);
    syncs.push(
      createGraphSync({
        graph,
        transport: network.transport(peer),
        antiEntropyIntervalMs: 0,
        onProblem: (p) => problems.push(p),
      }),
    );
  }
  return {
    network,
    problems,
    syncs,
    graph: (peer: string): Graph => graphs.get(peer)!,
    async [Symbol.asyncDispose]() {
      for (const sync of syncs) sync.close();
      await Promise.all([...graphs.values()].map((graph) => graph.close()));
    },
  };
}

describe('createGraphSync', () => {
  it('exchanges state on connect, sending only what the other side lacks', async () => {
    await using c = await cluster(['a', 'b']);
    c.graph('a').putWorkloads([makeWorkload({ id: 'w1', owner: 'b' })]);
    c.graph('b').setObserved(makeObserved({ workloadId: 'w1', peer: 'b' }));
    c.network.link('a', 'b');
    c.network.run();
    expect(c.graph('b').getWorkload('w1')?.id).toBe('w1');
    expect(c.graph('a').getObserved('w1')?.peer).toBe('b');
    expect(c.graph('a').encodeUpdateSince()).toEqual(c.graph('b').encodeUpdateSince());
  });

  it('says when a replica holds everything a peer held (a replica rebuilt from a damaged store waits for it)', async () => {
    const network = createTestNetwork({ seed: 3 });
    const whole = await createGraph({ peerId: 'a', clock: steppingClock(), random: network.random });
    const rebuilt = await createGraph({ peerId: 'b', clock: steppingClock(), random: network.random });
    whole.putWorkloads([makeWorkload({ id: 'w1' }), makeWorkload({ id: 'w2' })]);
    const caughtUp: { peer: string; workloads: number }[] = [];
    const syncs = [
      createGraphSync({ graph: whole, transport: network.transport('a'), antiEntropyIntervalMs: 0 }),
      createGraphSync({
        graph: rebuilt,
        transport: network.transport('b'),
        antiEntropyIntervalMs: 0,
        onCaughtUp: (peer) => caughtUp.push({ peer, workloads: rebuilt.listWorkloads().length }),
      }),
    ];
    expect(caughtUp).toEqual([]);
    network.link('a', 'b');
    network.run();
    expect(caughtUp[0]).toEqual({ peer: 'a', workloads: 2 });
    for (const sync of syncs) sync.close();
    await Promise.all([whole.close(), rebuilt.close()]);
  });

  it('asks back at once when a peer whose own vector was lost shows history this side lacks', async () => {
    await using c = await cluster(['a', 'b']);
    c.graph('a').putWorkloads([makeWorkload({ id: 'w1' })]);
    c.graph('b').putWorkloads([makeWorkload({ id: 'w2' })]);
    c.network.setFaults({ drop: 1 });
    c.network.link('a', 'b');
    c.network.run();
    c.network.setFaults({ drop: 0 });
    // Only b speaks up (as a newcomer does once it listens); there is no anti-entropy in these tests.
    c.syncs[1]!.resync('a');
    c.network.run();
    expect(c.graph('a').getWorkload('w2')?.id).toBe('w2');
    expect(c.graph('b').getWorkload('w1')?.id).toBe('w1');
    expect(c.graph('a').encodeUpdateSince()).toEqual(c.graph('b').encodeUpdateSince());
  });

  it('asks the sender for missing history when an update cannot be applied yet', async () => {
    await using c = await cluster(['a', 'b']);
    c.graph('b').putWorkloads([makeWorkload({ id: 'w-early' })]);
    c.network.setFaults({ drop: 1 });
    c.network.link('a', 'b');
    c.network.run();
    c.network.setFaults({ drop: 0 });
    // b's later write depends on its earlier one, which a never received.
    c.graph('b').deleteWorkloads(['w-early']);
    c.graph('b').putWorkloads([makeWorkload({ id: 'w-late' })]);
    await c.graph('b').flush();
    c.network.run();
    expect(c.graph('a').hasPendingUpdates()).toBe(false);
    expect(c.graph('a').getWorkload('w-late')?.id).toBe('w-late');
    expect(c.graph('a').getWorkload('w-early')).toBeUndefined();
  });

  it('floods updates over a line of peers that is not a full mesh, without echo storms', async () => {
    await using c = await cluster(['a', 'b', 'c', 'd']);
    c.network.link('a', 'b');
    c.network.link('b', 'c');
    c.network.link('c', 'd');
    c.network.run();
    const before = c.syncs.reduce((sum, sync) => sum + sync.stats().sent, 0);
    c.graph('a').putWorkloads([makeWorkload({ id: 'w1', owner: 'd' })]);
    c.network.run();
    expect(c.graph('d').getWorkload('w1')?.id).toBe('w1');
    const sent = c.syncs.reduce((sum, sync) => sum + sync.stats().sent, 0) - before;
    // a→b, b→c (+ b→a? no: never back to the origin), c→d, and each receiver's relay stops at the ends.
    expect(sent).toBeLessThanOrEqual(6);
    c.graph('d').setObserved(makeObserved({ workloadId: 'w1', peer: 'd', phase: 'ready' }));
    c.network.run();
    expect(c.graph('a').getObserved('w1')?.phase).toBe('ready');
  });

  it('drops duplicated deliveries by content hash', async () => {
    await using c = await cluster(['a', 'b'], 7);
    c.network.link('a', 'b');
    c.network.run();
    c.network.setFaults({ duplicate: 1 });
    c.graph('a').putWorkloads([makeWorkload({ id: 'w1' })]);
    c.network.run(10);
    expect(c.syncs[1]!.stats().duplicates).toBeGreaterThan(0);
    expect(c.graph('b').getWorkload('w1')?.id).toBe('w1');
  });

  it('repairs lost messages with an anti-entropy round', async () => {
    await using c = await cluster(['a', 'b']);
    c.network.link('a', 'b');
    c.network.run();
    c.network.setFaults({ drop: 1 });
    c.graph('a').putWorkloads([makeWorkload({ id: 'w1' })]);
    c.network.run();
    expect(c.graph('b').getWorkload('w1')).toBeUndefined();
    c.network.setFaults({ drop: 0 });
    c.syncs[1]!.resync();
    c.network.run();
    expect(c.graph('b').getWorkload('w1')?.id).toBe('w1');
  });

  it('reports malformed messages and keeps working', async () => {
    await using c = await cluster(['a', 'b']);
    c.network.link('a', 'b');
    c.network.run();
    const rogue = c.network.transport('b');
    for (const garbage of [
      new Uint8Array([]),
      new Uint8Array([2, 1]),
      new Uint8Array([1, 99]),
      encodeSyncMessage({ type: 'update', body: new Uint8Array([1, 200]) }),
      encodeSyncMessage({ type: 'state-vector', body: new Uint8Array([7]) }),
    ]) {
      rogue.send('a', garbage);
    }
    c.network.run();
    expect(c.syncs[0]!.stats().rejected).toBe(5);
    expect(c.problems.map((p) => p.details?.['code'])).toEqual(Array(5).fill('PROTOCOL_ERROR'));
    c.graph('b').putWorkloads([makeWorkload({ id: 'w1' })]);
    c.network.run();
    expect(c.graph('a').getWorkload('w1')?.id).toBe('w1');
  });

  it('stops sending after close', async () => {
    await using c = await cluster(['a', 'b']);
    c.network.link('a', 'b');
    c.network.run();
    c.syncs[0]!.close();
    c.graph('a').putWorkloads([makeWorkload({ id: 'w1' })]);
    expect(c.network.inFlight()).toBe(0);
    expect(() => c.syncs[0]!.resync()).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('publishes a write with a store only once it is durable', async () => {
    const network = createTestNetwork({ seed: 5 });
    await using a = await createGraph({ peerId: 'a', store: createMemoryStore() });
    await using b = await createGraph({ peerId: 'b' });
    const syncA = createGraphSync({ graph: a, transport: network.transport('a'), antiEntropyIntervalMs: 0 });
    const syncB = createGraphSync({ graph: b, transport: network.transport('b'), antiEntropyIntervalMs: 0 });
    network.link('a', 'b');
    network.run();
    a.putWorkloads([makeWorkload({ id: 'w1' })]);
    expect(network.inFlight()).toBe(0);
    await a.flush();
    network.run();
    expect(b.getWorkload('w1')?.id).toBe('w1');
    syncA.close();
    syncB.close();
  });
});
