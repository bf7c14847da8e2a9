import { describe, expect, it } from 'vitest';
import { planRepair } from './repair.ts';
import type { RepairPeer, RepairWorkload } from './repair.ts';

const peer = (id: string, state: RepairPeer['state'], overrides: Partial<RepairPeer> = {}): RepairPeer => ({
  id,
  state,
  role: 'peer',
  tags: [],
  ...overrides,
});
const on = (id: string, owner: string, overrides: Partial<RepairWorkload> = {}): RepairWorkload => ({
  id,
  owner,
  ...overrides,
});

describe('planRepair', () => {
  it.each([
    {
      name: 'a live, suspect or not-yet-known owner keeps its instances',
      peers: [peer('a', 'alive'), peer('b', 'suspect'), peer('c', 'unknown')],
      workloads: [on('w1', 'a'), on('w2', 'b'), on('w3', 'c')],
      moves: {},
      waiting: {},
    },
    {
      name: 'the instances of a dead peer move to the live ones, spread by load',
      peers: [peer('a', 'alive'), peer('b', 'alive'), peer('c', 'dead')],
      // b is empty, so it gets the first; then a and b are even and rendezvous decides.
      workloads: [on('w1', 'c'), on('w2', 'c'), on('w3', 'a')],
      moves: { w1: 'b', w2: expect.stringMatching(/^[ab]$/) as string },
      waiting: {},
    },
    {
      name: 'a peer that left, or was removed (no record), counts as gone',
      peers: [peer('a', 'alive'), peer('b', 'alive'), peer('c', 'left')],
      workloads: [on('w1', 'c'), on('w2', 'removed')],
      moves: { w1: expect.any(String) as string, w2: expect.any(String) as string },
      waiting: {},
    },
    {
      name: 'replicas of one group spread before load is looked at',
      peers: [peer('a', 'alive'), peer('b', 'alive'), peer('c', 'dead')],
      workloads: [
        on('web@1', 'c', { group: 'web' }),
        on('web', 'a', { group: 'web' }),
        on('x', 'b'),
        on('y', 'b'),
      ],
      moves: { 'web@1': 'b' },
      waiting: {},
    },
    {
      name: 'required tags filter the targets; none eligible waits with the reason',
      peers: [peer('a', 'alive', { tags: ['gpu'] }), peer('b', 'alive'), peer('c', 'dead')],
      workloads: [on('w1', 'c', { requiredTags: ['gpu'] }), on('w2', 'c', { requiredTags: ['ssd'] })],
      moves: { w1: 'a' },
      waiting: { w2: 'no alive peer has all of the tags ssd' },
    },
    {
      name: 'a pinned instance (its volume lives there) waits for its peer',
      peers: [peer('a', 'alive'), peer('b', 'alive'), peer('c', 'dead')],
      workloads: [on('db', 'c', { pinned: 'volume data lives on c' })],
      moves: {},
      waiting: { db: 'volume data lives on c' },
    },
    {
      name: 'operators, suspects and dead peers never receive instances',
      peers: [
        peer('a', 'alive'),
        peer('b', 'alive'),
        peer('o', 'alive', { role: 'operator' }),
        peer('s', 'suspect'),
        peer('d', 'dead'),
      ],
      workloads: [on('w1', 'd'), on('w2', 'd'), on('w3', 'd')],
      moves: Object.fromEntries(
        ['w1', 'w2', 'w3'].map((id) => [id, expect.stringMatching(/^[ab]$/) as string]),
      ),
      waiting: {},
    },
    {
      name: 'a minority moves nothing',
      peers: [peer('a', 'alive'), peer('b', 'dead'), peer('c', 'dead')],
      workloads: [on('w1', 'b'), on('w2', 'a')],
      moves: {},
      waiting: { w1: 'only 1 of 3 peers are alive here: a minority moves nothing' },
    },
    {
      name: 'half of the voters is enough (two peers, one dead); left peers do not vote',
      peers: [peer('a', 'alive'), peer('b', 'dead'), peer('c', 'left'), peer('d', 'left')],
      workloads: [on('w1', 'b'), on('w2', 'c')],
      moves: { w1: 'a', w2: 'a' },
      waiting: {},
    },
  ])('$name', ({ peers, workloads, moves, waiting }) => {
    const plan = planRepair({ workloads, peers });
    expect(Object.fromEntries(plan.moves.map((m) => [m.workloadId, m.to]))).toEqual(moves);
    expect(Object.fromEntries(plan.waiting.map((w) => [w.workloadId, w.reason]))).toEqual(waiting);
  });

  it('the new owner writes first, then every other live peer in a fixed order', () => {
    const plan = planRepair({
      workloads: [on('w1', 'd')],
      peers: [peer('a', 'alive'), peer('b', 'alive'), peer('c', 'alive'), peer('d', 'dead')],
    });
    const [move] = plan.moves;
    expect(move?.writers[0]).toBe(move?.to);
    expect([...(move?.writers ?? [])].sort()).toEqual(['a', 'b', 'c']);
    expect(move?.from).toBe('d');
  });
});
