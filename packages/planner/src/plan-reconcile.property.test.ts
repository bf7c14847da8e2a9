import type { Workload } from '@monk/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planReconcile } from './plan-reconcile.ts';
import type { ContainerState, ObservedContainer, PlanStep, ReconcileInput } from './plan-reconcile.ts';
import { makeWorkload } from './test-workload.ts';

// Set MONK_TEST_SEED to replay a failure; fast-check prints the seed and path of any counterexample.
const seed = Number(process.env['MONK_TEST_SEED'] ?? 20_250_101);
const settings = { seed, numRuns: 300 };
const now = 1_700_000_000_000;

interface Scenario {
  workloads: Workload[];
  containers: ObservedContainer[];
}

const states: ContainerState[] = ['created', 'running', 'paused', 'restarting', 'exited', 'dead'];

/** Up to 6 workloads on two peers with acyclic dependencies, and up to 8 containers of every kind. */
const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .array(
    fc.record({
      owner: fc.constantFrom('peer-a', 'peer-a', 'peer-b'),
      state: fc.constantFrom('running', 'running', 'running', 'stopped'),
      restart: fc.constantFrom('always', 'on-failure', 'no'),
      image: fc.constantFrom('one', 'two'),
      dependsOn: fc.uniqueArray(fc.nat(5), { maxLength: 2 }),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .chain((shapes) => {
    const workloads = shapes.map((shape, index) =>
      makeWorkload(`w${index}`, {
        owner: shape.owner,
        state: shape.state,
        recovery: {
          restart: shape.restart,
          initialBackoffMs: 1_000,
          maxBackoffMs: 8_000,
        },
        spec: { image: shape.image, environment: {}, ports: [], mounts: [], files: [], labels: {} },
        dependsOn: shape.dependsOn.filter((dep) => dep < index).map((dep) => `ns/app#w${dep}`),
      }),
    );
    const container = fc.record({
      target: fc.integer({ min: -2, max: workloads.length - 1 }),
      currentSpec: fc.boolean(),
      state: fc.constantFrom(...states),
      exitCode: fc.constantFrom(0, 1),
    });
    return fc.array(container, { maxLength: 8 }).map((shapes): Scenario => ({
      workloads,
      containers: shapes.map((shape, index): ObservedContainer => {
        const workload = workloads[shape.target];
        const base = { id: `c${index}`, state: shape.state, exitCode: shape.exitCode };
        if (shape.target === -2) return { ...base, name: `stray-${index}` };
        if (workload === undefined)
          return { ...base, name: `gone-${index}`, workloadId: 'ns/gone#x', specHash: 'x' };
        const specHash = shape.currentSpec ? workload.specHash : 'old';
        return { ...base, name: workload.name, workloadId: workload.id, specHash };
      }),
    }));
  });

function inputFor(scenario: Scenario, ready: Record<string, boolean>): ReconcileInput {
  return {
    peerId: 'peer-a',
    workloads: scenario.workloads,
    containers: scenario.containers,
    ready,
    restarts: {},
    now,
  };
}

/** Readiness as a perfect prober would see it: other peers' running workloads, and our matching running containers. */
function probe(scenario: Scenario): Record<string, boolean> {
  const ready: Record<string, boolean> = {};
  for (const workload of scenario.workloads) {
    ready[workload.id] =
      workload.state === 'running' &&
      (workload.owner !== 'peer-a' ||
        scenario.containers.some(
          (c) => c.workloadId === workload.id && c.state === 'running' && c.specHash === workload.specHash,
        ));
  }
  return ready;
}

/** Applies a plan the way monkd's applier would, against an ideal engine. */
function apply(scenario: Scenario, steps: readonly PlanStep[], round: number): Scenario {
  let containers = [...scenario.containers];
  const desired = new Map(scenario.workloads.map((w) => [w.id, w]));
  const fresh = (workloadId: string, name: string, n: number): ObservedContainer => ({
    id: `new-${round}-${n}`,
    name,
    workloadId,
    specHash: desired.get(workloadId)?.specHash ?? 'missing',
    state: 'running',
  });
  const set = (id: string, state: ContainerState): void => {
    containers = containers.map((c) => (c.id === id ? { ...c, state, exitCode: 0 } : c));
  };
  steps.forEach((step, n) => {
    switch (step.kind) {
      case 'create':
        containers.push(fresh(step.workloadId, step.name, n));
        break;
      case 'replace':
        containers = containers.filter((c) => c.id !== step.containerId);
        containers.push(fresh(step.workloadId, step.name, n));
        break;
      case 'start':
      case 'restart':
      case 'bounce':
        set(step.containerId, 'running');
        break;
      case 'stop':
        set(step.containerId, 'exited');
        break;
      case 'remove':
        containers = containers.filter((c) => c.id !== step.containerId);
        break;
    }
  });
  return { ...scenario, containers };
}

function checkPlanInvariants(scenario: Scenario, ready: Record<string, boolean>): PlanStep[] {
  const plan = planReconcile(inputFor(scenario, ready));
  const known = new Map(scenario.containers.map((c) => [c.id, c]));
  const seen = new Set<string>();
  for (const step of plan.steps) {
    if (step.kind !== 'create') {
      expect(known.get(step.containerId), `step on unknown container: ${JSON.stringify(step)}`).toBeDefined();
      const key = `${step.kind}:${step.containerId}`;
      expect(seen.has(key), `repeated step ${key}`).toBe(false);
      seen.add(key);
    }
    if (step.kind === 'create' || step.kind === 'start') {
      const workload = scenario.workloads.find((w) => w.id === step.workloadId);
      for (const dep of workload?.dependsOn ?? [])
        expect(ready[dep], `${step.workloadId} started before ${dep}`).toBe(true);
    }
    if (step.kind === 'remove' && known.get(step.containerId)?.state !== 'exited') {
      const stopped = plan.steps.some((s) => s.kind === 'stop' && s.containerId === step.containerId);
      const active = ['running', 'paused', 'restarting'].includes(known.get(step.containerId)?.state ?? '');
      expect(active ? stopped : true, `removed ${step.containerId} while it runs`).toBe(true);
    }
  }
  return plan.steps;
}

describe('planReconcile properties', () => {
  it('converges: applying plans reaches a fixpoint with no orphans and one container per workload', () => {
    fc.assert(
      fc.property(scenarioArbitrary, (initial) => {
        let scenario = initial;
        let steps: PlanStep[] = [];
        for (let round = 0; round < 12; round++) {
          steps = checkPlanInvariants(scenario, probe(scenario));
          if (steps.length === 0) break;
          scenario = apply(scenario, steps, round);
        }
        expect(steps).toEqual([]);
        const mine = new Map(scenario.workloads.filter((w) => w.owner === 'peer-a').map((w) => [w.id, w]));
        for (const c of scenario.containers) {
          expect(c.workloadId !== undefined && mine.has(c.workloadId), `orphan ${c.id} survived`).toBe(true);
        }
        const final = planReconcile(inputFor(scenario, probe(scenario)));
        for (const workload of mine.values()) {
          const own = scenario.containers.filter((c) => c.workloadId === workload.id);
          expect(own.length, `containers of ${workload.id}`).toBeLessThanOrEqual(1);
          const container = own[0];
          if (workload.state === 'stopped') {
            expect(['running', 'paused', 'restarting']).not.toContain(container?.state);
            continue;
          }
          const waits = final.waiting.some((w) => w.workloadId === workload.id);
          const settled =
            container !== undefined &&
            container.specHash === workload.specHash &&
            // restarting and paused belong to the engine (or a person): the planner leaves them be
            (['running', 'restarting', 'paused'].includes(container.state) ||
              (['exited', 'dead'].includes(container.state) &&
                (workload.recovery.restart === 'no' ||
                  (workload.recovery.restart === 'on-failure' &&
                    container.state === 'exited' &&
                    container.exitCode === 0))));
          expect(settled || waits, `${workload.id} neither runs, waits, nor is done`).toBe(true);
          if (waits) {
            expect(workload.dependsOn.some((dep) => probe(scenario)[dep] !== true)).toBe(true);
          }
        }
      }),
      settings,
    );
  });

  it('does not depend on the order of workloads and containers', () => {
    const arbitrary = scenarioArbitrary.chain((scenario) =>
      fc.tuple(
        fc.constant(scenario),
        fc.shuffledSubarray(scenario.workloads, { minLength: scenario.workloads.length }),
        fc.shuffledSubarray(scenario.containers, { minLength: scenario.containers.length }),
      ),
    );
    fc.assert(
      fc.property(arbitrary, ([scenario, workloads, containers]) => {
        const ready = probe(scenario);
        expect(planReconcile(inputFor({ workloads, containers }, ready))).toEqual(
          planReconcile(inputFor(scenario, ready)),
        );
      }),
      settings,
    );
  });
});
