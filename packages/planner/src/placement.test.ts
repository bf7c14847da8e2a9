import { describe, expect, it } from 'vitest';
import { placeWorkloads, reassignOrphans } from './placement.ts';
import type { PlacementPeer } from './placement.ts';

function peer(id: string, overrides: Partial<PlacementPeer> = {}): PlacementPeer {
  return { id, tags: [], state: 'alive', role: 'peer', workloads: 0, ...overrides };
}

function counts(placed: Map<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const target of placed.values()) if (typeof target === 'string') out[target] = (out[target] ?? 0) + 1;
  return out;
}

describe('placeWorkloads', () => {
  it('keeps a workload on its owner while the owner is alive or suspect', () => {
    const placed = placeWorkloads({
      workloads: [
        { id: 'w1', owner: 'a' },
        { id: 'w2', owner: 'b', requiredTags: ['gpu'] },
      ],
      peers: [peer('a', { workloads: 50 }), peer('b', { state: 'suspect' }), peer('c')],
    });
    expect(placed).toEqual(
      new Map([
        ['w1', 'a'],
        ['w2', 'b'],
      ]),
    );
  });

  it('places again a workload whose owner is dead, left or unknown', () => {
    const placed = placeWorkloads({
      workloads: [
        { id: 'w1', owner: 'dead' },
        { id: 'w2', owner: 'left' },
        { id: 'w3', owner: 'nobody' },
      ],
      peers: [peer('dead', { state: 'dead' }), peer('left', { state: 'left' }), peer('c')],
    });
    expect([...placed.values()]).toEqual(['c', 'c', 'c']);
  });

  it('never places new workloads on operators, suspect, dead or departed peers', () => {
    const placed = placeWorkloads({
      workloads: [{ id: 'w1' }, { id: 'w2' }, { id: 'w3' }],
      peers: [
        peer('op', { role: 'operator' }),
        peer('s', { state: 'suspect' }),
        peer('d', { state: 'dead' }),
        peer('l', { state: 'left' }),
        peer('ok', { workloads: 100 }),
      ],
    });
    expect(counts(placed)).toEqual({ ok: 3 });
  });

  it('places on a peer that has every required tag', () => {
    const placed = placeWorkloads({
      workloads: [{ id: 'w1', requiredTags: ['gpu', 'ssd'] }],
      peers: [
        peer('a', { tags: ['gpu'] }),
        peer('b', { tags: ['ssd'] }),
        peer('c', { tags: ['ssd', 'gpu', 'x'] }),
      ],
    });
    expect(placed.get('w1')).toBe('c');
  });

  it.each([
    {
      name: 'tags no alive peer has',
      peers: [peer('a', { tags: ['ssd'] }), peer('b', { tags: ['gpu'], state: 'dead' })],
      failure: { reason: 'no alive peer has tag gpu', missingTags: ['gpu'] },
    },
    {
      name: 'several missing tags',
      peers: [peer('a')],
      failure: { reason: 'no alive peer has tags gpu, ssd', missingTags: ['gpu', 'ssd'] },
    },
    {
      name: 'tags spread over peers but never together',
      peers: [peer('b', { tags: ['ssd'] }), peer('a', { tags: ['gpu'] })],
      failure: {
        reason: 'no alive peer has all of the tags gpu, ssd (closest: a, missing ssd)',
        missingTags: ['ssd'],
      },
    },
    {
      name: 'no alive peer at all',
      peers: [peer('a', { state: 'dead' }), peer('op', { role: 'operator' })],
      failure: { reason: 'no alive peer to run it (2 known, none alive with role peer)', missingTags: [] },
    },
  ])('reports a failure naming $name', ({ peers, failure }) => {
    const placed = placeWorkloads({ workloads: [{ id: 'w1', requiredTags: ['gpu', 'ssd'] }], peers });
    expect(placed.get('w1')).toEqual(failure);
  });

  it('spreads a batch evenly over equally loaded peers', () => {
    const workloads = Array.from({ length: 10 }, (_, i) => ({ id: `w${i}` }));
    const placed = placeWorkloads({ workloads, peers: [peer('a'), peer('b'), peer('c')] });
    expect(Object.values(counts(placed)).sort()).toEqual([3, 3, 4]);
  });

  it('fills the least loaded peers first', () => {
    const workloads = Array.from({ length: 4 }, (_, i) => ({ id: `w${i}` }));
    const placed = placeWorkloads({
      workloads,
      peers: [peer('a', { workloads: 5 }), peer('b'), peer('c', { workloads: 1 })],
    });
    const added = counts(placed);
    expect(added['a']).toBeUndefined();
    expect(Math.abs((added['b'] ?? 0) - ((added['c'] ?? 0) + 1))).toBeLessThanOrEqual(1);
  });

  it('keeps workloads that avoid each other apart, even against the load', () => {
    const placed = placeWorkloads({
      workloads: [
        { id: 'db-1', owner: 'a' },
        { id: 'db-2', avoidTogetherWith: ['db-1'] },
        { id: 'db-3', avoidTogetherWith: ['db-1', 'db-2'] },
      ],
      peers: [peer('a'), peer('b', { workloads: 10 }), peer('c', { workloads: 20 })],
    });
    expect(placed).toEqual(
      new Map([
        ['db-1', 'a'],
        ['db-2', 'b'],
        ['db-3', 'c'],
      ]),
    );
  });

  it('treats avoidance as symmetric and best effort', () => {
    const placed = placeWorkloads({
      workloads: [{ id: 'x', avoidTogetherWith: ['y'] }, { id: 'y' }, { id: 'z', avoidTogetherWith: ['x'] }],
      peers: [peer('only')],
    });
    expect(counts(placed)).toEqual({ only: 3 });
  });

  it('breaks load ties by rendezvous weight, not by peer name', () => {
    const workloads = Array.from({ length: 200 }, (_, i) => ({ id: `w${i}` }));
    const firstChoices = workloads.map(({ id }) =>
      placeWorkloads({ workloads: [{ id }], peers: [peer('a'), peer('b'), peer('c')] }).get(id),
    );
    const share = counts(new Map(firstChoices.map((target, i) => [String(i), target])));
    for (const id of ['a', 'b', 'c']) expect(share[id]).toBeGreaterThan(40);
  });
});

