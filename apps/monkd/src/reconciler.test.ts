import { afterEach, describe, expect, it } from 'vitest';
import { createGraph, createMemoryStore, type Graph } from '@monk/graph';
import {
  defaultRecoveryPolicy,
  MonkError,
  monkLabels,
  type ContainerSpec,
  type ResolvedRunnable,
} from '@monk/model';
import { createMemoryRuntime, type MemoryRuntime } from '@monk/runtime';
import { createLogger } from './logger.ts';
import { createReadinessProber } from './readiness.ts';
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
        now: () => Date.now(),
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
