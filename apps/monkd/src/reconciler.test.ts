import { afterEach, describe, expect, it } from 'vitest';
import { createGraph, createMemoryStore, type Graph } from '@monk/graph';
import {
  defaultRecoveryPolicy,
  MonkError,
  monkLabels,
  type ContainerSpec,
  type ReadinessCheck,
  type ResolvedRunnable,
  type Workload,
} from '@monk/model';
import { createMemoryRuntime, type MemoryRuntime } from '@monk/runtime';
import { createLogger } from './logger.ts';
import { createManualTimers, systemTimers } from './timers.ts';
import { createLivenessProber, createReadinessProber, type ProbeFunction } from './readiness.ts';
import type { ImageExchange, ImagePreparation } from './images/image-exchange.ts';
import { createReconciler, type Reconciler, type WorkloadNetwork } from './reconciler.ts';
import { buildWorkloads } from '@monk/planner';

const peerId = 'peer-aaaaaa';
const logger = createLogger({ level: 'error' });

function spec(image: string, env: Record<string, string> = {}): ContainerSpec {
  return { image, environment: env, ports: [], mounts: [], files: [], labels: {} };
}

function runnable(path: string, image: string, dependsOn: string[] = []): ResolvedRunnable {
  return {
    path,
    containers: [{ key: path.split('/')[1] ?? 'c', spec: spec(image) }],
    services: [],
    dependsOn,
    connections: {},
    recovery: { ...defaultRecoveryPolicy, initialBackoffMs: 50, maxBackoffMs: 200 },
    variables: {},
    scale: 1,
  };
}

