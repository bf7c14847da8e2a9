import { describe, expect, it } from 'vitest';
import {
  defaultRecoveryPolicy,
  monkLabels,
  type ContainerSpec,
  type JsonObject,
  type ResolvedRunnable,
  type Workload,
} from '@monk/model';
import { createMemoryRuntime, type ContainerStats, type MemoryRuntime } from '@monk/runtime';
import type { ClientFrame, StatsResult } from '@monk/sdk';
import type { CallChannel } from './handlers.ts';
import { createStatsHandlers, createStatsSampler, instanceStats, type StatsTarget } from './stats.ts';
import { buildWorkloads } from '@monk/planner';

const image = 'busybox:latest';
const self = 'peer-self';
const target: StatsTarget = { workloadId: 'ns/web#web', container: 'web', peer: self, containerId: 'c1' };

function reading(overrides: Partial<ContainerStats> = {}): ContainerStats {
  return {
    readAt: '2026-01-01T00:00:00.000Z',
    cpuNanos: 0,
    systemCpuNanos: 0,
    onlineCpus: 2,
    memoryBytes: 10,
    memoryLimitBytes: 100,
    networkRxBytes: 1,
    networkTxBytes: 2,
    ...overrides,
  };
}

describe('instanceStats', () => {
  it.each([
    ['the first reading', undefined, reading({ cpuNanos: 500, systemCpuNanos: 1000 }), 0],
    [
      'a quarter of the host on two cores',
      reading({ cpuNanos: 100, systemCpuNanos: 1000 }),
      reading({ cpuNanos: 350, systemCpuNanos: 2000 }),
      50,
    ],
    [
      'both cores busy',
      reading({ cpuNanos: 0, systemCpuNanos: 0 }),
      reading({ cpuNanos: 1000, systemCpuNanos: 1000 }),
      200,
    ],
    [
      'a host clock that did not move',
      reading({ cpuNanos: 0, systemCpuNanos: 1000 }),
      reading({ cpuNanos: 10, systemCpuNanos: 1000 }),
      0,
    ],
    [
      'a restarted container (counter went back)',
      reading({ cpuNanos: 900, systemCpuNanos: 1000 }),
      reading({ cpuNanos: 10, systemCpuNanos: 2000 }),
      0,
    ],
    [
      'a third of a core, rounded to hundredths',
      reading({ cpuNanos: 0, systemCpuNanos: 0, onlineCpus: 1 }),
      reading({ cpuNanos: 1, systemCpuNanos: 3, onlineCpus: 1 }),
      33.33,
    ],
  ] as const)('CPU percent of %s', (...[, previous, current, cpuPercent]) => {
    expect(instanceStats(target, { previous, current }).cpuPercent).toBe(cpuPercent);
  });

  it('passes memory and network through, with the instance it belongs to', () => {
    expect(instanceStats(target, { previous: undefined, current: reading() })).toEqual({
      workloadId: 'ns/web#web',
      container: 'web',
      peer: self,
      cpuPercent: 0,
      memoryBytes: 10,
      memoryLimitBytes: 100,
      networkRxBytes: 1,
      networkTxBytes: 2,
      at: '2026-01-01T00:00:00.000Z',
    });
  });
});

function spec(): ContainerSpec {
  return { image, environment: {}, ports: [], mounts: [], files: [], labels: {} };
}

function runnable(path: string): ResolvedRunnable {
  return {
    path,
    containers: [{ key: path.split('/')[1] ?? 'c', spec: spec() }],
    services: [],
    dependsOn: [],
    connections: {},
    recovery: defaultRecoveryPolicy,
    variables: {},
    scale: 1,
  };
}

function workloadsOf(path: string, owner: string): Workload[] {
  return buildWorkloads({ deployment: path, runnables: [runnable(path)], owner, generation: 1 });
}

async function startContainer(runtime: MemoryRuntime, workload: Workload): Promise<string> {
  const created = await runtime.createContainer({
    name: workload.name,
    spec: workload.spec,
    labels: { [monkLabels.workload]: workload.id, [monkLabels.peer]: workload.owner },
  });
  await runtime.startContainer(created.id);
  return created.id;
}

function channel(signal = new AbortController().signal): CallChannel & { events: JsonObject[] } {
  const events: JsonObject[] = [];
  return {
    events,
    emit: async (event) => {
      events.push(event);
    },
    clientFrames: (async function* (): AsyncGenerator<ClientFrame> {})(),
    signal,
  };
}

