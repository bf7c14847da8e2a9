import { describe, expect, it } from 'vitest';
import {
  defaultRecoveryPolicy,
  type PlacementConstraints,
  type ResolvedRunnable,
  type Workload,
} from '@monk/model';
import { pendingPlacer, placePending, planDeploy, type DeployInput, type DeployPeer } from './deploy-plan.ts';

const GiB = 1024 ** 3;
const spec = { image: 'nginx:1', environment: {}, ports: [], mounts: [], files: [], labels: {} };

function runnable(
  path: string,
  options: {
    scale?: number;
    containers?: string[];
    placement?: PlacementConstraints;
    image?: string;
    volume?: boolean;
  } = {},
): ResolvedRunnable {
  return {
    path,
    containers: (options.containers ?? ['main']).map((key) => ({
      key,
      spec: {
        ...spec,
        image: options.image ?? spec.image,
        mounts:
          options.volume === true
            ? [{ kind: 'volume' as const, source: 'data', target: '/data', readOnly: false }]
            : [],
      },
    })),
    services: [],
    dependsOn: [],
    connections: {},
    recovery: defaultRecoveryPolicy,
    variables: {},
    scale: options.scale ?? 1,
    ...(options.placement === undefined ? {} : { placement: options.placement }),
  };
}

function peer(id: string, overrides: Partial<DeployPeer> = {}): DeployPeer {
  return {
    id,
    name: id,
    role: 'peer',
    state: 'alive',
    tags: [],
    capacity: { cpus: 4, memoryBytes: 8 * GiB },
    ...overrides,
  };
}

const three = [peer('p1'), peer('p2'), peer('p3')];

function deploy(
  overrides: Partial<DeployInput> & Pick<DeployInput, 'runnables'>,
): ReturnType<typeof planDeploy> {
  return planDeploy({
    deployment: overrides.runnables[0]?.path ?? 'ns/app',
    generation: 1,
    workloads: [],
    peers: three,
    accepting: 'p1',
    ...overrides,
  });
}

const owners = (workloads: readonly Workload[]): Record<string, string> =>
  Object.fromEntries(workloads.map((w) => [w.id, w.owner]));

