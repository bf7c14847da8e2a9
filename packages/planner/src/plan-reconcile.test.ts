import type { Workload } from '@monk/model';
import { describe, expect, it } from 'vitest';
import { describeStep, planReconcile } from './plan-reconcile.ts';
import type { ObservedContainer, Plan, PlanStep, ReconcileInput } from './plan-reconcile.ts';
import { makeWorkload } from './test-workload.ts';

const now = Date.parse('2025-01-01T00:00:00Z');
const web = makeWorkload('web');
const db = makeWorkload('db');
const app = makeWorkload('app', { dependsOn: [db.id] });
const spec2 = { ...web.spec, image: 'monk-local/busybox:2' };

function container(workload: Workload, overrides: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `c-${workload.container}`,
    name: workload.name,
    workloadId: workload.id,
    specHash: workload.specHash,
    state: 'running',
    ...overrides,
  };
}

function withoutHash(observed: ObservedContainer): ObservedContainer {
  const { specHash: _, ...rest } = observed;
  return rest;
}

function plan(input: Partial<ReconcileInput>): Plan {
  return planReconcile({
    peerId: 'peer-a',
    workloads: [],
    containers: [],
    ready: {},
    restarts: {},
    now,
    ...input,
  });
}

function lines(input: Partial<ReconcileInput>): { steps: string[]; waiting: string[] } {
  const result = plan(input);
  return {
    steps: result.steps.map(describeStep),
    waiting: result.waiting.map(
      (w) => `${w.workloadId}: ${w.reason}${w.until === undefined ? '' : ` until +${w.until - now}`}`,
    ),
  };
}

interface Case {
  name: string;
  input: Partial<ReconcileInput>;
  steps?: string[];
  waiting?: string[];
}