describe('stats handler (memory runtime)', () => {
  async function setup(workloads: Workload[]) {
    const runtime = createMemoryRuntime({ images: [image] });
    const ids = new Map<string, string>();
    for (const w of workloads.filter((w) => w.owner === self)) {
      const id = await startContainer(runtime, w);
      runtime.setStats(id, { cpuNanos: 0, systemCpuNanos: 0, onlineCpus: 1 });
      ids.set(w.id, id);
    }
    const forwarded: Array<{ peer: string; params: JsonObject }> = [];
    let cpu = 0;
    let system = 0;
    const handlers = createStatsHandlers(
      { peerId: self },
      {
        graph: { listWorkloads: () => workloads },
        runtime,
        peerStates: () => new Map([['peer-dead', 'dead' as const]]),
        forward: async (peer, request) => {
          forwarded.push({ peer, params: request.params });
          if (peer === 'peer-broken') throw new Error('stream reset');
          const answer: StatsResult = {
            instances: [
              {
                ...instanceStats(
                  { ...target, workloadId: 'ns/db#db', peer },
                  { previous: undefined, current: reading() },
                ),
              },
            ],
            unreachable: [],
          };
          return answer as unknown as JsonObject;
        },
        // Each wait is one "second" in which every container used a quarter of a core.
        sleep: async () => {
          cpu += 250;
          system += 1000;
          for (const id of ids.values()) runtime.setStats(id, { cpuNanos: cpu, systemCpuNanos: system });
        },
      },
    );
    const stats = handlers.stats;
    if (stats === undefined) throw new Error('no stats handler');
    return { runtime, ids, forwarded, stats };
  }

  it('reads local instances twice and reports CPU over the interval, memory and network', async () => {
    const { stats } = await setup(workloadsOf('ns/web', self));
    const result = (await stats(
      { follow: false, intervalMs: 1000, local: false, path: 'ns/web' },
      channel(),
    )) as StatsResult;
    expect(result.unreachable).toEqual([]);
    expect(result.instances.map((r) => [r.workloadId, r.cpuPercent, r.memoryBytes])).toEqual([
      ['ns/web#web', 25, 4 * 1024 * 1024],
    ]);
  });

  it('asks the owning peer for its instances, and lists peers that cannot answer', async () => {
    const workloads = [
      ...workloadsOf('ns/web', self),
      ...workloadsOf('ns/db', 'peer-other'),
      ...workloadsOf('ns/cache', 'peer-dead'),
      ...workloadsOf('ns/queue', 'peer-broken'),
    ];
    const { stats, forwarded } = await setup(workloads);
    const result = (await stats({ follow: false, intervalMs: 1000, local: false }, channel())) as StatsResult;
    expect(result.instances.map((r) => [r.workloadId, r.peer])).toEqual([
      ['ns/db#db', 'peer-other'],
      ['ns/web#web', self],
    ]);
    expect(result.unreachable).toEqual([
      { peer: 'peer-broken', message: 'stream reset' },
      { peer: 'peer-dead', message: 'peer is dead' },
    ]);
    expect(forwarded.map((f) => f.peer).sort()).toEqual(['peer-broken', 'peer-other']);
    expect(forwarded[0]?.params).toMatchObject({ local: true, follow: false });
  });

  it('names a path with no running instance', async () => {
    const { stats } = await setup(workloadsOf('ns/web', self));
    await expect(
      stats({ follow: false, intervalMs: 1000, local: false, path: 'ns/nothing' }, channel()),
    ).rejects.toMatchObject({ code: 'RUNNABLE_NOT_FOUND', message: 'no running instance at ns/nothing' });
  });

  it('follows: a stats event per interval until the client hangs up', async () => {
    const { stats } = await setup(workloadsOf('ns/web', self));
    const controller = new AbortController();
    const call = channel(controller.signal);
    const original = call.emit;
    call.emit = async (event) => {
      await original(event);
      if (call.events.length === 3) controller.abort();
    };
    await stats({ follow: true, intervalMs: 1000, local: false }, call);
    expect(call.events).toHaveLength(3);
    expect(call.events.map((e) => [e['type'], e['peer']])).toEqual([
      ['stats', self],
      ['stats', self],
      ['stats', self],
    ]);
  });

  it('leaves out a container that stopped between listing and reading', async () => {
    const runtime = createMemoryRuntime({ images: [image] });
    const [web] = workloadsOf('ns/web', self);
    if (web === undefined) throw new Error('no workload');
    const id = await startContainer(runtime, web);
    const sampler = createStatsSampler({ runtime });
    await runtime.stopContainer(id);
    expect(await sampler.sample([{ ...target, containerId: id }])).toEqual([]);
  });
});
