import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { monkLabels, toMonkError, type JsonObject } from '@monk/model';
import type { PeerIdentity } from '@monk/p2p';
import type { PeerProblem } from '@monk/sdk';
import { createExecFileRunner, meshDnsRecords } from '@monk/network';
import { createHostSystem, createLocalProvider } from '@monk/providers';
import { createDockerImageStore, createDockerRuntime } from '@monk/runtime';
import { createMonkClient, createUnixSocketTransport } from '@monk/sdk';
import { startApiServer } from './api-server.ts';
import { createCluster } from './cluster/cluster.ts';
import { libp2pNodeFactory } from './cluster/cluster-node.ts';
import { readClusterConfig } from './cluster/cluster-files.ts';
import { createMeshDns, leaveOldMeshSubnet, meshNetworkName, meshNetworkOf } from './cluster/mesh-lan.ts';
import { createMeshLink } from './cluster/mesh-link.ts';
import { meshForEngine, type MeshOptions } from './cluster/mesh-record.ts';
import { openGraph, readSparedContainers, spareUnknownContainers } from './graph-recovery.ts';
import { createClusterHandlers } from './cluster/cluster-handlers.ts';
import { createLocalHosts } from './cluster/local-hosts.ts';
import { createCoreHandlers } from './control-service.ts';
import { createDispatcher } from './handlers.ts';
import { createPortForwardHandlers } from './port-forward.ts';
import { createStatsHandlers } from './stats.ts';
import type { Logger } from './logger.ts';
import { createProbe } from './probe.ts';
import { createLivenessProber, createReadinessProber } from './readiness.ts';
import { systemTimers } from './timers.ts';
import { createReconciler, workloadNetwork } from './reconciler.ts';
import { createRepairer } from './repairer.ts';
import { createActionRunner } from './actions/action-runner.ts';
import { createActionsHandlers } from './actions/actions-handlers.ts';
import { createHookRunner } from './actions/hook-runner.ts';
import { createImageServices } from './images/image-services.ts';
import { createRegistryCredentials } from './images/registry-credentials.ts';
import { createResolveHosts } from './resolve-host.ts';
import { deployPeersOf } from './deploy-peers.ts';
import { readHostCapacity } from './host-capacity.ts';
import { createPendingPlacer } from './pending-placer.ts';
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
  /** Start from the intact part of a damaged graph store (`monkd --recover-graph`). */
  readonly recoverGraph?: boolean;
  /** How to start another monkd, for the hosts of `monk cluster grow -p local` (default: this one's way). */
  readonly monkdCommand?: readonly string[];
  /** Try an image's registry before the cluster's peers, for at most this long; `false` never pulls. */
  readonly registryPull?: false | { readonly timeoutMs: number };
  /** `monkd --mesh`: publish a WireGuard key, endpoint and subnet in this peer's record. */
  readonly mesh?: MeshOptions | undefined;
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

  let stopped = false;
  const engine = createDockerRuntime({ socketPath: config.dockerSocket });
  const { graph, recovery } = await openGraph(
    {
      dataDir: config.dataDir,
      member: (await readClusterConfig(config.dataDir)) !== undefined,
      recoverGraph: config.recoverGraph === true,
      graph: {
        peerId,
        onProblem: (problem) => logger.warn('graph problem', { problem: problem as unknown as JsonObject }),
      },
    },
    { logger, runtime: engine },
  );
  // What `monk info` reports as wrong with this peer, by subject.
  const problems = new Map<string, PeerProblem>();
  if (recovery !== undefined) {
    const copies = recovery.salvage.copies.join(', ');
    problems.set('graph', {
      code: 'GRAPH_CORRUPT',
      message:
        recovery.mode === 'cluster'
          ? `the graph on disk was damaged (${recovery.damage}); a copy is at ${copies}; not reconciling until it has caught up from a cluster peer`
          : `the graph was recovered from a damaged log with --recover-graph; what it lost is gone (a copy is at ${copies}); containers it does not know were left running`,
    });
  }
  const currentProblems = (): PeerProblem[] => {
    const storage = graph.storageFailure();
    return [
      ...problems.values(),
      ...(storage === undefined ? [] : [{ code: storage.code, message: storage.message }]),
    ];
  };
  if (recovery?.mode === 'operator') {
    await spareUnknownContainers({ dataDir: config.dataDir, peerId }, { graph, runtime: engine, logger });
  }
  const meshOptions = await meshForEngine(config.mesh, {
    peerId,
    managedContainerLabels: async () =>
      (await engine.listContainers({ all: true, labels: { [monkLabels.managed]: 'true' } })).map(
        (c) => c.labels,
      ),
    logger: logger.child('mesh'),
  });
  const keys = createFileKeyProvider({ path: join(config.dataDir, 'secrets.key') });
  // A damaged key is found now, naming the file, not when a container first needs a secret.
  await keys.key();
  const secrets = createSecretStore({ graph, keys, now });
  const runtime = withUnsealedSecrets(engine, secrets);
  const meshLookup = (name: string) =>
    meshDnsRecords(name, { workloads: graph.listWorkloads(), observed: (id) => graph.getObserved(id) });
  const resolveHosts = createResolveHosts({
    secrets,
    // Names are the cluster DNS names as soon as the cluster has mesh peers (see docs/architecture.md).
    mesh: {
      active: () => cluster.isMember() && graph.listPeers().some((p) => p.wireguard !== undefined),
      addresses: (name) => meshLookup(name)?.addresses,
    },
  });
  const actions = createActionRunner({ peerId, volumeRoot }, { graph, runtime, resolveHosts });
  const hooks = createHookRunner({ actions, logger: logger.child('hooks') });
  const prober = createReadinessProber({
    probe: createProbe({ runtime }),
    logger: logger.child('readiness'),
    timers: systemTimers,
  });
  const liveness = createLivenessProber({
    probe: createProbe({ runtime }),
    logger: logger.child('liveness'),
    timers: systemTimers,
  });
  const imageServices = createImageServices(
    { peerName: config.peerName, registryPull: config.registryPull ?? { timeoutMs: 10_000 } },
    {
      images: createDockerImageStore({ socketPath: config.dockerSocket }),
      credentials: createRegistryCredentials({ secrets }),
      cluster: () => cluster,
      logger: logger.child('images'),
      now,
      onChange: () => reconciler.kick(),
    },
  );
  // In the mesh, containers run on a bridge on this peer's subnet (routed from every other peer through
  // WireGuard) and ask this peer's DNS server, on the bridge's gateway, for `.monk` names.
  const meshLan = meshOptions?.tunnels === true;
  const meshDns = meshLan
    ? createMeshDns(
        {},
        {
          lookup: meshLookup,
          logger: logger.child('dns'),
        },
      )
    : undefined;
  /** Where the cluster DNS listens: the gateway of the mesh network once it is made. */
  let meshGateway: string | undefined;
  const reconciler = createReconciler(
    {
      peerId,
      resyncIntervalMs: config.resyncIntervalMs,
      spared: new Set(await readSparedContainers(config.dataDir)),
      ...(meshLan
        ? {
            // Out of a cluster, the plain `monk` network; in one, the mesh network once our record has a subnet.
            network: () =>
              cluster.isMember() ? meshNetworkOf(graph.listPeers(), peerId) : { name: workloadNetwork },
          }
        : {}),
    },
    {
      graph,
      runtime,
      prober,
      liveness,
      logger: logger.child('reconciler'),
      timers: systemTimers,
      onContainerStarted: (workload, containerId) => hooks.onContainerStarted(workload, containerId),
      images: imageServices.exchange,
      onNetworkReady: (network) => {
        meshGateway = network.ipv4?.gateway;
        meshDns?.update(meshGateway);
      },
    },
  );
  const unsubscribe = graph.onChange((changes) => {
    if (changes.some((c) => c.kind === 'workload' || c.kind === 'deployment')) reconciler.kick();
  });
  const unsubscribeConflicts = logConflicts({ graph, logger: logger.child('graph') });
  const capacity = await readHostCapacity();
  const clusterLogger = logger.child('cluster');
  const cluster = createCluster(
    {
      dataDir: config.dataDir,
      peerId: config.identity.peerId,
      peerName: config.peerName,
      recovering: recovery?.mode === 'cluster',
      mesh: meshOptions,
      capacity,
    },
    {
      graph,
      logger: clusterLogger,
      createNode: libp2pNodeFactory({
        identity: config.identity,
        listen: config.p2pListen,
        logger: clusterLogger.child('p2p'),
      }),
      secretsKey: keys,
      peerStreams: [imageServices.peerStream],
    },
  );
  /** The peers placement decides over: membership's view in a cluster, this peer alone out of one. */
  const placementPeers = () =>
    cluster.isMember()
      ? deployPeersOf({
          self: peerId,
          records: graph.listPeers(),
          states: new Map(cluster.peers().map((p) => [p.id, p.state] as const)),
        })
      : [
          {
            id: peerId,
            name: config.peerName,
            role: 'peer' as const,
            state: 'alive' as const,
            tags: [],
            capacity,
          },
        ];
  const pending = createPendingPlacer(
    { peerId },
    { graph, peers: placementPeers, logger: logger.child('placement') },
  );
  const unsubscribePending = graph.onChange((changes) => {
    if (changes.some((c) => c.kind === 'peer' || c.kind === 'workload')) pending.kick();
  });
  // Membership (a peer found alive again) changes no graph record: look again now and then too.
  const pendingResync = setInterval(() => pending.kick(), config.resyncIntervalMs);
  pendingResync.unref();
  const core = createCoreHandlers(
    {
      peerId,
      peerName: config.peerName,
      dataDir: config.dataDir,
      volumeRoot,
      version: config.version,
      startedAt: new Date().toISOString(),
      capacity,
    },
    {
      graph,
      runtime,
      reconciler,
      logger: logger.child('api'),
      now,
      resolveHosts,
      problems: currentProblems,
      peerStates: () =>
        new Map(cluster.isMember() ? cluster.peers().map((p) => [p.id, p.state] as const) : []),
      forward: (peer, request, channel) => cluster.forward(peer, request, channel),
      deployPeers: placementPeers,
    },
  );
  const system = createHostSystem();
  const localHosts = createLocalHosts(
    { dataDir: config.dataDir, listenHost: config.p2pListen.host },
    {
      cluster,
      graph,
      logger: logger.child('local-hosts'),
      provider: (subnet) =>
        createLocalProvider(
          {
            hostsDir: join(config.dataDir, 'local-hosts'),
            monkdCommand: config.monkdCommand ?? [process.execPath, ...process.argv.slice(1, 2)],
            ownerPid: process.pid,
            ownerDataDir: config.dataDir,
            subnet,
          },
          { system, onProblem: (message) => logger.child('local-hosts').debug(message) },
        ),
      callHost: (socket, method, params) =>
        createMonkClient({ transport: createUnixSocketTransport({ path: socket }) }).call(method, params),
    },
  );
  await localHosts.start();
  const service = createDispatcher([
    core,
    createClusterHandlers(cluster),
    // After the cluster handlers: its peer-remove, shrink and destroy also remove the local hosts they drop.
    localHosts.handlers(),
    createSecretsHandlers({ secrets, logger: logger.child('secrets') }),
    createActionsHandlers({ actions, logger: logger.child('actions') }),
    imageServices.handlers,
    createStatsHandlers(
      { peerId },
      {
        graph,
        runtime,
        peerStates: () =>
          new Map(cluster.isMember() ? cluster.peers().map((p) => [p.id, p.state] as const) : []),
        forward: (peer, request, channel) => cluster.forward(peer, request, channel),
      },
    ),
    createPortForwardHandlers(
      { peerId },
      { graph, runtime, forward: (peer, request, channel) => cluster.forward(peer, request, channel) },
    ),
  ]);
  const api = await startApiServer(
    { socketPath: config.apiSocket },
    { service, logger: logger.child('api') },
  );
  await cluster.start(service);
  const mesh =
    meshOptions?.tunnels === true
      ? createMeshLink(
          {
            peerId,
            dataDir: config.dataDir,
            listenPort: meshOptions.listenPort,
            bridge: meshNetworkName,
          },
          {
            // Out of the cluster (left, or removed while cut off) is out of the mesh, whatever records our
            // replica still holds.
            listPeers: () => (cluster.isMember() ? graph.listPeers() : []),
            runner: createExecFileRunner(),
            logger: logger.child('mesh'),
          },
        )
      : undefined;
  const unsubscribeMesh = graph.onChange((changes) => {
    if (!changes.some((c) => c.kind === 'peer')) return;
    mesh?.update();
    // Our subnet may have arrived or moved: the network of our containers follows, and containers on a
    // subnet that is no longer ours go, to be created on the new one.
    if (!meshLan) return;
    reconciler.kick();
    if (!cluster.isMember()) return;
    leaveOldMeshSubnet(
      { peerId, network: meshNetworkOf(graph.listPeers(), peerId) },
      { runtime, logger: logger.child('mesh') },
    ).then(
      (moved) => (moved.length > 0 ? reconciler.kick() : undefined),
      (error: unknown) =>
        logger.warn('containers not moved to the new mesh subnet yet', { error: toMonkError(error).message }),
    );
  });
  mesh?.update();
  // A failed pass is retried here, and leaving the cluster (no graph change) is noticed here.
  const meshResync = setInterval(() => {
    mesh?.update();
    // A DNS server that could not listen is tried again.
    meshDns?.update(meshGateway);
  }, config.resyncIntervalMs);
  meshResync.unref();
  // Moves the instances of dead and removed peers to live ones (see repairer.ts for who writes what).
  const repairer = createRepairer(
    { peerId },
    {
      graph,
      membership: {
        isMember: () => cluster.isMember(),
        peerStates: () =>
          new Map(cluster.isMember() ? cluster.peers().map((p) => [p.id, p.state] as const) : []),
        onPeerStateChange: (listener) => cluster.onPeerStateChange(listener),
      },
      logger: logger.child('repairer'),
      now,
      setTimer: (fn, delayMs) => {
        const timer = setTimeout(fn, delayMs);
        timer.unref();
        return () => clearTimeout(timer);
      },
    },
  );
  // Other peers learn of this one's problems (a full disk) through membership: the graph may not take writes.
  const publishProblems = setInterval(() => cluster.setProblems(currentProblems()), 1_000);
  publishProblems.unref();
  if (recovery?.mode === 'cluster') {
    // Acting on a graph that lost records would stop containers that are still wanted: wait until a
    // neighbour has given back what the damage took.
    logger.warn('not reconciling until the graph has caught up from a cluster peer');
    void cluster.caughtUp().then((peer) => {
      if (stopped) return;
      logger.info('graph recovered from a cluster peer; reconciling again', { peer });
      problems.delete('graph');
      reconciler.start();
      repairer.start();
    });
  } else {
    reconciler.start();
    repairer.start();
  }
  logger.info('monkd started', {
    peer: peerId,
    name: config.peerName,
    dataDir: config.dataDir,
    socket: config.apiSocket,
  });

  return {
    async stop() {
      stopped = true;
      repairer.stop();
      clearInterval(publishProblems);
      clearInterval(meshResync);
      clearInterval(pendingResync);
      unsubscribePending();
      unsubscribeMesh();
      unsubscribe();
      unsubscribeConflicts();
      localHosts.stop();
      await api.close();
      await cluster.stop();
      await reconciler.stop();
      // The interface stays up: the workload LAN outlives a monkd restart, which adopts it again.
      await mesh?.settled();
      await meshDns?.close();
      await graph.flush();
      await graph.close();
      logger.info('monkd stopped');
    },
  };
}