const cases: Case[] = [
  {
    name: 'creates a workload that has no container',
    input: { workloads: [web] },
    steps: ['create ns/app#web: no container yet'],
  },
  {
    name: 'leaves a running container with the right spec alone',
    input: { workloads: [web], containers: [container(web)] },
  },
  {
    name: 'does not run workloads owned by another peer',
    input: { workloads: [makeWorkload('web', { owner: 'peer-b' })] },
  },
  {
    name: 'creates a dependency but holds back its dependent until it is ready',
    input: { workloads: [app, db] },
    steps: ['create ns/app#db: no container yet'],
    waiting: ['ns/app#app: waiting for ns/app#db to be ready'],
  },
  {
    name: 'waits for a dependency that runs but is not ready',
    input: { workloads: [app, db], containers: [container(db)], ready: { [db.id]: false } },
    waiting: ['ns/app#app: waiting for ns/app#db to be ready'],
  },
  {
    name: 'creates the dependent once its dependency is ready (readiness as a Map)',
    input: { workloads: [app, db], containers: [container(db)], ready: new Map([[db.id, true]]) },
    steps: ['create ns/app#app: no container yet'],
  },
  {
    name: 'counts readiness of dependencies on other peers',
    input: { workloads: [app, makeWorkload('db', { owner: 'peer-b' })], ready: { [db.id]: true } },
    steps: ['create ns/app#app: no container yet'],
  },
  {
    name: 'waits for a dependency on another peer that is not ready',
    input: { workloads: [app, makeWorkload('db', { owner: 'peer-b' })] },
    waiting: ['ns/app#app: waiting for ns/app#db to be ready'],
  },
  {
    name: 'names a dependency that does not exist',
    input: { workloads: [app], ready: { [db.id]: true } },
    waiting: ['ns/app#app: waiting for ns/app#db (no such workload) to be ready'],
  },
  {
    name: 'names a dependency that is stopped',
    input: { workloads: [app, makeWorkload('db', { state: 'stopped' })], ready: { [db.id]: true } },
    waiting: ['ns/app#app: waiting for ns/app#db (stopped) to be ready'],
  },
  {
    name: 'does not trust the readiness of a dependency this plan replaces',
    input: {
      workloads: [app, db],
      containers: [container(db, { specHash: 'old' })],
      ready: { [db.id]: true },
    },
    steps: [`replace ns/app#db (container c-db): spec changed (hash old → ${db.specHash.slice(0, 8)})`],
    waiting: ['ns/app#app: waiting for ns/app#db (replaced in this plan) to be ready'],
  },
  {
    name: 'does not trust a stale readiness of a dependency that is about to start',
    input: {
      workloads: [app, db],
      containers: [container(db, { state: 'created' })],
      ready: { [db.id]: true },
    },
    steps: ['start ns/app#db (container c-db): created but not started'],
    waiting: ['ns/app#app: waiting for ns/app#db to be ready'],
  },
  {
    name: 'ignores an inherited object key as readiness',
    input: { workloads: [makeWorkload('app', { dependsOn: ['constructor'] })] },
    waiting: ['ns/app#app: waiting for constructor (no such workload) to be ready'],
  },
  {
    name: 'replaces a running container whose spec changed without waiting for dependencies',
    input: { workloads: [app, db], containers: [container(db), withoutHash(container(app))] },
    steps: [`replace ns/app#app (container c-app): spec changed (hash none → ${app.specHash.slice(0, 8)})`],
  },
  {
    name: 'replaces an exited container whose spec changed only once dependencies are ready',
    input: {
      workloads: [app, db],
      containers: [container(db), container(app, { specHash: 'old', state: 'exited', exitCode: 1 })],
    },
    waiting: ['ns/app#app: waiting for ns/app#db to be ready'],
  },
  {
    name: 'replaces an exited container whose spec changed without waiting for its backoff',
    input: {
      workloads: [web],
      containers: [
        container(web, {
          specHash: 'old',
          state: 'exited',
          exitCode: 1,
          finishedAt: new Date(now).toISOString(),
        }),
      ],
      restarts: { [web.id]: { restarts: 5, lastExitAt: now } },
    },
    steps: [
      `replace ns/app#web (container c-web): spec changed (hash old → ${web.specHash.slice(0, 8)}) (container exited)`,
    ],
  },
  {
    name: 'replaces a container whose name changed',
    input: { workloads: [web], containers: [container(web, { name: '/old-name' })] },
    steps: ['replace ns/app#web (container c-web): name changed (old-name → ns-app-web)'],
  },
  {
    name: "accepts Docker's leading slash in names",
    input: { workloads: [web], containers: [container(web, { name: '/ns-app-web' })] },
  },
  {
    name: 'starts a created container',
    input: { workloads: [web], containers: [container(web, { state: 'created' })] },
    steps: ['start ns/app#web (container c-web): created but not started'],
  },
  {
    name: 'holds back starting a created container until its dependencies are ready',
    input: { workloads: [app, db], containers: [container(db), container(app, { state: 'created' })] },
    waiting: ['ns/app#app: waiting for ns/app#db to be ready'],
  },
  {
    name: 'restarts an exited container (recovery always, first restart, no exit time known)',
    input: { workloads: [web], containers: [container(web, { state: 'exited', exitCode: 0 })] },
    steps: ['restart ns/app#web (container c-web): exited with code 0; restart #1 (recovery: always)'],
  },
  {
    name: 'restarts without waiting for dependencies',
    input: {
      workloads: [app, db],
      containers: [container(db), container(app, { state: 'exited', exitCode: 2 })],
    },
    steps: ['restart ns/app#app (container c-app): exited with code 2; restart #1 (recovery: always)'],
  },
  {
    name: 'leaves a cleanly exited container alone under on-failure',
    input: {
      workloads: [makeWorkload('web', { recovery: { ...web.recovery, restart: 'on-failure' } })],
      containers: [container(web, { state: 'exited', exitCode: 0 })],
    },
  },
  {
    name: 'restarts a failed container under on-failure, naming the engine error',
    input: {
      workloads: [makeWorkload('web', { recovery: { ...web.recovery, restart: 'on-failure' } })],
      containers: [container(web, { state: 'exited', exitCode: 137, error: 'OOMKilled' })],
    },
    steps: [
      'restart ns/app#web (container c-web): exited with code 137 (OOMKilled); restart #1 (recovery: on-failure)',
    ],
  },
  {
    name: 'restarts a dead container under on-failure',
    input: {
      workloads: [makeWorkload('web', { recovery: { ...web.recovery, restart: 'on-failure' } })],
      containers: [container(web, { state: 'dead' })],
    },
    steps: ['restart ns/app#web (container c-web): container is dead; restart #1 (recovery: on-failure)'],
  },
  {
    name: 'never restarts a crashed container under recovery when: node-failure',
    input: {
      workloads: [makeWorkload('web', { recovery: { ...web.recovery, when: 'node-failure' } })],
      containers: [container(web, { state: 'exited', exitCode: 1 })],
    },
  },
  {
    name: 'bounces a running container whose liveness check failed, counted as a recovery',
    input: {
      workloads: [web],
      containers: [container(web)],
      unhealthy: { [web.id]: 'exit code 1 (3/3)' },
    },
    steps: ['bounce ns/app#web (container c-web): liveness check failed: exit code 1 (3/3)'],
  },
  {
    name: 'leaves a container whose liveness check failed running when recovery is none',
    input: {
      workloads: [makeWorkload('web', { recovery: { ...web.recovery, when: 'none' } })],
      containers: [container(web)],
      unhealthy: { [web.id]: 'exit code 1 (3/3)' },
    },
  },
  {
    name: 'a dependency wait with a timeout carries its deadline',
    input: {
      workloads: [makeWorkload('app', { dependsOn: [db.id], waitForTimeoutSeconds: 30 }), db],
      containers: [container(db)],
      waitingSince: { 'ns/app#app': now - 10_000 },
    },
    waiting: ['ns/app#app: waiting for ns/app#db to be ready until +20000'],
  },
  {
    name: 'never restarts under recovery no',
    input: {
      workloads: [makeWorkload('web', { recovery: { ...web.recovery, restart: 'no' } })],
      containers: [container(web, { state: 'exited', exitCode: 1 })],
    },
  },
  {
    name: 'waits out the backoff (1s · 2^3 = 8s after the last exit)',
    input: {
      workloads: [web],
      containers: [container(web, { state: 'exited', exitCode: 1 })],
      restarts: { [web.id]: { restarts: 3, lastExitAt: now - 5_000 } },
    },
    waiting: ['ns/app#web: exited with code 1; restart #4 in 3s (backoff 8s) until +3000'],
  },
  {
    name: 'restarts once the backoff has elapsed',
    input: {
      workloads: [web],
      containers: [container(web, { state: 'exited', exitCode: 1 })],
      restarts: { [web.id]: { restarts: 3, lastExitAt: now - 8_000 } },
    },
    steps: ['restart ns/app#web (container c-web): exited with code 1; restart #4 (recovery: always)'],
  },
  {
    name: "takes the exit time from the container's finishedAt when there is no record",
    input: {
      workloads: [web],
      containers: [
        container(web, { state: 'exited', exitCode: 1, finishedAt: new Date(now - 400).toISOString() }),
      ],
    },
    waiting: ['ns/app#web: exited with code 1; restart #1 in 600ms (backoff 1s) until +600'],
  },
  {
    name: 'uses the later of the recorded and the observed exit time',
    input: {
      workloads: [web],
      containers: [
        container(web, { state: 'exited', exitCode: 1, finishedAt: new Date(now - 1_000).toISOString() }),
      ],
      restarts: { [web.id]: { restarts: 1, lastExitAt: now - 60_000 } },
    },
    waiting: ['ns/app#web: exited with code 1; restart #2 in 1s (backoff 2s) until +1000'],
  },
  {
    name: "treats Docker's zero finishedAt as unknown",
    input: {
      workloads: [web],
      containers: [container(web, { state: 'exited', exitCode: 1, finishedAt: '0001-01-01T00:00:00Z' })],
    },
    steps: ['restart ns/app#web (container c-web): exited with code 1; restart #1 (recovery: always)'],
  },
  {
    name: 'caps the backoff at maxBackoffMs',
    input: {
      workloads: [web],
      containers: [container(web, { state: 'exited', exitCode: 1 })],
      restarts: { [web.id]: { restarts: 40, lastExitAt: now - 1_000 } },
    },
    waiting: ['ns/app#web: exited with code 1; restart #41 in 59s (backoff 1m) until +59000'],
  },
  {
    name: 'stops the running container of a stopped workload and keeps it',
    input: { workloads: [makeWorkload('web', { state: 'stopped' })], containers: [container(web)] },
    steps: ['stop ns/app#web (container c-web): workload is stopped'],
  },
  {
    name: 'does nothing for a stopped workload whose container exited, even with another spec',
    input: {
      workloads: [makeWorkload('web', { state: 'stopped' })],
      containers: [container(web, { state: 'exited', exitCode: 0, specHash: 'old' })],
    },
  },
  {
    name: 'does not create a stopped workload',
    input: { workloads: [makeWorkload('web', { state: 'stopped' })] },
  },
  {
    name: 'stops and removes a container whose workload is no longer desired',
    input: { containers: [container(web)] },
    steps: [
      'stop ns/app#web (container c-web): workload ns/app#web is no longer desired',
      'remove ns/app#web (container c-web): workload ns/app#web is no longer desired',
    ],
  },
  {
    name: 'only removes an orphan that is not running',
    input: { containers: [container(web, { state: 'exited', exitCode: 0 })] },
    steps: ['remove ns/app#web (container c-web): workload ns/app#web is no longer desired'],
  },
  {
    name: 'stops and removes a paused orphan',
    input: { containers: [container(web, { state: 'paused' })] },
    steps: [
      'stop ns/app#web (container c-web): workload ns/app#web is no longer desired',
      'remove ns/app#web (container c-web): workload ns/app#web is no longer desired',
    ],
  },
  {
    name: 'removes the container of a workload assigned to another peer',
    input: { workloads: [makeWorkload('web', { owner: 'peer-b' })], containers: [container(web)] },
    steps: [
      'stop ns/app#web (container c-web): workload ns/app#web is assigned to peer-b',
      'remove ns/app#web (container c-web): workload ns/app#web is assigned to peer-b',
    ],
  },
  {
    name: 'removes a monk container without a workload label',
    input: { containers: [{ id: 'c-stray', name: 'stray', state: 'created' }] },
    steps: ['remove container c-stray: monk container without a workload label'],
  },
  {
    name: 'leaves a container that is being removed alone',
    input: { containers: [container(web, { state: 'removing' })] },
  },
  {
    name: 'waits for a container with the same name to finish removing before creating',
    input: {
      workloads: [web],
      containers: [container(web, { id: 'c-old', workloadId: 'ns/old#web', state: 'removing' })],
    },
    waiting: ['ns/app#web: waiting for the old container ns-app-web to be removed'],
  },
  {
    name: 'keeps the duplicate with the current spec, removes the other, then fixes its name',
    input: {
      workloads: [web],
      containers: [
        container(web, { id: 'c-1', specHash: 'old' }),
        container(web, { id: 'c-2', name: 'ns-app-web-2' }),
      ],
    },
    steps: [
      'stop ns/app#web (container c-1): duplicate container of ns/app#web (keeping c-2)',
      'remove ns/app#web (container c-1): duplicate container of ns/app#web (keeping c-2)',
      'replace ns/app#web (container c-2): name changed (ns-app-web-2 → ns-app-web)',
    ],
  },
  {
    name: 'keeps the running duplicate over an exited one, then the smallest id',
    input: {
      workloads: [web],
      containers: [
        container(web, { id: 'c-3', state: 'exited', exitCode: 1 }),
        container(web, { id: 'c-2' }),
        container(web, { id: 'c-1' }),
      ],
    },
    steps: [
      'stop ns/app#web (container c-2): duplicate container of ns/app#web (keeping c-1)',
      'remove ns/app#web (container c-2): duplicate container of ns/app#web (keeping c-1)',
      'remove ns/app#web (container c-3): duplicate container of ns/app#web (keeping c-1)',
    ],
  },
  {
    name: 'names a dependency cycle instead of hanging',
    input: {
      workloads: [
        makeWorkload('a', { dependsOn: ['ns/app#b'] }),
        makeWorkload('b', { dependsOn: ['ns/app#c'] }),
        makeWorkload('c', { dependsOn: ['ns/app#a'] }),
        makeWorkload('d', { dependsOn: ['ns/app#a'] }),
      ],
    },
    waiting: [
      'ns/app#a: dependency cycle: ns/app#a → ns/app#b → ns/app#c → ns/app#a',
      'ns/app#b: dependency cycle: ns/app#a → ns/app#b → ns/app#c → ns/app#a',
      'ns/app#c: dependency cycle: ns/app#a → ns/app#b → ns/app#c → ns/app#a',
      'ns/app#d: waiting for ns/app#a to be ready',
    ],
  },
  {
    name: 'names a workload that depends on itself',
    input: { workloads: [makeWorkload('a', { dependsOn: ['ns/app#a'] })] },
    waiting: ['ns/app#a: dependency cycle: ns/app#a → ns/app#a'],
  },
];

