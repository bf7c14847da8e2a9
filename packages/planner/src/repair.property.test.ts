import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRepair } from './repair.ts';
import type { RepairPeer, RepairWorkload } from './repair.ts';

// Set MONK_TEST_SEED to replay a failure; fast-check prints the seed and path of any counterexample.
const seed = Number(process.env['MONK_TEST_SEED'] ?? 20_250_101);
const settings = { seed, numRuns: 200 };
const tags = ['gpu', 'ssd'];
const peerIds = ['p0', 'p1', 'p2', 'p3', 'p4'];

const peersArbitrary: fc.Arbitrary<RepairPeer[]> = fc
  .tuple(
    fc.subarray(peerIds, { minLength: 1 }),
    fc.array(fc.constantFrom('alive', 'alive', 'suspect', 'dead', 'left', 'unknown'), {
      minLength: peerIds.length,
      maxLength: peerIds.length,
    }),
    fc.array(fc.subarray(tags), { minLength: peerIds.length, maxLength: peerIds.length }),
    fc.array(fc.constantFrom('peer', 'peer', 'peer', 'operator'), {
      minLength: peerIds.length,
      maxLength: peerIds.length,
    }),
  )
  .map(([ids, states, tagSets, roles]) =>
    ids.map((id, i) => ({
      id,
      state: states[i] ?? 'alive',
      tags: tagSets[i] ?? [],
      role: roles[i] ?? 'peer',
    })),
  );

const workloadsArbitrary: fc.Arbitrary<RepairWorkload[]> = fc.uniqueArray(
  fc
    .record({
      id: fc.nat(60).map((n) => `ns/app#w${n}`),
      owner: fc.constantFrom(...peerIds, 'removed'),
      group: fc.option(fc.constantFrom('web', 'db'), { nil: undefined }),
      requiredTags: fc.subarray(tags, { maxLength: 1 }),
      pinned: fc.option(fc.constant('volume'), { nil: undefined, freq: 8 }),
    })
    .map(({ group, pinned, ...rest }) => ({
      ...rest,
      ...(group === undefined ? {} : { group }),
      ...(pinned === undefined ? {} : { pinned }),
    })),
  { selector: (w) => w.id, maxLength: 25 },
);

const gone = (peers: readonly RepairPeer[], owner: string): boolean => {
  const peer = peers.find((p) => p.id === owner);
  return peer === undefined || peer.state === 'dead' || peer.state === 'left';
};