async function until<T>(check: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('reconciler (memory runtime)', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  async function setup(
    options: {
      runtime?: MemoryRuntime;
      graph?: Graph;
      images?: Pick<ImageExchange, 'prepare'>;
      network?: () => WorkloadNetwork | undefined;
    } = {},
  ) {
    const runtime = options.runtime ?? createMemoryRuntime({ images: ['busybox:latest'] });
    const graph = options.graph ?? (await createGraph({ peerId, store: createMemoryStore() }));
    const prober = createReadinessProber({ probe: async () => ({ ready: true, message: 'ok' }), logger });
    const reconciler: Reconciler = createReconciler(
      {
        peerId,
        resyncIntervalMs: 100,
        ...(options.network === undefined ? {} : { network: options.network }),
      },
      {
        graph,
        runtime,
        prober,
        logger,
        timers: systemTimers,
        ...(options.images === undefined ? {} : { images: options.images }),
      },
    );
    graph.onChange(() => reconciler.kick());
    reconciler.start();
    stops.push(() => reconciler.stop());
    return { runtime, graph, reconciler };
  }

  const deploy = (graph: Graph, runnables: ResolvedRunnable[]): void => {
    graph.putWorkloads(buildWorkloads({ deployment: 'ns/app', runnables, owner: peerId, generation: 1 }));
  };

  it('starts a dependency before its dependent, and reports both ready', async () => {
    const { runtime, graph } = await setup();
    const controller = new AbortController();
    const starts: string[] = [];
    const watching = (async () => {
      for await (const event of runtime.events({ signal: controller.signal })) {
        if (event.type === 'start') starts.push(event.labels[monkLabels.workload] ?? '?');
      }
    })().catch(() => undefined);
    deploy(graph, [runnable('ns/web', 'busybox:latest', ['ns/db']), runnable('ns/db', 'busybox:latest')]);
    await until(() => (graph.getObserved('ns/web#web')?.ready === true ? true : undefined), 'web ready');
    controller.abort();
    await watching;
    expect(starts).toEqual(['ns/db#db', 'ns/web#web']);
    expect(graph.getObserved('ns/db#db')).toMatchObject({ phase: 'ready', ready: true, peer: peerId });
  });

  it('on a mesh network: waits for the subnet, then runs containers on it with its DNS and records their address', async () => {
    const runtime = createMemoryRuntime({
      images: ['busybox:latest'],
      ipAddress: ({ network }) => (network === 'monk-mesh' ? '10.240.16.2' : '172.18.0.2'),
    });
    const mesh: { network?: WorkloadNetwork } = {};
    const { graph } = await setup({ runtime, network: () => mesh.network });
    deploy(graph, [runnable('ns/web', 'busybox:latest')]);
    await until(() => (graph.getObserved('ns/web#web')?.phase === 'creating' ? true : undefined), 'observed');
    expect(await runtime.listContainers({ all: true })).toEqual([]);
    mesh.network = {
      name: 'monk-mesh',
      ipv4: { subnet: '10.240.16.0/24', gateway: '10.240.16.1' },
      bridgeName: 'monk-mesh',
      dns: ['10.240.16.1'],
    };
    const observed = await until(() => {
      const o = graph.getObserved('ns/web#web');
      return o?.ready === true ? o : undefined;
    }, 'ready on the mesh');
    expect(observed.address).toBe('10.240.16.2');
    expect(runtime.networkOptionsOf('monk-mesh')).toMatchObject({
      ipv4: { subnet: '10.240.16.0/24', gateway: '10.240.16.1' },
      bridgeName: 'monk-mesh',
    });
    const options = runtime.createOptionsOf(observed.containerId ?? '');
    expect(options.network?.name).toBe('monk-mesh');
    expect(options.dns).toEqual(['10.240.16.1']);
  });

  it('without a mesh, runs containers on the monk network and records no address', async () => {
    const { runtime, graph } = await setup();
    deploy(graph, [runnable('ns/web', 'busybox:latest')]);
    const observed = await until(() => {
      const o = graph.getObserved('ns/web#web');
      return o?.ready === true ? o : undefined;
    }, 'ready');
    expect(observed.address).toBeUndefined();
    expect(runtime.createOptionsOf(observed.containerId ?? '').network?.name).toBe('monk');
    expect(runtime.createOptionsOf(observed.containerId ?? '').dns).toBeUndefined();
  });

  it('restarts a container that exits, and counts the restart', async () => {
    const { runtime, graph } = await setup();
    deploy(graph, [runnable('ns/web', 'busybox:latest')]);
    const first = await until(() => graph.getObserved('ns/web#web')?.containerId, 'container');
    runtime.simulateExit(first, 3);
    const observed = await until(() => {
      const o = graph.getObserved('ns/web#web');
      return o?.ready === true && o.restarts >= 1 ? o : undefined;
    }, 'restart');
    expect(observed.containerId).toBe(first);
  });

  it('adopts the containers of a previous run instead of recreating them', async () => {
    const runtime = createMemoryRuntime({ images: ['busybox:latest'] });
    const graph = await createGraph({ peerId, store: createMemoryStore() });
    const first = await setup({ runtime, graph });
    deploy(graph, [runnable('ns/web', 'busybox:latest')]);
    const id = await until(
      () =>
        graph.getObserved('ns/web#web')?.ready === true
          ? graph.getObserved('ns/web#web')?.containerId
          : undefined,
      'ready',
    );
    await first.reconciler.stop();
    await setup({ runtime, graph });
    await new Promise((r) => setTimeout(r, 300));
    const containers = await runtime.listContainers({ all: true });
    expect(containers.map((c) => c.id)).toEqual([id]);
  });

  it('fails an instance whose image does not exist, with the engine message, and runs the others', async () => {
    const { graph } = await setup();
    deploy(graph, [runnable('ns/ghost', 'nope:1'), runnable('ns/web', 'busybox:latest')]);
    const ghost = await until(
      () =>
        graph.getObserved('ns/ghost#ghost')?.phase === 'failed'
          ? graph.getObserved('ns/ghost#ghost')
          : undefined,
      'failure',
    );
    expect(ghost.errorCode).toBe('IMAGE_NOT_FOUND');
    expect(ghost.message).toContain('nope:1');
    await until(() => (graph.getObserved('ns/web#web')?.ready === true ? true : undefined), 'web ready');
  });

  it('reports the runtime unavailable while the engine is down and recovers after', async () => {
    const { runtime, graph, reconciler } = await setup();
    deploy(graph, [runnable('ns/web', 'busybox:latest')]);
    await until(() => (graph.getObserved('ns/web#web')?.ready === true ? true : undefined), 'ready');
    runtime.setAvailable(false);
    reconciler.kick();
    await until(
      () => (graph.getObserved('ns/web#web')?.errorCode === 'RUNTIME_UNAVAILABLE' ? true : undefined),
      'unavailable',
    );
    expect(reconciler.runtimeStatus().available).toBe(false);
    runtime.setAvailable(true);
    await until(() => {
      const o = graph.getObserved('ns/web#web');
      return o?.ready === true && o.errorCode === undefined ? true : undefined;
    }, 'recovered');
  });

  it('leaves alone containers of other peers and containers monk did not create', async () => {
    const runtime = createMemoryRuntime({ images: ['busybox:latest'] });
    const foreign = await runtime.createContainer({
      name: 'not-monk',
      spec: spec('busybox:latest'),
      labels: {},
    });
    const other = await runtime.createContainer({
      name: 'other-peer',
      spec: spec('busybox:latest'),
      labels: {
        [monkLabels.managed]: 'true',
        [monkLabels.peer]: 'peer-bbbbbb',
        [monkLabels.workload]: 'ns/x#x',
      },
    });
    const { graph } = await setup({ runtime });
    deploy(graph, [runnable('ns/web', 'busybox:latest')]);
    await until(() => (graph.getObserved('ns/web#web')?.ready === true ? true : undefined), 'ready');
    const ids = (await runtime.listContainers({ all: true })).map((c) => c.id);
    expect(ids).toContain(foreign.id);
    expect(ids).toContain(other.id);
  });

  it('waits for an image on its way, showing the fetch, then creates the container once it is here', async () => {
    const runtime = createMemoryRuntime({ images: [] });
    let arrived = false;
    const asked: string[] = [];
    const images = {
      prepare: async (ref: string): Promise<ImagePreparation> => {
        asked.push(ref);
        return arrived
          ? { ready: true }
          : { ready: false, message: `fetching image ${ref} from peer bravo (5 MB)` };
      },
    };
    const { graph, reconciler } = await setup({ runtime, images });
    deploy(graph, [runnable('ns/web', 'monk-local/app:1')]);
    const pending = await until(
      () =>
        graph.getObserved('ns/web#web')?.phase === 'pending' ? graph.getObserved('ns/web#web') : undefined,
      'pending',
    );
    expect(pending).toMatchObject({
      ready: false,
      message: 'fetching image monk-local/app:1 from peer bravo (5 MB)',
    });
    expect(await runtime.listContainers({ all: true })).toEqual([]);
    runtime.addImage('monk-local/app:1');
    arrived = true;
    reconciler.kick();
    await until(() => (graph.getObserved('ns/web#web')?.ready === true ? true : undefined), 'ready');
    expect(asked.every((ref) => ref === 'monk-local/app:1')).toBe(true);
  });

  it('fails an instance with IMAGE_NOT_FOUND when no peer has its image', async () => {
    const runtime = createMemoryRuntime({ images: [] });
    const images = {
      prepare: async (ref: string): Promise<ImagePreparation> => {
        throw new MonkError('IMAGE_NOT_FOUND', `image ${ref} is on no peer: asked bravo (does not have it)`);
      },
    };
    const { graph } = await setup({ runtime, images });
    deploy(graph, [runnable('ns/web', 'monk-local/app:1')]);
    const failed = await until(
      () =>
        graph.getObserved('ns/web#web')?.phase === 'failed' ? graph.getObserved('ns/web#web') : undefined,
      'failure',
    );
    expect(failed).toMatchObject({
      errorCode: 'IMAGE_NOT_FOUND',
      message: 'image monk-local/app:1 is on no peer: asked bravo (does not have it)',
    });
  });
});

