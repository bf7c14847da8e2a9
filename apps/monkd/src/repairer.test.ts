import { describe, expect, it } from 'vitest';
import { createGraph } from '@monk/graph';
import type { Graph } from '@monk/graph';
import type { PeerState, Workload } from '@monk/model';
import { createLogger } from './logger.ts';
import { createRepairer, repairWorkload } from './repairer.ts';
import type { RepairMembership, SetTimer } from './repairer.ts';

/** Timers the test moves by hand. */
function manualTimers() {
  let t = 0;
  const timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  const setTimer: SetTimer = (fn, delayMs) => {
    const timer = { at: t + delayMs, fn, cancelled: false };
    timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };
  return {
    now: () => t,
    setTimer,
    advance(ms: number) {
      const end = t + ms;
      for (;;) {
        const next = timers
          .filter((timer) => !timer.cancelled && timer.at <= end)
          .sort((a, b) => a.at - b.at)[0];
        if (next === undefined) break;
        next.cancelled = true;
        t = Math.max(t, next.at);
        next.fn();
      }
      t = end;
    },
  };
}

/** The in-memory twin of the cluster's membership: states the test sets. */
function fakeMembership(states: Record<string, PeerState>) {
  const listeners = new Set<() => void>();
  const current = new Map(Object.entries(states));
  const membership: RepairMembership & { set(peer: string, state: PeerState): void } = {
    isMember: () => true,
    peerStates: () => current,
    onPeerStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(peer, state) {
      current.set(peer, state);
      for (const listener of listeners) listener();
    },
  };
  return membership;
}

function workload(id: string, owner: string, overrides: Partial<Workload> = {}): Workload {
  return {
    id,
    deployment: 'ns/app',
    runnable: 'ns/app',
    container: id.split('#')[1] ?? 'main',
    name: id.replace(/[^a-z0-9]/g, '-'),
    aliases: [],
    spec: { image: 'busybox', environment: {}, ports: [], mounts: [], files: [], labels: {} },
    specHash: '0000000000000000',
    dependsOn: [],
    recovery: { restart: 'always', initialBackoffMs: 1000, maxBackoffMs: 60000 },
    owner,
    state: 'running',
    generation: 1,
    ...overrides,
  };
}

async function replica(peerId: string, peers: readonly string[]): Promise<Graph> {
  const graph = await createGraph({ peerId });
  for (const id of peers) {
    graph.putPeer({
      id,
      name: id,
      role: 'peer',
      tags: [],
      addresses: [],
      joinedAt: '2026-01-01T00:00:00.000Z',
    });
  }
  return graph;
}

const quiet = createLogger({ level: 'error', write: () => undefined });

function startRepairer(graph: Graph, membership: RepairMembership, timers: ReturnType<typeof manualTimers>) {
  const repairer = createRepairer(
    { peerId: graph.peerId, fallbackDelayMs: 2_000 },
    { graph, membership, logger: quiet, now: timers.now, setTimer: timers.setTimer },
  );
  repairer.start();
  return repairer;
}

