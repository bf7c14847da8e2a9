import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileStore, createGraph } from '@monk/graph';
import { createDockerRuntime } from '@monk/runtime';
import { startApiServer } from './api-server.ts';
import { createCoreHandlers } from './control-service.ts';
import { createDispatcher } from './handlers.ts';
import type { Logger } from './logger.ts';
import { createProbe } from './probe.ts';
import { createReadinessProber } from './readiness.ts';
import { createReconciler } from './reconciler.ts';

export interface DaemonConfig {
  readonly dataDir: string;
  readonly apiSocket: string;
  readonly dockerSocket: string;
  readonly peerId: string;
  readonly peerName: string;
  readonly resyncIntervalMs: number;
  readonly version: string;
}

export interface Daemon {
  stop(): Promise<void>;
}

/** Wires the packages into one running peer: graph on disk, Docker runtime, reconciler, control API. */
export async function startDaemon(config: DaemonConfig, logger: Logger): Promise<Daemon> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const volumeRoot = join(config.dataDir, 'volumes');
  await mkdir(volumeRoot, { recursive: true });
  const now = (): number => Date.now();

  const graph = await createGraph({
    peerId: config.peerId,
    store: createFileStore({ dir: join(config.dataDir, 'graph') }),
  });
  const runtime = createDockerRuntime({ socketPath: config.dockerSocket });
  const prober = createReadinessProber({
    probe: createProbe({ runtime }),
    logger: logger.child('readiness'),
  });
  const reconciler = createReconciler(
    { peerId: config.peerId, resyncIntervalMs: config.resyncIntervalMs },
    { graph, runtime, prober, logger: logger.child('reconciler'), now },
  );
  const unsubscribe = graph.onChange((changes) => {
    if (changes.some((c) => c.kind === 'workload' || c.kind === 'deployment')) reconciler.kick();
  });
  const core = createCoreHandlers(
    {
      peerId: config.peerId,
      peerName: config.peerName,
      dataDir: config.dataDir,
      volumeRoot,
      version: config.version,
      startedAt: new Date().toISOString(),
    },
    { graph, runtime, reconciler, logger: logger.child('api'), now },
  );
  const service = createDispatcher([core]);
  const api = await startApiServer(
    { socketPath: config.apiSocket },
    { service, logger: logger.child('api') },
  );
  reconciler.start();
  logger.info('monkd started', {
    peer: config.peerId,
    name: config.peerName,
    dataDir: config.dataDir,
    socket: config.apiSocket,
  });

  return {
    async stop() {
      unsubscribe();
      await api.close();
      await reconciler.stop();
      await graph.flush();
      await graph.close();
      logger.info('monkd stopped');
    },
  };
}