describe('planDeploy: where new instances go', () => {
  it.each([
    {
      name: 'a single instance goes to the accepting peer when loads are equal',
      input: { runnables: [runnable('ns/web')], accepting: 'p2' },
      expected: { 'ns/web#main': 'p2' },
    },
    {
      name: 'replicas of one runnable spread across peers',
      input: { runnables: [runnable('ns/web', { scale: 4 })], peers: [peer('p1'), peer('p2')] },
      expected: { 'ns/web#main': 'p1', 'ns/web#main@1': 'p2', 'ns/web#main@2': 'p1', 'ns/web#main@3': 'p2' },
    },
    {
      name: 'the containers of one replica stay together',
      input: {
        runnables: [runnable('ns/web', { scale: 2, containers: ['app', 'sidecar'] })],
        peers: [peer('p1'), peer('p2')],
      },
      expected: {
        'ns/web#app': 'p1',
        'ns/web#sidecar': 'p1',
        'ns/web#app@1': 'p2',
        'ns/web#sidecar@1': 'p2',
      },
    },
    {
      name: 'a pin (--peer) puts every replica on that peer',
      input: { runnables: [runnable('ns/web', { scale: 2 })], pin: 'p3' },
      expected: { 'ns/web#main': 'p3', 'ns/web#main@1': 'p3' },
    },
    {
      name: 'affinity.tag and -t keep instances on peers with every tag',
      input: {
        runnables: [runnable('ns/web', { scale: 2, placement: { tags: ['edge'] } })],
        peers: [peer('p1'), peer('p2', { tags: ['edge', 'ssd'] }), peer('p3', { tags: ['edge'] })],
        tags: ['ssd'],
      },
      expected: { 'ns/web#main': 'p2', 'ns/web#main@1': 'p2' },
    },
    {
      name: 'affinity.name matches a peer name',
      input: {
        runnables: [runnable('ns/web', { placement: { peer: 'beta' } })],
        peers: [peer('p1', { name: 'alpha' }), peer('p2', { name: 'beta' })],
      },
      expected: { 'ns/web#main': 'p2' },
    },
    {
      name: 'GPU requests go only to peers with GPUs',
      input: {
        runnables: [runnable('ns/ml', { placement: { requests: { gpus: 1 } } })],
        peers: [peer('p1'), peer('p2', { capacity: { cpus: 8, memoryBytes: 16 * GiB, gpus: 2 } })],
      },
      expected: { 'ns/ml#main': 'p2' },
    },
    {
      name: 'operators and dead peers run nothing; a suspect peer comes after the alive ones',
      input: {
        runnables: [runnable('ns/web', { scale: 3 })],
        peers: [
          peer('p0', { state: 'dead' }),
          peer('p1', { role: 'operator' }),
          peer('p2', { state: 'suspect' }),
          peer('p3'),
        ],
      },
      expected: { 'ns/web#main': 'p3', 'ns/web#main@1': 'p2', 'ns/web#main@2': 'p3' },
    },
  ])('$name', ({ input, expected }) => {
    const plan = deploy(input);
    expect(owners(plan.workloads)).toEqual(expected);
    expect(plan.unschedulable).toEqual([]);
  });

  it('counts the requests of what peers run: the sum never exceeds capacity', () => {
    const db = runnable('ns/db', { placement: { requests: { cpus: 3, memoryBytes: 6 * GiB } } });
    const first = deploy({ runnables: [db] });
    const web = runnable('ns/web', { scale: 3, placement: { requests: { cpus: 2 } } });
    const plan = deploy({ runnables: [web], workloads: first.workloads });
    // p1 has 1 CPU left: the replicas go to p2 and p3 (4 CPUs each), one of which takes two.
    expect(owners(first.workloads)).toEqual({ 'ns/db#main': 'p1' });
    const placed = Object.values(owners(plan.workloads));
    expect(new Set(placed)).toEqual(new Set(['p2', 'p3']));
    expect(placed).toHaveLength(3);
  });

  it('reports what fits nowhere as unschedulable, with the reason of every peer', () => {
    const plan = deploy({
      runnables: [runnable('ns/big', { placement: { requests: { cpus: 6 }, tags: ['fast'] } })],
      peers: [
        peer('p1', { tags: ['fast'] }),
        peer('p2', { state: 'dead' }),
        peer('p3', { role: 'operator' }),
        peer('p4'),
      ],
    });
    expect(plan.workloads.map((w) => [w.id, w.owner])).toEqual([['ns/big#main', '']]);
    expect(plan.unschedulable).toEqual([
      {
        workloadId: 'ns/big#main',
        reason:
          'no peer fits: p1: not enough CPU (needs 6 CPU, 4 CPU of 4 CPU free); p2: dead; p3: an operator (runs no workloads); p4: lacks tag fast',
        peers: [
          { peer: 'p1', reason: 'not enough CPU (needs 6 CPU, 4 CPU of 4 CPU free)' },
          { peer: 'p2', reason: 'dead' },
          { peer: 'p3', reason: 'an operator (runs no workloads)' },
          { peer: 'p4', reason: 'lacks tag fast' },
        ],
      },
    ]);
    expect(plan.changes).toEqual([
      { kind: 'create', workloadId: 'ns/big#main', reasons: ['image: nginx:1', 'owner: (unschedulable)'] },
    ]);
  });

  it('gives a resident runnable a peer of its own, and keeps others off it', () => {
    const other = deploy({ runnables: [runnable('ns/other')], accepting: 'p1' });
    const resident = deploy({
      runnables: [runnable('ns/solo', { placement: { resident: true } })],
      workloads: other.workloads,
      peers: [peer('p1'), peer('p2')],
      accepting: 'p1',
    });
    expect(owners(resident.workloads)).toEqual({ 'ns/solo#main': 'p2' });
    const late = deploy({
      runnables: [runnable('ns/late', { placement: { peer: 'p2' } })],
      workloads: [...other.workloads, ...resident.workloads],
      peers: [peer('p1'), peer('p2')],
    });
    expect(late.unschedulable[0]?.peers).toEqual([
      { peer: 'p1', reason: 'not p2 (affinity.name)' },
      { peer: 'p2', reason: 'reserved by resident ns/solo' },
    ]);
  });

  it('refuses a template with no container, and instance ids of another deployment', () => {
    expect(() => deploy({ runnables: [{ ...runnable('ns/empty'), containers: [] }] })).toThrow(
      expect.objectContaining({ code: 'TEMPLATE_INVALID' }),
    );
    const group = deploy({ runnables: [runnable('ns/web')], deployment: 'ns/group' });
    expect(() => deploy({ runnables: [runnable('ns/web')], workloads: group.workloads })).toThrow(
      /ns\/web#main already run as part of ns\/group/,
    );
  });
});