describe('planReconcile', () => {
  it.each(cases)('$name', ({ input, steps = [], waiting = [] }) => {
    expect(lines(input)).toEqual({ steps, waiting });
  });

  it('orders removals first, then stops (dependents first), then changes in dependency order', () => {
    const front = makeWorkload('front', { dependsOn: [app.id] });
    const stoppedDb = makeWorkload('sdb', { state: 'stopped' });
    const stoppedApp = makeWorkload('sapp', { state: 'stopped', dependsOn: [stoppedDb.id] });
    const result = lines({
      workloads: [front, app, db, stoppedApp, stoppedDb, web],
      containers: [
        container(front, { specHash: 'old' }),
        container(app, { specHash: 'old' }),
        container(db, { specHash: 'old' }),
        container(stoppedApp),
        container(stoppedDb),
        { id: 'c-zz-orphan', name: 'gone', workloadId: 'ns/gone#x', state: 'running' },
      ],
    });
    expect(result.steps.map((line) => line.split(':')[0])).toEqual([
      'stop ns/gone#x (container c-zz-orphan)',
      'remove ns/gone#x (container c-zz-orphan)',
      'stop ns/app#sapp (container c-sapp)',
      'stop ns/app#sdb (container c-sdb)',
      'replace ns/app#db (container c-db)',
      'replace ns/app#app (container c-app)',
      'replace ns/app#front (container c-front)',
      'create ns/app#web',
    ]);
  });

  it('plans the same whatever the order of its inputs', () => {
    const input = {
      workloads: [web, app, db, makeWorkload('x', { owner: 'peer-b' })],
      containers: [
        container(db),
        container(web, { id: 'c-2', specHash: 'old' }),
        container(web, { id: 'c-1', specHash: 'old' }),
      ],
      ready: { [db.id]: true },
    };
    const reversed = {
      ...input,
      workloads: [...input.workloads].reverse(),
      containers: [...input.containers].reverse(),
    };
    expect(plan(reversed)).toEqual(plan(input));
  });

  it('keeps the reason and the backoff deadline as data', () => {
    const result = plan({
      workloads: [web],
      containers: [container(web, { state: 'exited', exitCode: 1 })],
      restarts: { [web.id]: { restarts: 0, lastExitAt: now } },
    });
    expect(result).toEqual({
      steps: [],
      waiting: [
        {
          workloadId: web.id,
          kind: 'backoff',
          reason: 'exited with code 1; restart #1 in 1s (backoff 1s)',
          until: now + 1_000,
        },
      ],
    });
  });

  it('fails a dependency wait that outlasted depends.wait-for.timeout, and still starts once ready', () => {
    const dependent = makeWorkload('app', { dependsOn: [db.id], waitForTimeoutSeconds: 30 });
    const waited = plan({
      workloads: [dependent, db],
      containers: [container(db)],
      waitingSince: { [dependent.id]: now - 30_000 },
    });
    expect(waited.steps).toEqual([]);
    expect(waited.waiting).toEqual([
      {
        workloadId: dependent.id,
        kind: 'dependencies',
        reason: 'waiting for ns/app#db to be ready',
        until: now,
        failure: {
          code: 'TIMEOUT',
          message:
            'dependencies not ready after 30s (depends.wait-for.timeout): waiting for ns/app#db to be ready',
        },
      },
    ]);
    const ready = plan({
      workloads: [dependent, db],
      containers: [container(db)],
      ready: { [db.id]: true },
      waitingSince: { [dependent.id]: now - 60_000 },
    });
    expect(ready.steps.map(describeStep)).toEqual(['create ns/app#app: no container yet']);
  });

  it('marks a liveness bounce as a recovery and a monk restart bounce not', () => {
    const bounced = plan({
      workloads: [web],
      containers: [container(web)],
      unhealthy: { [web.id]: 'boom' },
    });
    expect(bounced.steps).toEqual([expect.objectContaining({ kind: 'bounce', recovery: true })]);
    const restarted = plan({
      workloads: [makeWorkload('web', { restartRequestedAt: new Date(now).toISOString() })],
      containers: [container(web, { startedAt: new Date(now - 1_000).toISOString() })],
    });
    expect(restarted.steps).toEqual([expect.not.objectContaining({ recovery: true })]);
  });

  it('describes a replacement with the names it needs to apply it', () => {
    const result = plan({ workloads: [makeWorkload('web', { spec: spec2 })], containers: [container(web)] });
    expect(result.steps).toEqual([
      expect.objectContaining({
        kind: 'replace',
        workloadId: web.id,
        containerId: 'c-web',
        name: 'ns-app-web',
      }),
    ]);
  });
});