describe('createRepairer', () => {
  it("the new owner moves a dead peer's instances to itself at once; the others only as a fallback", async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `ns/app#w${i}`);
    const graphs = await Promise.all(['a', 'b'].map((id) => replica(id, ['a', 'b', 'c'])));
    const [a, b] = graphs as [Graph, Graph];
    a.putWorkloads(ids.map((id) => workload(id, 'c')));
    b.applyRemoteUpdate(a.encodeUpdateSince(), 'a');
    const timers = manualTimers();
    const memberships = [a, b].map(() => fakeMembership({ a: 'alive', b: 'alive', c: 'alive' }));
    const repairers = [a, b].map((graph, i) => startRepairer(graph, memberships[i]!, timers));
    timers.advance(10);
    expect(a.listWorkloads({ owner: 'c' })).toHaveLength(6);

    for (const membership of memberships) membership.set('c', 'dead');
    timers.advance(10);
    // Each wrote only the moves to itself; between them, all of them.
    const movedByA = a.listWorkloads({ owner: 'a' }).map((w) => w.id);
    const movedByB = b.listWorkloads({ owner: 'b' }).map((w) => w.id);
    expect(a.listWorkloads({ owner: 'b' })).toEqual([]);
    expect(b.listWorkloads({ owner: 'a' })).toEqual([]);
    expect([...movedByA, ...movedByB].sort()).toEqual(ids);
    expect(movedByA.length).toBeGreaterThan(0);
    expect(movedByB.length).toBeGreaterThan(0);

    // Once the replicas exchange their writes, they agree, and nothing more is written.
    a.applyRemoteUpdate(b.encodeUpdateSince(), 'b');
    b.applyRemoteUpdate(a.encodeUpdateSince(), 'a');
    timers.advance(10_000);
    expect(a.listWorkloads().map((w) => w.owner)).toEqual(b.listWorkloads().map((w) => w.owner));
    expect(a.listWorkloads({ owner: 'c' })).toEqual([]);
    for (const repairer of repairers) repairer.stop();
    await Promise.all(graphs.map((graph) => graph.close()));
  });

  it('writes the moves of a new owner that never does, after the fallback delay', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `ns/app#w${i}`);
    const a = await replica('a', ['a', 'b', 'c']);
    a.putWorkloads(ids.map((id) => workload(id, 'c')));
    const timers = manualTimers();
    const membership = fakeMembership({ b: 'alive', c: 'dead' });
    const repairer = startRepairer(a, membership, timers);
    timers.advance(10);
    const atOnce = a.listWorkloads({ owner: 'a' }).length;
    // b is alive but silent (its writes never arrive here): its moves stay missing until the fallback.
    expect(a.listWorkloads({ owner: 'c' }).length).toBe(ids.length - atOnce);
    expect(atOnce).toBeLessThan(ids.length);
    timers.advance(1_900);
    expect(a.listWorkloads({ owner: 'c' }).length).toBe(ids.length - atOnce);
    timers.advance(200);
    expect(a.listWorkloads({ owner: 'c' })).toEqual([]);
    expect(a.listWorkloads({ owner: 'b' }).length).toBe(ids.length - atOnce);
    repairer.stop();
    await a.close();
  });

  it('a minority moves nothing; once it is half the cluster, it repairs', async () => {
    const a = await replica('a', ['a', 'b', 'c']);
    a.putWorkloads([workload('ns/app#w', 'b')]);
    const timers = manualTimers();
    const membership = fakeMembership({ b: 'dead', c: 'dead' });
    const repairer = startRepairer(a, membership, timers);
    timers.advance(10_000);
    expect(a.getWorkload('ns/app#w')?.owner).toBe('b');

    // Two of three alive: a writes the move itself, at once or (when c should) after the fallback delay.
    membership.set('c', 'alive');
    timers.advance(2_010);
    expect(a.getWorkload('ns/app#w')?.owner).toMatch(/^[ac]$/);
    repairer.stop();
    await a.close();
  });

  it('moves the instances of a removed peer (no record left)', async () => {
    const a = await replica('a', ['a', 'b']);
    a.putWorkloads([workload('ns/app#w', 'gone')]);
    const timers = manualTimers();
    const repairer = startRepairer(a, fakeMembership({ b: 'alive' }), timers);
    timers.advance(2_010);
    expect(a.getWorkload('ns/app#w')?.owner).toMatch(/^[ab]$/);
    repairer.stop();
    await a.close();
  });

  it('leaves an instance with a named volume or a writable host path on its peer', () => {
    const mounts = (kind: 'volume' | 'bind', source: string, readOnly = false) =>
      workload('ns/app#db', 'c', {
        spec: {
          image: 'postgres',
          environment: {},
          ports: [],
          mounts: [{ kind, source, target: '/data', readOnly }],
          files: [],
          labels: {},
        },
      });
    expect(repairWorkload(mounts('volume', 'pgdata')).pinned).toContain('pgdata');
    expect(repairWorkload(mounts('bind', '/srv/db')).pinned).toContain('/srv/db');
    expect(repairWorkload(mounts('volume', '')).pinned).toBeUndefined();
    expect(repairWorkload(mounts('bind', '/etc/app.conf', true)).pinned).toBeUndefined();
    expect(repairWorkload(workload('ns/app#web', 'c')).group).toBe('ns/app#web');
  });
  it('follows recovery: when container-failure never moves, after waits that long past the death', async () => {
    const a = await replica('a', ['a', 'b']);
    const policy = { restart: 'always', initialBackoffMs: 1000, maxBackoffMs: 60000 } as const;
    a.putWorkloads([
      workload('ns/app#stays', 'b', { recovery: { ...policy, when: 'container-failure' } }),
      workload('ns/app#later', 'b', { recovery: { ...policy, afterMs: 30_000 } }),
      workload('ns/app#now', 'b'),
      // Unschedulable: no owner; the pending placer places it, never repair.
      workload('ns/app#unplaced', ''),
    ]);
    const timers = manualTimers();
    const membership = fakeMembership({ a: 'alive', b: 'alive' });
    startRepairer(a, membership, timers);
    membership.set('b', 'dead');
    timers.advance(10);
    const owners = () => Object.fromEntries(a.listWorkloads().map((w) => [w.id, w.owner]));
    expect(owners()).toEqual({
      'ns/app#stays': 'b',
      'ns/app#later': 'b',
      'ns/app#now': 'a',
      'ns/app#unplaced': '',
    });
    timers.advance(29_000);
    expect(owners()['ns/app#later']).toBe('b');
    timers.advance(1_000);
    expect(owners()).toEqual({
      'ns/app#stays': 'b',
      'ns/app#later': 'a',
      'ns/app#now': 'a',
      'ns/app#unplaced': '',
    });
  });
});
