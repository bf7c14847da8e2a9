import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultRecoveryPolicy, type ResolvedRunnable, type Workload } from '@monk/model';
import { placePending, planDeploy, type DeployPeer } from './deploy-plan.ts';

// Set MONK_TEST_SEED to replay a failure; fast-check prints the seed and path of any counterexample.
const seed = Number(process.env['MONK_TEST_SEED'] ?? 20_261_202);
const settings = { seed, numRuns: 200 };
// Hundreds of deploys per property: on a loaded machine that is more than the default 5 s.
const timeout = 60_000;
const GiB = 1024 ** 3;
const tags = ['gpu', 'ssd', 'edge'];

const peersArbitrary: fc.Arbitrary<DeployPeer[]> = fc.uniqueArray(
  fc.record({
    id: fc.nat(30).map((n) => `p${n}`),
    role: fc.constantFrom('peer' as const, 'peer' as const, 'operator' as const),
    state: fc.constantFrom('alive' as const, 'alive' as const, 'suspect' as const, 'dead' as const),
    tags: fc.subarray(tags),
    capacity: fc.record({
      cpus: fc.integer({ min: 1, max: 8 }),
      memoryBytes: fc.integer({ min: 1, max: 16 }).map((n) => n * GiB),
      gpus: fc.nat(2),
    }),
  }),
  { selector: (peer) => peer.id, minLength: 1, maxLength: 7 },
);

const runnableArbitrary = (index: number): fc.Arbitrary<ResolvedRunnable> =>
  fc
    .record({
      scale: fc.integer({ min: 1, max: 6 }),
      containers: fc.integer({ min: 1, max: 2 }),
      cpus: fc.constantFrom(0, 0.25, 0.5, 1, 2),
      memory: fc.constantFrom(0, 1, 2, 4),
      gpus: fc.constantFrom(0, 0, 0, 1),
      tags: fc.subarray(tags, { maxLength: 1 }),
    })
    .map((r) => ({
      path: `ns/r${index}`,
      containers: Array.from({ length: r.containers }, (_, i) => ({
        key: `c${i}`,
        spec: { image: 'busybox:1', environment: {}, ports: [], mounts: [], files: [], labels: {} },
      })),
      services: [],
      dependsOn: [],
      connections: {},
      recovery: defaultRecoveryPolicy,
      variables: {},
      scale: r.scale,
      placement: {
        requests: { cpus: r.cpus, memoryBytes: r.memory * GiB, gpus: r.gpus },
        ...(r.tags.length === 0 ? {} : { tags: r.tags }),
      },
    }));

const worldArbitrary = fc.record({
  peers: peersArbitrary,
  deployments: fc
    .integer({ min: 1, max: 4 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => runnableArbitrary(i)))),
});

/** Deploys each runnable in turn, as `monk run` after `monk run` would, and returns every workload. */
function deployAll(peers: readonly DeployPeer[], runnables: readonly ResolvedRunnable[]): Workload[] {
  let workloads: Workload[] = [];
  for (const runnable of runnables) {
    const plan = planDeploy({
      deployment: runnable.path,
      runnables: [runnable],
      generation: 1,
      workloads,
      peers,
      accepting: peers[0]?.id ?? 'p0',
    });
    workloads = [...workloads.filter((w) => w.deployment !== runnable.path), ...plan.workloads];
  }
  return workloads;
}

describe('planDeploy properties', () => {
  it(
    'never exceeds a capacity, and places only on alive peers that carry the tags',
    () => {
      fc.assert(
        fc.property(worldArbitrary, ({ peers, deployments }) => {
          const workloads = deployAll(peers, deployments);
          for (const peer of peers) {
            const mine = workloads.filter((w) => w.owner === peer.id);
            if (mine.length === 0) continue;
            expect(peer.role).toBe('peer');
            expect(['alive', 'suspect']).toContain(peer.state);
            const sum = (pick: (w: Workload) => number): number =>
              mine.reduce((total, w) => total + pick(w), 0);
            expect(sum((w) => Math.round((w.placement?.requests?.cpus ?? 0) * 1000))).toBeLessThanOrEqual(
              peer.capacity!.cpus * 1000,
            );
            expect(sum((w) => w.placement?.requests?.memoryBytes ?? 0)).toBeLessThanOrEqual(
              peer.capacity!.memoryBytes,
            );
            expect(sum((w) => w.placement?.requests?.gpus ?? 0)).toBeLessThanOrEqual(
              peer.capacity!.gpus ?? 0,
            );
            for (const w of mine) for (const tag of w.placement?.tags ?? []) expect(peer.tags).toContain(tag);
          }
          for (const w of workloads.filter((item) => item.owner === '')) {
            expect(w.unschedulable?.peers.map((p) => p.peer).sort()).toEqual(peers.map((p) => p.id).sort());
          }
        }),
        settings,
      );
    },
    timeout,
  );

  it(
    'spreads replicas: on identical empty peers, counts per peer differ by at most one',
    () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 20 }), (peerCount, scale) => {
          const peers = Array.from({ length: peerCount }, (_, i) => ({
            id: `p${i}`,
            role: 'peer' as const,
            state: 'alive' as const,
            tags: [],
          }));
          const [runnable] = fc.sample(runnableArbitrary(0), { seed, numRuns: 1 });
          const plain: ResolvedRunnable = { ...runnable!, scale, placement: {} };
          const counts = new Map(peers.map((p) => [p.id, 0]));
          for (const w of deployAll(peers, [plain])) {
            if (w.container === 'c0') counts.set(w.owner, (counts.get(w.owner) ?? 0) + 1);
          }
          const values = [...counts.values()];
          expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
        }),
        settings,
      );
    },
    timeout,
  );

  it(
    'gives the same placement whatever the order of peers, runnables and workloads',
    () => {
      fc.assert(
        fc.property(worldArbitrary, fc.nat(1000), ({ peers, deployments }, shuffleSeed) => {
          const existing = deployAll(peers, deployments.slice(1));
          const target = deployments[0]!;
          const input = {
            deployment: 'ns/group',
            runnables: [target],
            generation: 1,
            workloads: existing,
            peers,
            accepting: peers[0]!.id,
          };
          const shuffled = {
            ...input,
            workloads: shuffle(existing, shuffleSeed),
            peers: shuffle(peers, shuffleSeed + 1),
          };
          expect(planDeploy(shuffled)).toEqual(planDeploy(input));
          expect(
            placePending({ workloads: shuffle(existing, shuffleSeed), peers: shuffle(peers, 7) }),
          ).toEqual(placePending({ workloads: existing, peers }));
        }),
        settings,
      );
    },
    timeout,
  );
});

function shuffle<T>(items: readonly T[], salt: number): T[] {
  const copy = [...items];
  let state = salt + 1;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