describe('repair properties', () => {
  it('plans the same whatever the order of its inputs', () => {
    fc.assert(
      fc.property(
        peersArbitrary.chain((peers) =>
          fc.tuple(
            fc.constant(peers),
            fc.shuffledSubarray(peers, { minLength: peers.length }),
            workloadsArbitrary.chain((w) =>
              fc.tuple(fc.constant(w), fc.shuffledSubarray(w, { minLength: w.length })),
            ),
          ),
        ),
        ([peers, shuffledPeers, [workloads, shuffledWorkloads]]) => {
          expect(planRepair({ workloads: shuffledWorkloads, peers: shuffledPeers })).toEqual(
            planRepair({ workloads, peers }),
          );
        },
      ),
      settings,
    );
  });

  it('moves exactly the movable instances of gone owners, to alive eligible peers, once', () => {
    fc.assert(
      fc.property(peersArbitrary, workloadsArbitrary, (peers, workloads) => {
        const plan = planRepair({ workloads, peers });
        const orphans = workloads
          .filter((w) => gone(peers, w.owner))
          .map((w) => w.id)
          .sort();
        const decided = [...plan.moves.map((m) => m.workloadId), ...plan.waiting.map((w) => w.workloadId)];
        expect(decided.sort()).toEqual(orphans);
        const alive = peers.filter((p) => p.role === 'peer' && p.state === 'alive');
        for (const move of plan.moves) {
          const workload = workloads.find((w) => w.id === move.workloadId);
          const target = alive.find((p) => p.id === move.to);
          expect(target).toBeDefined();
          expect(workload?.pinned).toBeUndefined();
          for (const tag of workload?.requiredTags ?? []) expect(target?.tags).toContain(tag);
          expect(move.writers[0]).toBe(move.to);
          expect([...move.writers].sort()).toEqual(alive.map((p) => p.id).sort());
        }
        // Replaying the plan leaves nothing to move: repair reaches a fixed point in one round.
        const after = workloads.map((w) => {
          const move = plan.moves.find((m) => m.workloadId === w.id);
          return move === undefined ? w : { ...w, owner: move.to };
        });
        expect(planRepair({ workloads: after, peers }).moves).toEqual([]);
      }),
      settings,
    );
  });

  it('peers that hear of the same changes in different orders end with the same owners', () => {
    // Each replica holds an owner register per workload (the highest stamp wins, as in the graph). Changes
    // of peer states arrive at each replica in its own order; after each, the replica plans and writes the
    // moves it is first writer of. Then everything is exchanged, and the fallback writers write what is
    // still missing. Every replica must end with the same owners, none of them gone.
    const eventArbitrary = fc.record({
      peer: fc.constantFrom(...peerIds),
      state: fc.constantFrom<RepairPeer['state']>('alive', 'dead', 'left'),
    });
    fc.assert(
      fc.property(
        workloadsArbitrary,
        fc.array(eventArbitrary, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(1_000), { minLength: peerIds.length, maxLength: peerIds.length }),
        (workloads, events, shuffleSeeds) => {
          const start = peerIds.map((id): RepairPeer => ({
            id,
            state: 'alive',
            role: 'peer',
            tags: [...tags],
          }));
          const final = new Map(start.map((p) => [p.id, p.state]));
          for (const event of events) final.set(event.peer, event.state);
          const finalPeers = start.map((p) => ({ ...p, state: final.get(p.id) ?? p.state }));
          let stamp = 0;
          type Register = { owner: string; stamp: number; by: string };
          const replicas = peerIds.map((id, i) => {
            const register = new Map<string, Register>(
              workloads.map((w) => [w.id, { owner: w.owner, stamp: 0, by: '' }]),
            );
            // The replica's own order of the events: a rotation keeps each peer's changes in their order.
            const rotation = (shuffleSeeds[i] ?? 0) % events.length;
            const order = [...events.slice(rotation), ...events.slice(0, rotation)];
            return { id, register, order };
          });
          const view = (register: Map<string, Register>): RepairWorkload[] =>
            workloads.map((w) => ({ ...w, owner: register.get(w.id)?.owner ?? w.owner }));
          const write = (replica: (typeof replicas)[number], workloadId: string, owner: string): void => {
            replica.register.set(workloadId, { owner, stamp: ++stamp, by: replica.id });
          };
          const merge = (): void => {
            for (const w of workloads) {
              const winner = replicas
                .map((r) => r.register.get(w.id))
                .filter((r) => r !== undefined)
                .sort((a, b) => b.stamp - a.stamp || (a.by < b.by ? 1 : -1))[0];
              if (winner !== undefined) for (const r of replicas) r.register.set(w.id, winner);
            }
          };
          for (const replica of replicas) {
            const states = new Map(start.map((p) => [p.id, p.state]));
            for (const event of replica.order) {
              states.set(event.peer, event.state);
              if (states.get(replica.id) !== 'alive') continue;
              const peers = start.map((p) => ({ ...p, state: states.get(p.id) ?? p.state }));
              for (const move of planRepair({ workloads: view(replica.register), peers }).moves)
                if (move.writers[0] === replica.id) write(replica, move.workloadId, move.to);
            }
          }
          merge();
          // Every live replica now has the final view; the first writer, or failing that a fallback, writes.
          const live = replicas.filter((r) => final.get(r.id) === 'alive');
          for (let rank = 0; rank < peerIds.length; rank++) {
            for (const replica of live) {
              for (const move of planRepair({ workloads: view(replica.register), peers: finalPeers }).moves)
                if (move.writers[rank] === replica.id) write(replica, move.workloadId, move.to);
            }
            merge();
          }
          const owners = live.map((r) => JSON.stringify(view(r.register).map((w) => w.owner)));
          expect(new Set(owners).size).toBeLessThanOrEqual(1);
          const plan = planRepair({ workloads: view(replicas[0]!.register), peers: finalPeers });
          expect(plan.moves).toEqual([]);
          if (plan.quorum) {
            for (const w of view(replicas[0]!.register)) {
              if (gone(finalPeers, w.owner))
                expect(w.pinned ?? plan.waiting.some((x) => x.workloadId === w.id)).toBeTruthy();
            }
          }
        },
      ),
      settings,
    );
  });
});