describe('reassignOrphans', () => {
  const peers = [
    peer('a'),
    peer('b', { tags: ['gpu'] }),
    peer('dead', { state: 'dead' }),
    peer('gone', { state: 'left' }),
  ];

  it('moves the workloads of dead and departed peers and nothing else', () => {
    const moves = reassignOrphans({
      peers: [...peers, peer('s', { state: 'suspect' })],
      workloads: [
        { id: 'w1', owner: 'dead' },
        { id: 'w2', owner: 'gone', requiredTags: ['gpu'] },
        { id: 'w3', owner: 'a' },
        { id: 'w4', owner: 's' },
        { id: 'w5', owner: 'unknown' },
      ],
    });
    expect(moves.map((m) => [m.workloadId, m.from])).toEqual([
      ['w1', 'dead'],
      ['w2', 'gone'],
    ]);
    expect(moves[1]?.to).toBe('b');
    expect(['a', 'b']).toContain(moves[0]?.to);
  });

  it('leaves an orphan that no live peer can run where it is', () => {
    expect(
      reassignOrphans({ peers, workloads: [{ id: 'w1', owner: 'dead', requiredTags: ['tpu'] }] }),
    ).toEqual([]);
  });

  it('never moves a workload to an operator or a suspect peer', () => {
    const moves = reassignOrphans({
      peers: [
        peer('op', { role: 'operator' }),
        peer('s', { state: 'suspect' }),
        peer('dead', { state: 'dead' }),
        peer('z'),
      ],
      workloads: Array.from({ length: 20 }, (_, i) => ({ id: `w${i}`, owner: 'dead' })),
    });
    expect(new Set(moves.map((m) => m.to))).toEqual(new Set(['z']));
  });

  it('spreads orphans roughly evenly over the live peers', () => {
    const moves = reassignOrphans({
      peers: [peer('dead', { state: 'dead' }), peer('p1'), peer('p2'), peer('p3'), peer('p4')],
      workloads: Array.from({ length: 1_000 }, (_, i) => ({ id: `ns/app#web@${i}`, owner: 'dead' })),
    });
    const share: Record<string, number> = {};
    for (const move of moves) share[move.to] = (share[move.to] ?? 0) + 1;
    expect(Object.keys(share).sort()).toEqual(['p1', 'p2', 'p3', 'p4']);
    for (const n of Object.values(share)) expect(n).toBeGreaterThan(200);
  });
});