describe('planDeploy: sticky instances, updates and moves', () => {
  const first = deploy({ runnables: [runnable('ns/web', { scale: 2 })], peers: [peer('p1'), peer('p2')] });

  it('a peer joining moves nothing, and an unchanged deploy adopts every record', () => {
    const again = deploy({
      runnables: [runnable('ns/web', { scale: 2 })],
      workloads: first.workloads,
      generation: 2,
    });
    expect(again.workloads).toEqual(first.workloads);
    expect(again.changes.map((c) => c.kind)).toEqual(['unchanged', 'unchanged']);
  });

  it('an update keeps each instance on its peer and bumps only what changed', () => {
    const updated = deploy({
      runnables: [runnable('ns/web', { scale: 2, image: 'nginx:2' })],
      workloads: first.workloads,
      generation: 2,
      accepting: 'p3',
    });
    expect(owners(updated.workloads)).toEqual(owners(first.workloads));
    expect(updated.workloads.map((w) => w.generation)).toEqual([2, 2]);
    expect(updated.changes.flatMap((c) => c.reasons)).toEqual([
      'image: nginx:1 → nginx:2',
      'image: nginx:1 → nginx:2',
    ]);
  });

  it('asked on a peer that owns nothing, the plan never reports an owner change (the plan fix)', () => {
    const plan = deploy({
      runnables: [runnable('ns/web', { scale: 2 })],
      workloads: first.workloads,
      accepting: 'p3',
    });
    expect(plan.changes.every((c) => c.kind === 'unchanged')).toBe(true);
  });

  it('--force-move re-places; a pin moves what runs elsewhere', () => {
    const crowded = deploy({ runnables: [runnable('ns/web', { scale: 2 })], peers: [peer('p1')] });
    expect(owners(crowded.workloads)).toEqual({ 'ns/web#main': 'p1', 'ns/web#main@1': 'p1' });
    const stays = deploy({ runnables: [runnable('ns/web', { scale: 2 })], workloads: crowded.workloads });
    expect(owners(stays.workloads)).toEqual(owners(crowded.workloads));
    const moved = deploy({
      runnables: [runnable('ns/web', { scale: 2 })],
      workloads: crowded.workloads,
      forceMove: true,
    });
    expect(new Set(Object.values(owners(moved.workloads))).size).toBe(2);
    const pinned = deploy({
      runnables: [runnable('ns/web', { scale: 2 })],
      workloads: crowded.workloads,
      pin: 'p3',
    });
    expect(owners(pinned.workloads)).toEqual({ 'ns/web#main': 'p3', 'ns/web#main@1': 'p3' });
    expect(pinned.changes[0]?.reasons).toContain('owner: p1 → p3');
  });

  it('an instance with a volume stays on its peer, even when it is dead or a move is forced', () => {
    const withData = deploy({ runnables: [runnable('ns/db', { volume: true })], accepting: 'p2' });
    const dead = [peer('p1'), peer('p2', { state: 'dead' }), peer('p3')];
    for (const options of [{ peers: dead }, { forceMove: true }]) {
      const plan = deploy({
        runnables: [runnable('ns/db', { volume: true })],
        workloads: withData.workloads,
        ...options,
      });
      expect(owners(plan.workloads)).toEqual({ 'ns/db#main': 'p2' });
    }
  });

  it('the instances of a dead owner are placed again on a deploy', () => {
    const plan = deploy({
      runnables: [runnable('ns/web', { scale: 2 })],
      workloads: first.workloads,
      peers: [peer('p1', { state: 'dead' }), peer('p2'), peer('p3')],
    });
    expect(owners(plan.workloads)).toEqual({ 'ns/web#main': 'p3', 'ns/web#main@1': 'p2' });
  });

  it('a recovery that waits (after) or never moves (when) keeps a dead owner on a deploy, as repair does', () => {
    for (const recovery of [{ afterMs: 600_000 }, { when: 'container-failure' as const }]) {
      const web = runnable('ns/web', { scale: 2 });
      const waiting = { ...web, recovery: { ...web.recovery, ...recovery } };
      const plan = deploy({
        runnables: [waiting],
        workloads: first.workloads,
        peers: [peer('p1', { state: 'dead' }), peer('p2'), peer('p3')],
      });
      expect(owners(plan.workloads)).toEqual(owners(first.workloads));
    }
  });

  it('scales through replicas overrides: up adds instances, down deletes the highest', () => {
    const up = deploy({
      runnables: [runnable('ns/web', { scale: 2 })],
      workloads: first.workloads,
      replicas: { 'ns/web': 3 },
    });
    expect(up.workloads.map((w) => w.id)).toEqual(['ns/web#main', 'ns/web#main@1', 'ns/web#main@2']);
    expect(up.workloads[2]?.owner).toBe('p3');
    const down = deploy({
      runnables: [runnable('ns/web', { scale: 2 })],
      workloads: up.workloads,
      replicas: { 'ns/web': 1 },
    });
    expect(down.workloads.map((w) => w.id)).toEqual(['ns/web#main']);
    expect(down.deleted).toEqual(['ns/web#main@1', 'ns/web#main@2']);
  });
});

