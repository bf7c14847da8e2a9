import { randomUUID } from 'node:crypto';
import {
  MonkError,
  toMonkError,
  type JsonObject,
  type JsonValue,
  type OperatorAccess,
  type PeerCapacity,
  type PeerState,
} from '@monk/model';
import type { Graph } from '@monk/graph';
import { createAddressPlan } from '@monk/network';
import {
  decodeNetworkKey,
  encodeNetworkKey,
  generateNetworkKey,
  parseJoinToken,
  systemTimers,
  type MembershipConfig,
  type MessageStream,
  type P2PNode,
  type Timers,
} from '@monk/p2p';
import {
  joinProtocol,
  type ClusterInfo,
  type JoinTokenResult,
  type MethodName,
  type PeerEntry,
  type PeerProblem,
} from '@monk/sdk';
import type { CallChannel, ControlService } from '../handlers.ts';
import type { Logger } from '../logger.ts';
import {
  createTokenLedger,
  readClusterConfig,
  removeClusterConfig,
  writeClusterConfig,
  type ClusterConfig,
} from './cluster-files.ts';
import type { ClusterNodeFactory } from './cluster-node.ts';
import { sendEviction, serveEviction } from './eviction.ts';
import { startGraphReplication, type GraphReplication } from './graph-replication.ts';
import { createJoinService, joinAsPeer, type ClusterSecretsKey } from './join-service.ts';
import type { MeshOptions } from './mesh-record.ts';
import { peerEntriesOf, problemsOfMeta } from './peer-entries.ts';
import { createPeerMembership } from './peer-membership.ts';
import { createPeerMemory } from './peer-memory.ts';
import { forwardCall, servePeerProtocols, type PeerStreamProtocol } from './peer-protocols.ts';
import { createSelfRecord } from './self-record.ts';

export type { ClusterSecretsKey } from './join-service.ts';
export type { PeerStreamProtocol } from './peer-protocols.ts';

/**
 * Membership timing for real daemons: a Node event loop on a busy host can stall for a few hundred
 * milliseconds, so probes wait longer than the simulated defaults (150 ms) and a suspect gets three probe
 * intervals to refute. Measured: a killed peer is dead everywhere in about 2 s (bench/cluster.bench.ts).
 */
export const daemonMembershipConfig: Partial<MembershipConfig> = {
  probeIntervalMs: 500,
  probeTimeoutMs: 250,
  suspicionMult: 3,
};

export interface ClusterOptions {
  readonly dataDir: string;
  /** This peer's id; the node {@link ClusterComponents.createNode} makes must carry it. */
  readonly peerId: string;
  readonly peerName: string;
  /**
   * This peer's graph was rebuilt from a damaged store: until it has caught up from a neighbour, it also
   * admits and seeds from the peers cluster.json remembers, which its graph may no longer record.
   */
  readonly recovering?: boolean;
  /**
   * `monkd --mesh`: create a WireGuard key pair in the data dir on create/join and publish this peer's key,
   * endpoint, subnet and overlay address in its record. The interface itself is daemon.ts's mesh link.
   */
  readonly mesh?: MeshOptions | undefined;
  /** What this host offers to workloads, published in this peer's record for placement. */
  readonly capacity?: PeerCapacity;
}

export interface ClusterComponents {
  readonly graph: Graph;
  readonly logger: Logger;
  readonly secretsKey: ClusterSecretsKey;
  /** Makes the network node when this peer creates, joins or rejoins a cluster (libp2p, or the memory twin). */
  readonly createNode: ClusterNodeFactory;
  /** Wall clock of records and tokens. Default `new Date()`. */
  readonly now?: () => Date;
  /** Clock and timers of membership and of the cluster's own waits and retries. Default the system's. */
  readonly timers?: Timers;
  /** Membership tuning; default {@link daemonMembershipConfig}. */
  readonly membershipConfig?: Partial<MembershipConfig>;
  /** Uniform in [0, 1) for membership's probe order; default `Math.random`. */
  readonly random?: () => number;
  readonly peerStreams?: readonly PeerStreamProtocol[];
}

/**
 * This peer's membership in a cluster: the network node (admission by network key and allow-list), graph
 * replication, SWIM membership, join tokens, and the control protocol over the network. A peer with no
 * cluster (no `cluster.json`) runs alone with no network listener until `create` or `join`.
 */
