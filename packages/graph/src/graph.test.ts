import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MonkError } from '@monk/model';
import { createGraph, graphSchemaVersion } from './graph.ts';
import type { GraphChange } from './graph.ts';
import type { GraphProblem } from './graph-problem.ts';
import type { GraphStore } from './graph-store.ts';
import { createMemoryStore } from './memory-store.ts';
import { makeDeployment, makeObserved, makePeer, makeWorkload, steppingClock } from './test-fixtures.ts';

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MonkError);
  expect((thrown as MonkError).code).toBe(code);
}

describe('createGraph', () => {
  it('stores, lists, filters and deletes desired records', async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    graph.putTemplates([
      { path: 'ns/b', value: { image: 'b' } },
      { path: 'ns/a', value: { image: 'a', nested: { list: [1, null, 'x'] } } },
    ]);
    graph.putDeployment(makeDeployment({ path: 'ns/a' }));
    graph.putWorkloads([
      makeWorkload({ id: 'ns/a#main', owner: 'peer-a', deployment: 'ns/a' }),
      makeWorkload({ id: 'ns/b#main', owner: 'peer-b', deployment: 'ns/b' }),
    ]);
    graph.putPeer(makePeer({ id: 'peer-b' }));
    graph.setClusterIdentity({ clusterId: 'c1', clusterName: 'prod' });

    expect(graph.listTemplates().map((t) => t.path)).toEqual(['ns/a', 'ns/b']);
    expect(graph.getTemplate('ns/a')).toEqual({ image: 'a', nested: { list: [1, null, 'x'] } });
    expect(graph.getDeployment('ns/a')?.state).toBe('running');
    expect(graph.listWorkloads({ owner: 'peer-b' }).map((w) => w.id)).toEqual(['ns/b#main']);
    expect(graph.listWorkloads({ deployment: 'ns/a' }).map((w) => w.id)).toEqual(['ns/a#main']);
    expect(graph.listPeers().map((p) => p.id)).toEqual(['peer-b']);
    expect(graph.getMeta()).toEqual({
      schemaVersion: graphSchemaVersion,
      clusterId: 'c1',
      clusterName: 'prod',
    });

    graph.deleteTemplates(['ns/b', 'ns/missing']);
    graph.deleteDeployment('ns/a');
    graph.deleteWorkloads(['ns/a#main']);
    graph.removePeer('peer-b');
    expect(graph.listTemplates().map((t) => t.path)).toEqual(['ns/a']);
    expect(graph.getDeployment('ns/a')).toBeUndefined();
    expect(graph.listWorkloads().map((w) => w.id)).toEqual(['ns/b#main']);
    expect(graph.getPeer('peer-b')).toBeUndefined();
  });

  it("keeps the mesh's cluster CIDR and each peer's place in the mesh", async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    graph.setClusterIdentity({ clusterId: 'c1', clusterName: 'prod', meshCidr: '10.240.0.0/12' });
    const wireguard = {
      publicKey: 'fs4NlNCXGQcHTbzKxau+6eWIlLmBOu9GP2nJ3PPA8EU=',
      endpoint: '192.168.50.2:51820',
      overlayAddress: '10.240.0.17',
      subnet: '10.240.17.0/24',
    };
    graph.putPeer(makePeer({ id: 'peer-a', wireguard }));
    expect(graph.getMeta().meshCidr).toBe('10.240.0.0/12');
    expect(graph.getPeer('peer-a')?.wireguard).toEqual(wireguard);
    expectCode(
      () => graph.putPeer(makePeer({ id: 'peer-b', wireguard: { ...wireguard, publicKey: '' } })),
      'INVALID_REQUEST',
    );
  });

  it('rejects invalid input with INVALID_REQUEST and writes nothing', async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    const changes: GraphChange[] = [];
    graph.onChange((batch) => changes.push(...batch));
    const broken = { ...makeWorkload({ id: 'ns/x#main' }), generation: -1 };
    expectCode(() => graph.putWorkloads([makeWorkload({ id: 'ns/ok#main' }), broken]), 'INVALID_REQUEST');
    expectCode(() => graph.putTemplates([{ path: '', value: {} }]), 'INVALID_REQUEST');
    expectCode(
      () => graph.putDeployment({ ...makeDeployment({ path: 'ns/a' }), state: 'gone' as 'running' }),
      'INVALID_REQUEST',
    );
    expect(graph.listWorkloads()).toEqual([]);
    expect(changes).toEqual([]);
  });

  it('returns frozen records that callers cannot mutate', async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    const input = makeWorkload({ id: 'ns/a#main' });
    graph.putWorkloads([input]);
    input.owner = 'changed-after-put';
    const stored = graph.getWorkload('ns/a#main');
    expect(stored?.owner).toBe('peer-a');
    expect(Object.isFrozen(stored)).toBe(true);
    expect(Object.isFrozen(stored?.spec.environment)).toBe(true);
  });

  it('only lets a peer write its own observed records', async () => {
    await using graph = await createGraph({ peerId: 'peer-a', clock: steppingClock() });
    graph.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-a', phase: 'running' }));
    expectCode(
      () => graph.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-b' })),
      'INVALID_REQUEST',
    );
    graph.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-a', phase: 'ready' }));
    expect(graph.getObserved('w1')?.phase).toBe('ready');
    expect(graph.listObserved({ peer: 'peer-a' })).toHaveLength(1);
    graph.deleteObserved('w1');
    graph.deleteObserved('never-written');
    expect(graph.getObserved('w1')).toBeUndefined();
    expect(graph.listObserved()).toEqual([]);
  });

  it('batches a transaction into one change list and one update', async () => {
    await using graph = await createGraph({ peerId: 'peer-a', clock: steppingClock() });
    const batches: GraphChange[][] = [];
    const updates: Uint8Array[] = [];
    graph.onChange((changes) => batches.push([...changes]));
    graph.onLocalUpdate((update) => updates.push(update));
    graph.transact(() => {
      graph.putWorkloads([makeWorkload({ id: 'w1' })]);
      graph.putPeer(makePeer({ id: 'peer-a' }));
      graph.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-a' }));
      graph.setObserved(makeObserved({ workloadId: 'w2', peer: 'peer-a' }));
    });
    expect(batches).toHaveLength(1);
    expect(batches[0]).toEqual(
      expect.arrayContaining([
        { kind: 'workload', key: 'w1', origin: 'local' },
        { kind: 'peer', key: 'peer-a', origin: 'local' },
        { kind: 'observed', key: 'w1', origin: 'local', peer: 'peer-a' },
        { kind: 'observed', key: 'w2', origin: 'local', peer: 'peer-a' },
      ]),
    );
    expect(updates).toHaveLength(1);

    await using other = await createGraph({ peerId: 'peer-b' });
    const remote: GraphChange[] = [];
    other.onChange((changes) => remote.push(...changes));
    other.applyRemoteUpdate(updates[0]!, 'peer-a');
    expect(other.getWorkload('w1')?.id).toBe('w1');
    expect(other.listObserved().map((o) => o.workloadId)).toEqual(['w1', 'w2']);
    expect(remote.every((change) => change.origin === 'remote')).toBe(true);
  });

  it('replicates through state vectors in both directions', async () => {
    const a = await createGraph({ peerId: 'peer-a', clock: steppingClock() });
    const b = await createGraph({ peerId: 'peer-b', clock: steppingClock() });
    a.putWorkloads([makeWorkload({ id: 'w1' })]);
    a.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-a' }));
    b.putWorkloads([makeWorkload({ id: 'w2', owner: 'peer-b' })]);
    b.setObserved(makeObserved({ workloadId: 'w2', peer: 'peer-b' }));
    b.applyRemoteUpdate(a.encodeUpdateSince(b.encodeStateVector()), 'peer-a');
    a.applyRemoteUpdate(b.encodeUpdateSince(a.encodeStateVector()), 'peer-b');
    expect(a.listWorkloads()).toEqual(b.listWorkloads());
    expect(a.listObserved()).toEqual(b.listObserved());
    expect(a.encodeUpdateSince()).toEqual(b.encodeUpdateSince());
    // Nothing left to send once both are equal.
    const b2 = await createGraph({ peerId: 'peer-c' });
    b2.applyRemoteUpdate(a.encodeUpdateSince(), 'peer-a');
    expect(b2.encodeUpdateSince()).toEqual(a.encodeUpdateSince());
    await Promise.all([a.close(), b.close(), b2.close()]);
  });

  it('prefers the owner when several peers observed a workload', async () => {
    await using a = await createGraph({ peerId: 'peer-a', clock: steppingClock() });
    await using b = await createGraph({ peerId: 'peer-b', clock: steppingClock() });
    a.putWorkloads([makeWorkload({ id: 'w1', owner: 'peer-b' })]);
    a.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-a', updatedAt: '2025-01-02T00:00:00.000Z' }));
    b.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-b', phase: 'starting' }));
    a.applyRemoteUpdate(b.encodeUpdateSince(), 'peer-b');
    expect(a.getObserved('w1')?.peer).toBe('peer-b');
    expect(a.getObserved('w1', 'peer-a')?.peer).toBe('peer-a');
    a.deleteWorkloads(['w1']);
    expect(a.getObserved('w1')?.peer).toBe('peer-a');
  });

  it('rejects malformed remote updates with PROTOCOL_ERROR and stays unchanged', async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    graph.putWorkloads([makeWorkload({ id: 'w1' })]);
    const before = graph.encodeUpdateSince();
    const good = (await createGraph({ peerId: 'peer-b' })).encodeUpdateSince();
    for (const bad of [
      new Uint8Array(0),
      new Uint8Array([9]),
      good.subarray(0, good.length - 1),
      new Uint8Array([1, 5, 1, 2, 3, 4, 5, 0]),
    ]) {
      expectCode(() => graph.applyRemoteUpdate(bad, 'peer-x'), 'PROTOCOL_ERROR');
    }
    expectCode(() => graph.encodeUpdateSince(new Uint8Array([1, 2])), 'PROTOCOL_ERROR');
    expect(graph.encodeUpdateSince()).toEqual(before);
  });

  it('skips and reports invalid records written by a foreign writer', async () => {
    const problems: GraphProblem[] = [];
    await using graph = await createGraph({ peerId: 'peer-a', onProblem: (p) => problems.push(p) });
    const rogue = new Y.Doc();
    rogue.getMap('workloads').set('bad', { id: 'bad', owner: 3 });
    rogue.getMap('workloads').set('mismatch', makeWorkload({ id: 'other' }));
    rogue.getMap('workloads').set('good', makeWorkload({ id: 'good' }));
    rogue.getMap('templates').set('ns/bin', new Uint8Array([1, 2]));
    rogue.getMap('templates').set('ns/nested', new Y.Map());
    const peer = await createGraph({ peerId: 'peer-r' });
    // Wrap the rogue Yjs update in a real envelope by round-tripping through a graph that accepts anything.
    peer.applyRemoteUpdate(envelope(Y.encodeStateAsUpdate(rogue)), 'rogue');
    graph.applyRemoteUpdate(peer.encodeUpdateSince(), 'peer-r');
    expect(graph.listWorkloads().map((w) => w.id)).toEqual(['good']);
    expect(graph.listTemplates()).toEqual([]);
    expect(problems.map((p) => p.details?.['key'])).toEqual(
      expect.arrayContaining(['bad', 'mismatch', 'ns/bin', 'ns/nested']),
    );
    await peer.close();
  });

  it('refuses a graph with a newer schema version', async () => {
    const store = createMemoryStore();
    const rogue = new Y.Doc();
    rogue.getMap('meta').set('schemaVersion', graphSchemaVersion + 1);
    await store.append(envelope(Y.encodeStateAsUpdate(rogue)));
    await expect(createGraph({ peerId: 'peer-a', store })).rejects.toMatchObject({
      code: 'SCHEMA_VERSION_UNSUPPORTED',
    });
  });

  it('reloads its state, observed registers included, from a store', async () => {
    const store = createMemoryStore();
    const first = await createGraph({ peerId: 'peer-a', store, clock: steppingClock() });
    first.putWorkloads([makeWorkload({ id: 'w1' })]);
    first.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-a' }));
    await first.flush();
    const second = await createGraph({ peerId: 'peer-a', store, clock: steppingClock() });
    expect(second.listWorkloads().map((w) => w.id)).toEqual(['w1']);
    expect(second.listObserved().map((o) => o.workloadId)).toEqual(['w1']);
    // The reloaded replica keeps writing above its old sequence numbers, so peers accept the writes.
    second.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-a', phase: 'exited' }));
    const third = await createGraph({ peerId: 'peer-b' });
    third.applyRemoteUpdate(first.encodeUpdateSince(), 'peer-a');
    third.applyRemoteUpdate(second.encodeUpdateSince(third.encodeStateVector()), 'peer-a');
    expect(third.getObserved('w1')?.phase).toBe('exited');
    await second.close();
    await third.close();
  });

  it('compacts the store every N updates and still reloads everything', async () => {
    const store = createMemoryStore({ compactEvery: 3 });
    const graph = await createGraph({ peerId: 'peer-a', store, clock: steppingClock() });
    for (let i = 0; i < 10; i++) graph.putWorkloads([makeWorkload({ id: `w${i}` })]);
    await graph.flush();
    expect((await store.load()).length).toBeLessThan(4);
    const reloaded = await createGraph({ peerId: 'peer-a', store });
    expect(reloaded.listWorkloads()).toHaveLength(10);
    await reloaded.close();
  });

  // Issue 7: a write the store refused used to stay visible until a restart, and every later write failed.
  it('undoes in memory a write the store refused, never publishes it, and takes writes again once the store does', async () => {
    let fail = false;
    const memory = createMemoryStore();
    const store: GraphStore = {
      compactEvery: 0,
      load: () => memory.load(),
      append: (update) =>
        fail ? Promise.reject(new MonkError('STORAGE_FAILED', 'disk full')) : memory.append(update),
      compact: (snapshot) => memory.compact(snapshot),
      close: () => memory.close(),
    };
    const graph = await createGraph({ peerId: 'peer-a', store });
    const published: Uint8Array[] = [];
    const changes: string[] = [];
    graph.onLocalUpdate((update) => published.push(update));
    graph.onChange((batch) => changes.push(...batch.map((c) => `${c.kind}:${c.key}`)));
    graph.putWorkloads([makeWorkload({ id: 'w1' })]);
    await graph.flush();
    expect(graph.storageFailure()).toBeUndefined();

    fail = true;
    changes.length = 0;
    graph.putWorkloads([makeWorkload({ id: 'w2' })]);
    expect(graph.getWorkload('w2')).toBeDefined(); // read-your-writes until the store answers
    await expect(graph.flush()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(graph.listWorkloads().map((w) => w.id)).toEqual(['w1']);
    expect(changes).toEqual(['workload:w2', 'workload:w2']); // written, then undone
    expect(published).toHaveLength(1);
    expect(graph.storageFailure()).toMatchObject({ code: 'STORAGE_FAILED' });

    // Still failing: the next write fails the same way, and is undone too.
    graph.putWorkloads([makeWorkload({ id: 'w3' })]);
    await expect(graph.flush()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(graph.listWorkloads().map((w) => w.id)).toEqual(['w1']);

    fail = false;
    graph.putWorkloads([makeWorkload({ id: 'w4' })]);
    await graph.flush();
    expect(graph.listWorkloads().map((w) => w.id)).toEqual(['w1', 'w4']);
    expect(graph.storageFailure()).toBeUndefined();
    expect(published).toHaveLength(2);
    const reopened = await createGraph({ peerId: 'peer-a', store });
    expect(reopened.listWorkloads().map((w) => w.id)).toEqual(['w1', 'w4']);
    await graph.close();
  });

  it('after a crash lost its unsynced tail, never reuses a sequence number and retracts the lost write everywhere', async () => {
    const durable = createMemoryStore();
    const clock = steppingClock();
    const a = await createGraph({ peerId: 'peer-a', store: durable, clock });
    const b = await createGraph({ peerId: 'peer-b' });
    a.setObserved(makeObserved({ workloadId: 'w1', peer: 'peer-a', phase: 'running' }));
    await a.flush();
    const survived = await durable.load();
    // This write reaches peer-b, but the crash loses it from peer-a's disk.
    a.setObserved(makeObserved({ workloadId: 'w2', peer: 'peer-a', phase: 'running' }));
    await a.flush();
    b.applyRemoteUpdate(a.encodeUpdateSince(), 'peer-a');

    const disk = createMemoryStore();
    for (const update of survived) await disk.append(update);
    const restarted = await createGraph({ peerId: 'peer-a', store: disk, clock });
    expect(restarted.getObserved('w2')).toBeUndefined();
    restarted.setObserved(makeObserved({ workloadId: 'w3', peer: 'peer-a', phase: 'ready' }));
    b.applyRemoteUpdate(restarted.encodeUpdateSince(b.encodeStateVector()), 'peer-a');
    restarted.applyRemoteUpdate(b.encodeUpdateSince(restarted.encodeStateVector()), 'peer-b');
    // The owner is the authority on its observations: what it no longer knows is gone everywhere.
    for (const graph of [b, restarted]) {
      expect(graph.listObserved().map((o) => o.workloadId)).toEqual(['w1', 'w3']);
    }
    expect(restarted.encodeUpdateSince()).toEqual(b.encodeUpdateSince());
    await Promise.all([a.close(), b.close(), restarted.close()]);
  });
});

/** Builds an update envelope around a raw Yjs update (format version 1, no observed blocks). */
function envelope(yjs: Uint8Array): Uint8Array {
  const out: number[] = [1];
  let n = yjs.length;
  while (n > 0x7f) {
    out.push(0x80 | (n & 0x7f));
    n = Math.floor(n / 128);
  }
  out.push(n, ...yjs, 0);
  return new Uint8Array(out);
}