describe('reconciler on a manual clock', () => {
  const start = Date.parse('2025-01-01T00:00:00Z');
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  async function setup(options: { probe?: ProbeFunction } = {}) {
    const timers = createManualTimers({ start });
    const runtime = createMemoryRuntime({
      images: ['busybox:latest'],
      clock: () => new Date(timers.now()),
    });
    const graph = await createGraph({ peerId, store: createMemoryStore() });
    const probe = options.probe ?? (async () => ({ ready: true, message: 'ok' }));
    const reconciler = createReconciler(
      { peerId, resyncIntervalMs: 30_000 },
      {
        graph,
        runtime,
        prober: createReadinessProber({ probe, logger, timers }),
        liveness: createLivenessProber({ probe, logger, timers }),
        logger,
        timers,
      },
    );
    graph.onChange(() => reconciler.kick());
    reconciler.start();
    stops.push(() => reconciler.stop());
    return { runtime, graph, timers };
  }

  const deploy = (graph: Graph, runnables: ResolvedRunnable[]): void => {
    graph.putWorkloads(buildWorkloads({ deployment: 'ns/app', runnables, owner: peerId, generation: 1 }));
  };
  const withDefaults = (r: ResolvedRunnable): ResolvedRunnable => ({ ...r, recovery: defaultRecoveryPolicy });

  it('backs off restarts 1 s, 2 s, 4 s and starts over after a minute up, without waiting for any of it', async () => {
    const { runtime, graph, timers } = await setup();
    deploy(graph, [withDefaults(runnable('ns/web', 'busybox:latest'))]);
    await timers.advance(100);
    const id = graph.getObserved('ns/web#web')?.containerId ?? '';
    expect(graph.getObserved('ns/web#web')).toMatchObject({ phase: 'ready', restarts: 0 });

    const restartsAfter = async (ms: number): Promise<number> => {
      await timers.advance(ms);
      return graph.getObserved('ns/web#web')?.restarts ?? -1;
    };
    runtime.simulateExit(id, 1);
    expect(await restartsAfter(900)).toBe(0);
    expect(graph.getObserved('ns/web#web')).toMatchObject({ phase: 'backoff', exitCode: 1 });
    expect(await restartsAfter(200)).toBe(1);

    runtime.simulateExit(id, 1);
    expect(await restartsAfter(1_900)).toBe(1);
    expect(await restartsAfter(200)).toBe(2);

    runtime.simulateExit(id, 1);
    expect(await restartsAfter(3_900)).toBe(2);
    expect(await restartsAfter(200)).toBe(3);

    // Up for more than a minute: the next crash waits 1 s again.
    await timers.advance(61_000);
    runtime.simulateExit(id, 1);
    expect(await restartsAfter(900)).toBe(3);
    expect(await restartsAfter(200)).toBe(4);
    expect(graph.getObserved('ns/web#web')).toMatchObject({ phase: 'ready', containerId: id });
  });

  it('is ready only once its readiness check passed, after its initial delay', async () => {
    let passes = false;
    const { graph, timers } = await setup({
      probe: async () => (passes ? { ready: true, message: 'ok' } : { ready: false, message: 'not yet' }),
    });
    deploy(graph, [
      {
        ...runnable('ns/db', 'busybox:latest'),
        readiness: {
          kind: 'exec',
          command: ['true'],
          initialDelaySeconds: 10,
          periodSeconds: 5,
          timeoutSeconds: 1,
          attempts: 100,
        },
      },
    ]);
    await timers.advance(100);
    expect(graph.getObserved('ns/db#db')).toMatchObject({
      phase: 'running',
      ready: false,
      message: 'waiting for the first readiness check',
    });
    await timers.advance(10_000);
    expect(graph.getObserved('ns/db#db')).toMatchObject({
      phase: 'running',
      message: 'readiness check failed (1/100): not yet',
    });
    passes = true;
    // Probes at +10 s and +15 s after the start (at 0): still not ready at +14.9 s.
    await timers.advance(4_800);
    expect(graph.getObserved('ns/db#db')?.ready).toBe(false);
    await timers.advance(200);
    expect(graph.getObserved('ns/db#db')).toMatchObject({ phase: 'ready', ready: true });
  });

  it('restarts a running container whose liveness check fails attempts times in a row, counting it', async () => {
    let healthy = true;
    const { runtime, graph, timers } = await setup({
      probe: async ({ check }) =>
        check.kind === 'exec' && check.command[0] === 'alive' && !healthy
          ? { ready: false, message: 'exit code 1' }
          : { ready: true, message: 'ok' },
    });
    deploy(graph, [
      {
        ...runnable('ns/web', 'busybox:latest'),
        liveness: {
          kind: 'exec',
          command: ['alive'],
          initialDelaySeconds: 5,
          periodSeconds: 2,
          timeoutSeconds: 1,
          attempts: 3,
        },
      },
    ]);
    await timers.advance(6_000);
    const before = graph.getObserved('ns/web#web');
    expect(before).toMatchObject({ phase: 'ready', restarts: 0 });
    const startedAt = before?.startedAt;

    healthy = false;
    // Fails at +2 s and +4 s: not yet.
    await timers.advance(4_500);
    expect(graph.getObserved('ns/web#web')?.restarts).toBe(0);
    // The third failure in a row (+6 s) restarts it, the same container.
    await timers.advance(2_000);
    const after = graph.getObserved('ns/web#web');
    expect(after).toMatchObject({
      phase: 'ready',
      restarts: 1,
      containerId: before?.containerId,
      message: 'liveness check failed: exit code 1 (3 times in a row)',
    });
    expect(after?.startedAt).not.toBe(startedAt);
    expect(await runtime.listContainers({ all: true })).toHaveLength(1);

    // Healthy again: the fresh container's checks pass and it is not restarted again.
    healthy = true;
    await timers.advance(60_000);
    expect(graph.getObserved('ns/web#web')?.restarts).toBe(1);
  });

  it('reports a dependent failed once depends.wait-for.timeout passes, and starts it when the dependency gets ready', async () => {
    let dbReady = false;
    const { graph, timers } = await setup({
      probe: async () => (dbReady ? { ready: true, message: 'ok' } : { ready: false, message: 'no' }),
    });
    deploy(graph, [
      {
        ...runnable('ns/db', 'busybox:latest'),
        readiness: {
          kind: 'exec',
          command: ['ready'],
          initialDelaySeconds: 0,
          periodSeconds: 1,
          timeoutSeconds: 1,
          attempts: 1_000,
        },
      },
      { ...runnable('ns/web', 'busybox:latest', ['ns/db']), waitForTimeoutSeconds: 30 },
    ]);
    await timers.advance(29_000);
    expect(graph.getObserved('ns/web#web')).toMatchObject({
      phase: 'pending',
      message: 'waiting for ns/db#db to be ready',
    });
    await timers.advance(1_500);
    expect(graph.getObserved('ns/web#web')).toMatchObject({
      phase: 'failed',
      errorCode: 'TIMEOUT',
      message:
        'dependencies not ready after 30s (depends.wait-for.timeout): waiting for ns/db#db to be ready',
    });
    dbReady = true;
    await timers.advance(2_000);
    expect(graph.getObserved('ns/web#web')).toMatchObject({ phase: 'ready', ready: true });
  });
});