describe('planReconcile: monk restart', () => {
  const requested = '2025-01-01T00:00:10Z';
  const restarted = makeWorkload('web', { restartRequestedAt: requested });

  it.each<[string, Partial<ObservedContainer>, PlanStep[]]>([
    [
      'bounces a running container that started before the request',
      { startedAt: '2025-01-01T00:00:05Z' },
      [
        {
          kind: 'bounce',
          workloadId: restarted.id,
          containerId: 'c-web',
          reason: `monk restart asked at ${requested} (container started 2025-01-01T00:00:05Z)`,
        },
      ],
    ],
    ['leaves one that started after it alone', { startedAt: '2025-01-01T00:00:11Z' }, []],
    ['leaves one whose start time is unknown alone', {}, []],
  ])('%s', (_, observed, steps) => {
    expect(plan({ workloads: [restarted], containers: [container(restarted, observed)] }).steps).toEqual(
      steps,
    );
  });

  it('does not wait for dependencies, and a workload without a request is never bounced', () => {
    const dependent = makeWorkload('app', { dependsOn: [db.id], restartRequestedAt: requested });
    const result = plan({
      workloads: [dependent, db],
      containers: [
        container(dependent, { startedAt: '2025-01-01T00:00:01Z' }),
        container(db, { startedAt: '2025-01-01T00:00:01Z' }),
      ],
    });
    expect(result.steps.map((step) => `${step.kind} ${step.workloadId ?? ''}`)).toEqual([
      `bounce ${dependent.id}`,
    ]);
    expect(describeStep(result.steps[0] as PlanStep)).toMatch(
      /^bounce ns\/app#app \(container c-app\): monk restart asked at /,
    );
  });
});

describe('describeStep', () => {
  const table: Array<[PlanStep, string]> = [
    [
      { kind: 'create', workloadId: 'ns/app#web', name: 'ns-app-web', reason: 'no container yet' },
      'create ns/app#web: no container yet',
    ],
    [
      { kind: 'start', workloadId: 'ns/app#web', containerId: 'abcdef0123456789', reason: 'r' },
      'start ns/app#web (container abcdef012345): r',
    ],
    [
      { kind: 'replace', workloadId: 'w', containerId: 'c', name: 'n', reason: 'r' },
      'replace w (container c): r',
    ],
    [{ kind: 'restart', workloadId: 'w', containerId: 'c', reason: 'r' }, 'restart w (container c): r'],
    [{ kind: 'stop', workloadId: 'w', containerId: 'c', reason: 'r' }, 'stop w (container c): r'],
    [{ kind: 'remove', containerId: 'c', reason: 'r' }, 'remove container c: r'],
  ];
  it.each(table)('describes %o', (step, line) => {
    expect(describeStep(step)).toBe(line);
  });
});