export interface Cluster {
  start(service: ControlService): Promise<void>;
  stop(): Promise<void>;
  isMember(): boolean;
  /** Throws `INVALID_REQUEST` for a mesh CIDR the address plan refuses. */
  create(name: string | undefined, meshCidr?: string): Promise<ClusterInfo>;
  /**
   * Mints a single-use join token. `access` is for operator tokens (default `deploy`) and is kept in this
   * peer's token ledger; a peer token with an access throws `INVALID_REQUEST`.
   */
  issueToken(options: {
    ttlSeconds: number;
    role: 'peer' | 'operator';
    access?: OperatorAccess | undefined;
  }): Promise<JoinTokenResult>;
  join(token: string): Promise<ClusterInfo>;
  info(): ClusterInfo;
  peers(): PeerEntry[];
  setTags(id: string, tags: readonly string[]): Promise<PeerEntry>;
  remove(id: string): Promise<void>;
  exit(): Promise<void>;
  shrink(): Promise<string[]>;
  destroy(): Promise<string[]>;
  /**
   * Resolves with the first peer whose answer to our state vector was applied since start: this replica
   * then holds everything that peer held. Never resolves for a peer in no cluster.
   */
  caughtUp(): Promise<string>;
  /** What is wrong with this peer (`monk info`'s problems), told to every peer for `monk cluster peers`. */
  setProblems(problems: readonly PeerProblem[]): void;
  /**
   * Calls `listener` each time membership sees another peer change state (`alive`, `suspect`, `dead`,
   * `left`); `previous` is undefined the first time this peer hears of it. Subscriptions outlive leaving
   * and joining clusters. Returns an unsubscribe function.
   */
  onPeerStateChange(
    listener: (event: { peerId: string; state: PeerState; previous: PeerState | undefined }) => void,
  ): () => void;
  /** Runs a control call on another peer (logs/exec of the workloads it owns), relaying events. */
  forward(
    peerId: string,
    request: { method: MethodName; params: JsonObject },
    channel: CallChannel,
  ): Promise<JsonValue>;
  /** Opens a stream of a {@link PeerStreamProtocol} to another member. Throws `CLUSTER_NOT_FOUND` alone. */
  openStream(
    peerId: string,
    protocol: string,
    options: { readonly timeoutMs: number; readonly maxMessageBytes: number },
  ): Promise<MessageStream>;
}

/**
 * Composes the cluster of this peer from its parts: the node from `createNode`, {@link createPeerMembership},
 * {@link startGraphReplication}, {@link createJoinService}, {@link createPeerMemory}, {@link createSelfRecord},
 * {@link servePeerProtocols} and the eviction notice. Nothing starts until `start`, `create` or `join`.
 *
 * @example
 * const cluster = createCluster(
 *   { dataDir, peerId: identity.peerId, peerName: 'host-a' },
 *   { graph, logger, secretsKey, createNode: libp2pNodeFactory({ identity, listen, logger }) },
 * );
 * await cluster.start(service);
 * cluster.onPeerStateChange(({ peerId, state }) => logger.info(`${peerId} is ${state}`));
 */