describe('placePending', () => {
  const big = runnable('ns/big', { placement: { requests: { memoryBytes: 12 * GiB } } });
  const stuck = deploy({ runnables: [big] });

  it('places an unschedulable instance once a peer with room appears, and only then', () => {
    expect(stuck.workloads[0]?.owner).toBe('');
    expect(placePending({ workloads: stuck.workloads, peers: three })).toEqual([]);
    const roomy = peer('p9', { capacity: { cpus: 2, memoryBytes: 16 * GiB } });
    const [placed] = placePending({ workloads: stuck.workloads, peers: [...three, roomy] });
    expect(placed?.owner).toBe('p9');
    expect(placed?.unschedulable).toBeUndefined();
  });

  it('refreshes the reasons when they change, so describe stays true', () => {
    const [updated] = placePending({ workloads: stuck.workloads, peers: [peer('p1')] });
    expect(updated?.unschedulable?.peers).toEqual([
      { peer: 'p1', reason: 'not enough memory (needs 12 GiB, 8 GiB of 8 GiB free)' },
    ]);
  });

  it('is decided by one peer: the alive peer with the smallest id', () => {
    expect(
      pendingPlacer([
        peer('p3'),
        peer('p2'),
        peer('p1', { state: 'dead' }),
        peer('p0', { role: 'operator' }),
      ]),
    ).toBe('p2');
    expect(pendingPlacer([])).toBeUndefined();
  });
});
