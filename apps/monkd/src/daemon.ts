import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileStore, createGraph } from '@monk/graph';
import type { JsonObject } from '@monk/model';
import type { PeerIdentity } from '@monk/p2p';
import { createDockerRuntime } from '@monk/runtime';
import { startApiServer } from './api-server.ts';
import { createCluster } from './cluster/cluster.ts';
import { createClusterHandlers } from './cluster/cluster-handlers.ts';
import { createCoreHandlers } from './control-service.ts';
import { createDispatcher } from './handlers.ts';
import type { Logger } from './logger.ts';
import { createProbe } from './probe.ts';
import { createReadinessProber } from './readiness.ts';
import { createReconciler } from './reconciler.ts';
import { createActionRunner } from './actions/action-runner.ts';
import { createActionsHandlers } from './actions/actions-handlers.ts';
import { createHookRunner } from './actions/hook-runner.ts';
import { createResolveHosts } from './resolve-host.ts';
import { createSecretStore } from './secrets/secret-store.ts';
import { createFileKeyProvider } from './secrets/secrets-key.ts';
import { createSecretsHandlers } from './secrets/secrets-handlers.ts';
import { withUnsealedSecrets } from './secrets/unsealing-runtime.ts';
import { logConflicts } from './conflict-log.ts';

export interface DaemonConfig {
  readonly dataDir: string;
  readonly apiSocket: string;
  readonly dockerSocket: string;
  readonly identity: PeerIdentity;
  readonly peerName: string;
  /** Where the p2p listener binds once this peer is in a cluster (default 0.0.0.0:44001). */
  readonly p2pListen: { readonly host: string; readonly port: number };
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
  const peerId = config.identity.peerId;

  const graph = await createGraph({
    peerId,
    store: createFileStore({ dir: join(config.dataDir, 'graph') }),
    onProblem: (problem) => logger.warn('graph problem', { problem: problem as unknown as JsonObject }),
  });
  const keys = createFileKeyProvider({ path: join(config.dataDir, 'secrets.key') });
  const secrets = createSecretStore({ graph, keys, now });
  const runtime = withUnsealedSecrets(createDockerRuntime({ socketPath: config.dockerSocket }), secrets);
  const resolveHosts = createResolveHosts({ secrets });
  const actions = createActionRunner({ peerId, volumeRoot }, { graph, runtime, resolveHosts });
  const hooks = createHookRunner({ actions, logger: logger.child('hooks') });
  const prober = createReadinessProber({
    probe: createProbe({ runtime }),
    logger: logger.child('readiness'),
  });
  const reconciler = createReconciler(
    { peerId, resyncIntervalMs: config.resyncIntervalMs },
    {
      graph,
      runtime,
      prober,
      logger: logger.child('reconciler'),
      now,
      onContainerStarted: (workload, containerId) => hooks.onContainerStarted(workload, containerId),
    },
  );
  const unsubscribe = graph.onChange((changes) => {
    if (changes.some((c) => c.kind === 'workload' || c.kind === 'deployment')) reconciler.kick();
  });
  const unsubscribeConflicts = logConflicts({ graph, logger: logger.child('graph') });
  const cluster = createCluster(
    {
      dataDir: config.dataDir,
      identity: config.identity,
      peerName: config.peerName,
      listen: config.p2pListen,
    },
    { graph, logger: logger.child('cluster'), secretsKey: keys },
  );
  const core = createCoreHandlers(
    {
      peerId,
      peerName: config.peerName,
      dataDir: config.dataDir,
      volumeRoot,
      version: config.version,
      startedAt: new Date().toISOString(),
    },
    {
      graph,
      runtime,
      reconciler,
      logger: logger.child('api'),
      now,
      resolveHosts,
      forward: (peer, request, channel) => cluster.forward(peer, request, channel),
    },
  );
  const service = createDispatcher([
    core,
    createClusterHandlers(cluster),
    createSecretsHandlers({ secrets, logger: logger.child('secrets') }),
    createActionsHandlers({ actions, logger: logger.child('actions') }),
  ]);
  const api = await startApiServer(
    { socketPath: config.apiSocket },
    { service, logger: logger.child('api') },
  );
  await cluster.start(service);
  reconciler.start();
  logger.info('monkd started', {
    peer: peerId,
    name: config.peerName,
    dataDir: config.dataDir,
    socket: config.apiSocket,
  });

  return {
    async stop() {
      unsubscribe();
      unsubscribeConflicts();
      await api.close();
      await cluster.stop();
      await reconciler.stop();
      await graph.flush();
      await graph.close();
      logger.info('monkd stopped');
    },
  };
}