export function createCluster(options: ClusterOptions, components: ClusterComponents): Cluster {
  const { graph, logger } = components;
  const now = components.now ?? ((): Date => new Date());
  const timers = components.timers ?? systemTimers;
  const self = options.peerId;
  const ledger = createTokenLedger(options.dataDir);
  let config: ClusterConfig | undefined;
  let node: P2PNode | undefined;
  let replication: GraphReplication | undefined;
  let service: ControlService | undefined;
  let unsubscribeGraph: (() => void) | undefined;
  const startedAt = now().toISOString();
  const caughtUp = Promise.withResolvers<string>();
  let problems: readonly PeerProblem[] = [];

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      timers.setTimeout(resolve, ms);
    });
  const memory = createPeerMemory({
    self,
    graph,
    recovering: options.recovering === true,
    caughtUp: caughtUp.promise,
  });
  const own = createSelfRecord({
    self,
    peerName: options.peerName,
    dataDir: options.dataDir,
    mesh: options.mesh,
    capacity: options.capacity,
    graph,
    logger,
  });
  const membership = createPeerMembership({
    self,
    logger,
    config: components.membershipConfig ?? daemonMembershipConfig,
    timers,
    random: components.random,
    knownPeers: () => memory.knownPeers(config),
    retryMs: 3_000,
  });
  // Back from a partition (or a restart): exchange state vectors at once, whatever the connection did.
  membership.onPeerStateChange(({ peerId, state, previous }) => {
    if (state === 'alive' && (previous === 'dead' || previous === 'suspect')) replication?.resync(peerId);
  });
  const joins = createJoinService({
    self,
    peerName: options.peerName,
    graph,
    ledger,
    secretsKey: components.secretsKey,
    logger,
    now,
    admitted: () => node?.setAllowList(memory.memberIds()),
  });
  const membershipMeta = (active: P2PNode): Record<string, string> => ({
    name: options.peerName,
    addresses: active.addresses().join(','),
    ...(problems.length === 0 ? {} : { problems: JSON.stringify(problems) }),
  });

  async function startNode(networkKey: Uint8Array, allowList: readonly string[]): Promise<P2PNode> {
    const created = await components.createNode({ networkKey, allowList });
    created.handle(
      joinProtocol,
      async (request, context) => {
        const current = config;
        const active = node;
        if (current === undefined || active === undefined)
          throw new MonkError('NOT_A_MEMBER', 'this peer is in no cluster');
        return joins.answer({ config: current, addresses: active.addresses() }, request, context.from);
      },
      { allowUnlisted: true },
    );
    servePeerProtocols(created, {
      graph,
      isIntroduced: (id) => memory.isIntroduced(id),
      service: () => service,
      peerStreams: components.peerStreams ?? [],
      logger,
    });
    serveEviction(created, {
      clusterId: () => config?.clusterId,
      isPeer: (id) => graph.getPeer(id)?.role === 'peer',
      evicted: (by) => {
        logger.warn(`removed from cluster ${config?.clusterName ?? '?'} by ${by}; running alone from now on`);
        timers.setTimeout(() => void leaveLocally(), 100);
      },
    });
    await created.start();
    return created;
  }

  /** Graph replication and membership, once this peer is a member. */
  async function startReplication(active: P2PNode, seeds: readonly string[]): Promise<void> {
    replication = startGraphReplication({
      node: active,
      graph,
      logger,
      onCaughtUp: (peer) => caughtUp.resolve(peer),
      antiEntropyIntervalMs: 10_000,
    });
    membership.start(active, membershipMeta(active));
    // Connections opened before replication started (the join itself) get their state vectors now.
    replication.resync();
    await membership.join(seeds);
  }

  function onGraphChange(): void {
    const active = node;
    if (active === undefined || config === undefined) return;
    const ids = memory.memberIds();
    if (graph.getPeer(self) === undefined && graph.listPeers().length > 0) {
      logger.warn('this peer was removed from the cluster; leaving it');
      void leaveLocally();
      return;
    }
    active.setAllowList(ids);
  }

  async function becomeMember(
    next: ClusterConfig,
    active: P2PNode,
    seeds: readonly string[] = [],
  ): Promise<void> {
    config = next;
    node = active;
    await writeClusterConfig(options.dataDir, next);
    unsubscribeGraph = graph.onChange((changes) => {
      const peers = changes.filter((c) => c.kind === 'peer');
      if (peers.length === 0) return;
      logger.debug('peer records changed', { changes: peers.map((c) => `${c.key} (${c.origin})`) });
      onGraphChange();
      if (node !== undefined) own.refresh(node.addresses());
      void rememberPeers();
    });
    active.setAllowList(memory.memberIds());
    await rememberPeers();
    await startReplication(active, seeds);
  }

  /** Keeps `knownPeers` in cluster.json in step with the graph's peer records (see its schema). */
  async function rememberPeers(): Promise<void> {
    const current = config;
    if (current === undefined) return;
    const next = memory.remembered(current);
    if (next === undefined) return;
    config = next;
    await writeClusterConfig(options.dataDir, next).catch((error: unknown) => {
      logger.warn('could not remember the cluster peers', { error: toMonkError(error).message });
    });
  }

  /** Resolves true once `condition` holds after some graph change, false when `timeoutMs` passes first. */
  function graphReaches(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const cleanups: (() => void)[] = [];
      const finish = (value: boolean): void => {
        for (const cleanup of cleanups) cleanup();
        resolve(value);
      };
      cleanups.push(graph.onChange(() => condition() && finish(true)));
      cleanups.push(timers.setTimeout(() => finish(condition()), timeoutMs));
    });
  }

  async function evict(id: string): Promise<void> {
    const current = config;
    const active = node;
    if (current === undefined || active === undefined) return;
    await sendEviction(active, { peerId: id, clusterId: current.clusterId }, logger);
  }

  async function leaveLocally(): Promise<void> {
    if (config === undefined && node === undefined) return;
    await stopNetworking();
    config = undefined;
    await removeClusterConfig(options.dataDir);
  }

  async function stopNetworking(): Promise<void> {
    unsubscribeGraph?.();
    unsubscribeGraph = undefined;
    await membership.stop();
    replication?.close();
    replication = undefined;
    const active = node;
    node = undefined;
    await active?.stop();
  }

  function requireMember(): { config: ClusterConfig; node: P2PNode } {
    if (config === undefined || node === undefined) {
      throw new MonkError(
        'CLUSTER_NOT_FOUND',
        'this peer is in no cluster; create one with monk cluster new or join one with monk cluster join TOKEN',
      );
    }
    return { config, node };
  }

  function requireOutside(): void {
    if (config !== undefined) {
      throw new MonkError(
        'CLUSTER_EXISTS',
        `this peer is already in cluster ${config.clusterName}; leave it first with monk cluster exit`,
      );
    }
  }

  function stateOf(id: string): PeerEntry['state'] {
    if (id === self) return 'alive';
    const member = membership.member(id);
    if (member !== undefined) return member.state;
    if (graph.getPeer(id)?.role === 'operator')
      return node?.connectedPeers().includes(id) === true ? 'alive' : 'unknown';
    return 'unknown';
  }

  function peerEntries(): PeerEntry[] {
    return peerEntriesOf({
      self,
      peers: graph.listPeers(),
      workloads: graph.listWorkloads(),
      stateOf,
      // Ours as we know them, another's as its membership meta last said.
      problemsOf: (id) => (id === self ? problems : problemsOfMeta(membership.member(id)?.meta)),
    });
  }

  function info(): ClusterInfo {
    const { config: current, node: active } = requireMember();
    const peers = peerEntries().filter((p) => p.role === 'peer');
    return {
      clusterId: current.clusterId,
      clusterName: current.clusterName,
      peerId: self,
      peerName: options.peerName,
      addresses: active.addresses(),
      peers: peers.length,
      alive: peers.filter((p) => p.state === 'alive').length,
    };
  }

  return {
    async start(controlService) {
      service = controlService;
      const stored = await readClusterConfig(options.dataDir);
      if (stored === undefined) return;
      if (options.recovering === true) {
        memory.admitRemembered(stored, caughtUp.promise, onGraphChange);
      }
      const active = await startNode(decodeNetworkKey(stored.networkKey), memory.memberIds());
      await own.prepareMesh();
      // Our addresses may have changed since the last run: peers find us again through our record.
      graph.putPeer(own.record(active.addresses(), startedAt));
      await becomeMember(stored, active);
      logger.info('rejoined cluster', { cluster: stored.clusterName, addresses: active.addresses() });
    },
    async stop() {
      await stopNetworking();
    },
    caughtUp: () => caughtUp.promise,
    setProblems(next) {
      if (JSON.stringify(next) === JSON.stringify(problems)) return;
      problems = [...next];
      if (node !== undefined) membership.setMeta(membershipMeta(node));
    },
    onPeerStateChange: (listener) => membership.onPeerStateChange(listener),
    isMember: () => config !== undefined,
    async create(name, meshCidr) {
      requireOutside();
      const plan = createAddressPlan(meshCidr === undefined ? {} : { cidr: meshCidr });
      await own.prepareMesh();
      const networkKey = generateNetworkKey();
      const next: ClusterConfig = {
        clusterId: randomUUID(),
        clusterName: name ?? `${options.peerName}-cluster`,
        networkKey: encodeNetworkKey(networkKey),
        createdAt: now().toISOString(),
      };
      const active = await startNode(networkKey, [self]);
      graph.setClusterIdentity({
        clusterId: next.clusterId,
        clusterName: next.clusterName,
        meshCidr: plan.cidr,
      });
      graph.putPeer(own.record(active.addresses(), next.createdAt));
      await graph.flush();
      await becomeMember(next, active);
      logger.info(`created cluster ${next.clusterName}`, { cluster: next.clusterId });
      return info();
    },
    async issueToken(request) {
      const { config: current, node: active } = requireMember();
      return joins.issueToken({ config: current, addresses: active.addresses() }, request);
    },
    async join(text) {
      requireOutside();
      const token = parseJoinToken(text, now());
      if (token.role !== 'peer') {
        throw new MonkError(
          'JOIN_TOKEN_INVALID',
          'this token is for an operator; use monk cluster switch TOKEN on the operator machine',
        );
      }
      const issuers = token.addresses
        .map((a) => a.slice(a.lastIndexOf('/p2p/') + 5))
        .filter((id) => id !== '');
      await own.prepareMesh();
      const active = await startNode(token.networkKey, [self, ...issuers]);
      let response;
      try {
        response = await joinAsPeer({ node: active, token, peerName: options.peerName });
      } catch (error) {
        await active.stop();
        throw error;
      }
      for (const peer of response.peers)
        await active.addPeerAddresses(peer.id, peer.addresses).catch(() => undefined);
      const next: ClusterConfig = {
        clusterId: response.clusterId,
        clusterName: response.clusterName,
        networkKey: encodeNetworkKey(token.networkKey),
        createdAt: now().toISOString(),
      };
      if (response.secretsKey !== undefined) {
        await components.secretsKey.adopt(Buffer.from(response.secretsKey, 'base64url'));
      }
      memory.introduce(response.peers.map((p) => p.id));
      active.setAllowList(memory.memberIds());
      await becomeMember(
        next,
        active,
        response.peers.filter((p) => p.role === 'peer').map((p) => p.id),
      );
      // Joined means caught up: the issuer recorded us; wait until that record has reached our replica.
      if (await graphReaches(() => graph.getPeer(self) !== undefined, 15_000)) {
        graph.putPeer(own.record(active.addresses(), now().toISOString()));
      } else {
        logger.warn('joined, but the cluster graph has not arrived yet; it will catch up in the background');
      }
      logger.info(`joined cluster ${next.clusterName}`, { cluster: next.clusterId });
      return info();
    },
    info,
    peers() {
      requireMember();
      return peerEntries();
    },
    async setTags(id, tags) {
      requireMember();
      const peer = graph.getPeer(id);
      if (peer === undefined) throw new MonkError('PEER_NOT_FOUND', `no peer ${id} in this cluster`);
      graph.putPeer({ ...peer, tags: [...new Set(tags)].sort() });
      await graph.flush();
      const entry = peerEntries().find((p) => p.id === id);
      if (entry === undefined) throw new MonkError('PEER_NOT_FOUND', `no peer ${id} in this cluster`);
      return entry;
    },
    async remove(id) {
      requireMember();
      if (id === self)
        throw new MonkError('INVALID_REQUEST', 'a peer cannot remove itself; use monk cluster exit');
      if (graph.getPeer(id) === undefined)
        throw new MonkError('PEER_NOT_FOUND', `no peer ${id} in this cluster`);
      await evict(id);
      graph.removePeer(id);
      await graph.flush();
      membership.remove(id);
      node?.setAllowList(memory.memberIds());
      logger.info(`removed peer ${id} from the cluster`);
    },
    async exit() {
      requireMember();
      await membership.leave();
      graph.removePeer(self);
      await graph.flush();
      // Give the removal a moment to reach the others before the connections close.
      await delay(500);
      await leaveLocally();
      logger.info('left the cluster');
    },
    async shrink() {
      requireMember();
      const idle = peerEntries().filter(
        (p) => !p.self && (p.state === 'dead' || p.state === 'left') && p.containers === 0,
      );
      for (const peer of idle) {
        graph.removePeer(peer.id);
        membership.remove(peer.id);
      }
      await graph.flush();
      node?.setAllowList(memory.memberIds());
      return idle.map((p) => p.id);
    },
    async destroy() {
      requireMember();
      const others = graph
        .listPeers()
        .filter((p) => p.id !== self)
        .map((p) => p.id);
      await Promise.all(others.map((id) => evict(id)));
      for (const id of others) graph.removePeer(id);
      await graph.flush();
      await delay(500);
      graph.removePeer(self);
      await graph.flush();
      await leaveLocally();
      return others;
    },
    async openStream(peerId, protocol, streamOptions) {
      const { node: active } = requireMember();
      return active.openStream(peerId, protocol, streamOptions);
    },
    async forward(peerId, request, channel) {
      const { node: active } = requireMember();
      return forwardCall(active, peerId, { request, channel });
    },
  };
}
