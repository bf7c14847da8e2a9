import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeWorkloads, reassignOrphans } from './placement.ts';
import type { PlacementPeer, PlacementRequest } from './placement.ts';

// Set MONK_TEST_SEED to replay a failure; fast-check prints the seed and path of any counterexample.
const seed = Number(process.env['MONK_TEST_SEED'] ?? 20_250_101);
const settings = { seed, numRuns: 300 };
const tags = ['gpu', 'ssd', 'edge'];
const workloadIdArbitrary = fc.nat(200).map((n) => `ns/app#w${n}`);

const peersArbitrary: fc.Arbitrary<PlacementPeer[]> = fc.uniqueArray(
  fc.record({
    id: fc.nat(40).map((n) => `p${n}`),
    tags: fc.subarray(tags),
    state: fc.constantFrom('alive', 'alive', 'suspect', 'dead', 'left'),
    role: fc.constantFrom('peer', 'peer', 'peer', 'operator'),
    workloads: fc.nat(5),
  }),
  { selector: (peer) => peer.id, maxLength: 8 },
);

function requestsArbitrary(peerIds: readonly string[]): fc.Arbitrary<PlacementRequest[]> {
  const owner = fc.option(fc.constantFrom('missing', ...peerIds), { nil: undefined });
  return fc.uniqueArray(
    fc
      .record({
        id: workloadIdArbitrary,
        owner,
        requiredTags: fc.subarray(tags, { maxLength: 2 }),
        avoidTogetherWith: fc.array(workloadIdArbitrary, { maxLength: 2 }),
      })
      .map(({ owner: o, ...rest }) => (o === undefined ? rest : { ...rest, owner: o })),
    { selector: (request) => request.id, maxLength: 30 },
  );
}

const worldArbitrary = peersArbitrary.chain((peers) =>
  fc.tuple(fc.constant(peers), requestsArbitrary(peers.map((p) => p.id))),
);

const shuffledWorld = worldArbitrary.chain(([peers, requests]) =>
  fc.tuple(
    fc.constant(peers),
    fc.constant(requests),
    fc.shuffledSubarray(peers, { minLength: peers.length }),
    fc.shuffledSubarray(requests, { minLength: requests.length }),
  ),
);

function eligible(peer: PlacementPeer, required: readonly string[]): boolean {
  return peer.role === 'peer' && peer.state === 'alive' && required.every((t) => peer.tags.includes(t));
}

describe('placement properties', () => {
  it('places the same whatever the order of workloads and peers', () => {
    fc.assert(
      fc.property(shuffledWorld, ([peers, workloads, shuffledPeers, shuffledWorkloads]) => {
        expect(placeWorkloads({ workloads: shuffledWorkloads, peers: shuffledPeers })).toEqual(
          placeWorkloads({ workloads, peers }),
        );
      }),
      settings,
    );
  });

  it('answers for every workload: its live owner, an eligible peer, or a failure when none is eligible', () => {
    fc.assert(
      fc.property(worldArbitrary, ([peers, workloads]) => {
        const placed = placeWorkloads({ workloads, peers });
        expect([...placed.keys()].sort()).toEqual(workloads.map((w) => w.id).sort());
        for (const request of workloads) {
          const target = placed.get(request.id);
          const owner = peers.find((p) => p.id === request.owner);
          const required = request.requiredTags ?? [];
          if (owner !== undefined && (owner.state === 'alive' || owner.state === 'suspect')) {
            expect(target).toBe(owner.id);
          } else if (typeof target === 'string') {
            const chosen = peers.find((p) => p.id === target);
            expect(chosen !== undefined && eligible(chosen, required), `${request.id} on ${target}`).toBe(
              true,
            );
          } else {
            expect(peers.some((p) => eligible(p, required))).toBe(false);
            for (const tag of target?.missingTags ?? []) expect(required).toContain(tag);
          }
        }
      }),
      settings,
    );
  });

  it('keeps the load of equally loaded, equally capable peers within one', () => {
    const arbitrary = fc.record({
      peers: fc.integer({ min: 1, max: 7 }),
      workloads: fc.integer({ min: 0, max: 40 }),
      base: fc.nat(3),
    });
    fc.assert(
      fc.property(arbitrary, ({ peers, workloads, base }) => {
        const placed = placeWorkloads({
          workloads: Array.from({ length: workloads }, (_, i) => ({ id: `w${i}` })),
          peers: Array.from({ length: peers }, (_, i) => ({
            id: `p${i}`,
            tags: [],
            state: 'alive',
            role: 'peer',
            workloads: base,
          })),
        });
        const load = new Map<string, number>();
        for (const target of placed.values())
          if (typeof target === 'string') load.set(target, (load.get(target) ?? 0) + 1);
        const values = Array.from({ length: peers }, (_, i) => load.get(`p${i}`) ?? 0);
        expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
      }),
      settings,
    );
  });

  it('reassigns orphans the same whatever the order, only to eligible peers, only off dead or departed ones', () => {
    fc.assert(
      fc.property(shuffledWorld, ([peers, requests, shuffledPeers, shuffledRequests]) => {
        const withOwner = (list: readonly PlacementRequest[]) =>
          list.map((r) => ({ id: r.id, owner: r.owner ?? 'missing', requiredTags: r.requiredTags ?? [] }));
        const moves = reassignOrphans({ workloads: withOwner(requests), peers });
        expect(reassignOrphans({ workloads: withOwner(shuffledRequests), peers: shuffledPeers })).toEqual(
          moves,
        );
        for (const move of moves) {
          const from = peers.find((p) => p.id === move.from);
          const to = peers.find((p) => p.id === move.to);
          const request = requests.find((r) => r.id === move.workloadId);
          expect(from?.state === 'dead' || from?.state === 'left').toBe(true);
          expect(to !== undefined && eligible(to, request?.requiredTags ?? [])).toBe(true);
        }
      }),
      settings,
    );
  });

  it('moves an orphan again only when the peer it went to dies too', () => {
    const arbitrary = fc.record({
      peers: fc.uniqueArray(
        fc.nat(40).map((n) => `p${n}`),
        { minLength: 2, maxLength: 8 },
      ),
      workloads: fc.uniqueArray(workloadIdArbitrary, { maxLength: 30 }),
      victim: fc.nat(),
    });
    fc.assert(
      fc.property(arbitrary, ({ peers, workloads, victim }) => {
        const live = (dead: ReadonlySet<string>): PlacementPeer[] => [
          { id: 'origin', tags: [], state: 'dead', role: 'peer', workloads: 0 },
          ...peers.map((id): PlacementPeer => ({
            id,
            tags: [],
            state: dead.has(id) ? 'dead' : 'alive',
            role: 'peer',
            workloads: 0,
          })),
        ];
        const orphans = workloads.map((id) => ({ id, owner: 'origin' }));
        const killed = peers[victim % peers.length] ?? '';
        const before = reassignOrphans({ workloads: orphans, peers: live(new Set()) });
        const after = reassignOrphans({ workloads: orphans, peers: live(new Set([killed])) });
        after.forEach((move, i) => {
          const earlier = before[i];
          if (earlier?.to !== killed) expect(move.to).toBe(earlier?.to);
          expect(move.to).not.toBe(killed);
        });
      }),
      settings,
    );
  });
});