describe('depends.wait-for across peers', () => {
  it('waits for a dependency another peer runs until that peer reports it ready through the graph', async () => {
    const timers = createManualTimers({ start: Date.parse('2025-01-01T00:00:00Z') });
    const runtime = createMemoryRuntime({ images: ['busybox:latest'], clock: () => new Date(timers.now()) });
    const peers = ['peer-aaaaaa', 'peer-bbbbbb'] as const;
    const graphs = await Promise.all(
      peers.map((id) => createGraph({ peerId: id, store: createMemoryStore() })),
    );
    const [graphA, graphB] = graphs as [Graph, Graph];
    graphA.onLocalUpdate((update) => graphB.applyRemoteUpdate(update, peers[0]));
    graphB.onLocalUpdate((update) => graphA.applyRemoteUpdate(update, peers[1]));
    let dbReady = false;
    const stops: Array<() => Promise<void>> = [];
    for (const [index, graph] of graphs.entries()) {
      const probe: ProbeFunction = async () =>
        dbReady ? { ready: true, message: 'ok' } : { ready: false, message: 'not yet' };
      const reconciler = createReconciler(
        { peerId: peers[index] ?? '', resyncIntervalMs: 30_000 },
        { graph, runtime, prober: createReadinessProber({ probe, logger, timers }), logger, timers },
      );
      graph.onChange(() => reconciler.kick());
      reconciler.start();
      stops.push(() => reconciler.stop());
    }
    try {
      const readiness: ReadinessCheck = {
        kind: 'exec',
        command: ['ready'],
        initialDelaySeconds: 0,
        periodSeconds: 1,
        timeoutSeconds: 1,
        attempts: 1_000,
      };
      const [db] = buildWorkloads({
        deployment: 'ns/db',
        runnables: [{ ...runnable('ns/db', 'busybox:latest'), readiness }],
        owner: peers[1],
        generation: 1,
      });
      const [web] = buildWorkloads({
        deployment: 'ns/web',
        runnables: [runnable('ns/web', 'busybox:latest', ['ns/db']), runnable('ns/db', 'busybox:latest')],
        owner: peers[0],
        generation: 1,
      });
      graphA.putWorkloads([web as Workload, db as Workload]);
      await timers.advance(5_000);
      expect(graphA.getObserved('ns/db#db')).toMatchObject({
        peer: peers[1],
        phase: 'running',
        ready: false,
      });
      expect(graphA.getObserved('ns/web#web')).toMatchObject({
        phase: 'pending',
        message: 'waiting for ns/db#db to be ready',
      });
      dbReady = true;
      await timers.advance(2_000);
      expect(graphA.getObserved('ns/web#web')).toMatchObject({ peer: peers[0], phase: 'ready' });
    } finally {
      for (const stop of stops) await stop();
    }
  });
});
