import { randomUUID } from 'node:crypto';
import {
  defaultOperatorAccess,
  deserializeError,
  MonkError,
  toMonkError,
  type JsonObject,
  type JsonValue,
  type OperatorAccess,
  type PeerCapacity,
  type PeerRecord,
} from '@monk/model';
import { createGraphSync, type Graph, type GraphSync, type SyncTransport } from '@monk/graph';
import { createAddressPlan, type WireguardKey } from '@monk/network';
import {
  createJoinToken,
  createMembership,
  createP2PNode,
  decodeNetworkKey,
  encodeNetworkKey,
  generateNetworkKey,
  generateTokenSecret,
  hashTokenSecret,
  parseJoinToken,
  type Member,
  type Membership,
  type MessageHandlerContext,
  type MessageStream,
  type P2PNode,
  type PeerIdentity,
} from '@monk/p2p';
import {
  controlProtocol,
  decodeJsonMessage,
  encodeJsonMessage,
  joinProtocol,
  joinRequestSchema,
  joinResponseSchema,
  protocolVersion,
  type Caller,
  type ClusterInfo,
  type JoinResponse,
  type JoinTokenResult,
  type MethodName,
  type PeerEntry,
  type PeerProblem,
  peerProblemsSchema,
} from '@monk/sdk';
import { serveFrames } from '../api-server.ts';
import type { CallChannel, ControlService } from '../handlers.ts';
import type { Logger } from '../logger.ts';
import { createAuthorizingService } from './authorizing-service.ts';
import {
  createTokenLedger,
  readClusterConfig,
  removeClusterConfig,
  writeClusterConfig,
  type ClusterConfig,
} from './cluster-files.ts';
import {
  assertMeshRoom,
  loadMeshKey,
  meshRecordOf,
  underlayHostOf,
  type MeshOptions,
} from './mesh-record.ts';

const syncProtocol = '/monk/graph-sync/1.0.0';

/**
 * Membership timing for real daemons: a Node event loop on a busy host can stall for a few hundred
 * milliseconds, so probes wait longer than the simulated defaults (150 ms) and a suspect gets three probe
 * intervals to refute. Measured: a killed peer is dead everywhere in about 2 s (bench/cluster.bench.ts).
 */
const membershipConfig = { probeIntervalMs: 500, probeTimeoutMs: 250, suspicionMult: 3 } as const;
/** Tells a peer it was removed, before the allow-lists cut it off (so it need not wait for the graph). */
const evictProtocol = '/monk/evict/1.0.0';

/** The cluster's secrets key, as the cluster needs it: read to hand to joiners, replaced when joining. */
export interface ClusterSecretsKey {
  key(): Promise<Uint8Array>;
  adopt(key: Uint8Array): Promise<void>;
}

export interface ClusterOptions {
  readonly dataDir: string;
  readonly identity: PeerIdentity;
  readonly peerName: string;
  readonly listen: { readonly host: string; readonly port: number };
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

/**
 * A stream protocol served to the cluster's peers beside the cluster's own (the image exchange). The handler
 * is told whether the caller is a peer (operators are allowed on the network too) and refuses as it likes.
 */
export interface PeerStreamProtocol {
  readonly protocol: string;
  readonly maxMessageBytes: number;
  readonly handler: (
    stream: MessageStream,
    context: MessageHandlerContext & { readonly isPeer: boolean },
  ) => Promise<void>;
}

/**
 * This peer's membership in a cluster: the libp2p node (admission by network key and allow-list), graph
 * replication, SWIM membership, join tokens, and the control protocol over libp2p. A peer with no
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
  /** Calls `listener` after membership changes a peer's state (alive, suspect, dead, left). Returns an unsubscribe. */
  onPeerStateChange(listener: () => void): () => void;
  /** What is wrong with this peer (`monk info`'s problems), told to every peer for `monk cluster peers`. */
  setProblems(problems: readonly PeerProblem[]): void;
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

export function createCluster(
  options: ClusterOptions,
  components: {
    graph: Graph;
    logger: Logger;
    secretsKey: ClusterSecretsKey;
    now?: () => Date;
    peerStreams?: readonly PeerStreamProtocol[];
  },
): Cluster {
  const { graph, logger } = components;
  const now = components.now ?? ((): Date => new Date());
  const self = options.identity.peerId;
  const ledger = createTokenLedger(options.dataDir);
  let config: ClusterConfig | undefined;
  let node: P2PNode | undefined;
  let sync: GraphSync | undefined;
  let membership: Membership | undefined;
  let service: ControlService | undefined;
  let unsubscribeGraph: (() => void) | undefined;
  let rejoinTimer: NodeJS.Timeout | undefined;
  const startedAt = now().toISOString();
  const caughtUp = Promise.withResolvers<string>();
  let recovering = options.recovering === true;
  const peerStateListeners = new Set<() => void>();
  let problems: readonly PeerProblem[] = [];
  let meshKey: WireguardKey | undefined;
  const membershipMeta = (active: P2PNode): Record<string, string> => ({
    name: options.peerName,
    addresses: active.addresses().join(','),
    ...(problems.length === 0 ? {} : { problems: JSON.stringify(problems) }),
  });
  void caughtUp.promise.then(() => (recovering = false));

  const roleOf = (id: string): 'peer' | 'operator' | undefined => graph.getPeer(id)?.role;
  // Peers named by a join response stay allowed until our replica of the graph records them.
  const introduced = new Set<string>();
  const memberIds = (): string[] => {
    const recorded = graph.listPeers().map((p) => p.id);
    for (const id of recorded) introduced.delete(id);
    return [...new Set([self, ...recorded, ...introduced])];
  };

  async function startNode(networkKey: Uint8Array, allowList: readonly string[]): Promise<P2PNode> {
    const created = await createP2PNode(
      { identity: options.identity, listen: options.listen, networkKey, allowList },
      { logger: logger.child('p2p') },
    );
    created.handle(joinProtocol, (request, context) => handleJoin(request, context.from), {
      allowUnlisted: true,
    });
    created.handleStream(controlProtocol, async (stream) => serveStream(stream));
    for (const served of components.peerStreams ?? []) {
      created.handleStream(
        served.protocol,
        (stream, context) =>
          served.handler(stream, {
            ...context,
            isPeer: roleOf(context.from) === 'peer' || introduced.has(context.from),
          }),
        { maxMessageBytes: served.maxMessageBytes },
      );
    }
    created.handle(evictProtocol, async (request, context) => {
      const notice = decodeJsonMessage(request) as { clusterId?: unknown };
      if (config === undefined || notice.clusterId !== config.clusterId || roleOf(context.from) !== 'peer') {
        throw new MonkError('NOT_A_MEMBER', 'not an eviction notice for this cluster');
      }
      logger.warn(`removed from cluster ${config.clusterName} by ${context.from}; running alone from now on`);
      setTimeout(() => void leaveLocally(), 100);
      return new Uint8Array(0);
    });
    await created.start();
    return created;
  }

  /** Graph replication and membership, once this peer is a member. */
  async function startReplication(active: P2PNode, seeds: readonly string[]): Promise<void> {
    // Replicas are the allowed peers that are not operators. The allow-list, not the graph, decides: a
    // newcomer's graph is empty until the first sync, yet it must sync with the peers it was told about.
    const isReplica = (id: string): boolean => roleOf(id) !== 'operator' && active.allowList().includes(id);
    const transport: SyncTransport = {
      peers: () => active.connectedPeers().filter(isReplica),
      send: (peer, message) => {
        if (!isReplica(peer)) return;
        active.request(peer, syncProtocol, message, { timeoutMs: 15_000 }).catch((error: unknown) => {
          logger.debug('graph sync message not delivered', { peer, error: toMonkError(error).message });
        });
      },
      onMessage: (handler) => {
        active.handle(
          syncProtocol,
          async (request, context) => {
            if (!isReplica(context.from)) {
              throw new MonkError('NOT_A_MEMBER', 'only peers replicate the graph');
            }
            handler(context.from, request);
            return new Uint8Array(0);
          },
          { maxMessageBytes: 64 * 1024 * 1024 },
        );
        return () => active.unhandle(syncProtocol);
      },
      onPeerConnected: (handler) => active.onPeerConnected(handler),
    };
    sync = createGraphSync({
      graph,
      transport,
      antiEntropyIntervalMs: 10_000,
      onProblem: (problem) =>
        logger.warn('graph sync problem', { problem: problem as unknown as JsonObject }),
      onCaughtUp: (peer) => caughtUp.resolve(peer),
    });
    membership = createMembership({
      transport: active,
      meta: membershipMeta(active),
      logger: logger.child('membership'),
      config: membershipConfig,
    });
    membership.onChange((member: Member, previous) => {
      if (member.id === self) return;
      const addresses = (member.meta['addresses'] ?? '').split(',').filter((a) => a !== '');
      if (addresses.length > 0) active.addPeerAddresses(member.id, addresses).catch(() => undefined);
      if (previous === member.state) return;
      logger.info(`peer ${member.meta['name'] ?? member.id} is ${member.state}`, { peer: member.id });
      for (const listener of [...peerStateListeners]) listener();
      // A connection to a peer behind a partition stalls rather than closes, and TCP retries it ever more
      // slowly: drop it, so membership's retries dial afresh and the first one after the heal gets through.
      if (member.state === 'dead') active.hangUp(member.id).catch(() => undefined);
      // Back from a partition (or a restart): exchange state vectors at once, whatever the connection did.
      if (member.state === 'alive' && (previous === 'dead' || previous === 'suspect'))
        sync?.resync(member.id);
    });
    membership.start();
    // Connections opened before replication started (the join itself) get their state vectors now.
    sync.resync();
    await seedMembership(seeds);
  }

  /** Joins the membership protocol through `seeds` and the peers the graph knows; retries until one answers. */
  async function seedMembership(seeds: readonly string[] = []): Promise<void> {
    const active = node;
    const members = membership;
    if (active === undefined || members === undefined) return;
    const recorded = graph.listPeers().filter((p) => p.role === 'peer' && p.id !== self);
    const remembered = (config?.knownPeers ?? []).filter(
      (p) => introduced.has(p.id) && !recorded.some((r) => r.id === p.id),
    );
    const known = [...recorded, ...remembered];
    for (const peer of known) {
      if (peer.addresses.length > 0) {
        await active.addPeerAddresses(peer.id, peer.addresses).catch(() => undefined);
      }
    }
    const ids = [...new Set([...seeds, ...known.map((p) => p.id)])].filter((id) => id !== self);
    if (ids.length === 0) return;
    try {
      await members.join(ids);
    } catch (error) {
      // Nobody answered yet (all restarting, or we are back first): try again until someone does.
      logger.warn('no cluster peer answered yet; retrying', { error: toMonkError(error).message });
      rejoinTimer = setTimeout(() => void seedMembership(), 3_000);
    }
  }

  function onGraphChange(): void {
    const active = node;
    if (active === undefined || config === undefined) return;
    const ids = memberIds();
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
      refreshMeshRecord();
      void rememberPeers();
    });
    active.setAllowList(memberIds());
    await rememberPeers();
    await startReplication(active, seeds);
  }

  /** Admits the remembered peers that a damaged graph lost, until the first catch-up restores the graph. */
  function admitRememberedPeers(stored: ClusterConfig): void {
    const remembered = (stored.knownPeers ?? [])
      .map((p) => p.id)
      .filter((id) => graph.getPeer(id) === undefined);
    for (const id of remembered) introduced.add(id);
    void caughtUp.promise.then(() => {
      for (const id of remembered) introduced.delete(id);
      onGraphChange();
    });
  }

  /** Keeps `knownPeers` in cluster.json in step with the graph's peer records (see its schema). */
  async function rememberPeers(): Promise<void> {
    const current = config;
    if (current === undefined) return;
    const knownPeers = graph
      .listPeers()
      .filter((p) => p.role === 'peer' && p.id !== self)
      .map((p) => ({ id: p.id, addresses: [...p.addresses] }))
      .sort((a, b) => a.id.localeCompare(b.id));
    // A replica still catching up knows fewer peers than it remembers: it must not forget them yet.
    if (recovering || knownPeers.length === 0) return;
    if (JSON.stringify(knownPeers) === JSON.stringify(current.knownPeers ?? [])) return;
    config = { ...current, knownPeers };
    await writeClusterConfig(options.dataDir, config).catch((error: unknown) => {
      logger.warn('could not remember the cluster peers', { error: toMonkError(error).message });
    });
  }

  function selfRecord(active: P2PNode, joinedAt: string): PeerRecord {
    const existing = graph.getPeer(self);
    const wireguard = meshRecord(active, existing?.joinedAt ?? joinedAt);
    return {
      id: self,
      name: options.peerName,
      role: 'peer',
      tags: existing?.tags ?? [],
      addresses: active.addresses(),
      joinedAt: existing?.joinedAt ?? joinedAt,
      ...(wireguard === undefined ? {} : { wireguard }),
      ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
    };
  }

  /** Creates the mesh key pair in the data dir, once, when this peer is in the mesh. */
  async function prepareMesh(): Promise<void> {
    if (options.mesh !== undefined && meshKey === undefined) meshKey = await loadMeshKey(options.dataDir);
  }

  function meshRecord(active: P2PNode, joinedAt: string): PeerRecord['wireguard'] {
    if (options.mesh === undefined || meshKey === undefined) return undefined;
    const host = options.mesh.endpointHost ?? underlayHostOf(active.addresses());
    const wireguard = meshRecordOf({
      self,
      joinedAt,
      peers: graph.listPeers(),
      meshCidr: graph.getMeta().meshCidr,
      publicKey: meshKey.publicKey,
      endpoint: host === undefined ? undefined : `${host}:${options.mesh.listenPort}`,
    });
    if (wireguard === undefined) logger.warn('the mesh address plan has no subnet left for this peer');
    return wireguard;
  }

  /**
   * Rewrites our record when the address plan, run over the records we now have, gives us another subnet
   * than the one we claimed: another peer that joined at the same time claimed it too and ranks first.
   */
  function refreshMeshRecord(): void {
    const active = node;
    const existing = graph.getPeer(self);
    if (options.mesh === undefined || active === undefined || existing === undefined) return;
    const next = selfRecord(active, existing.joinedAt);
    if (JSON.stringify(next.wireguard) === JSON.stringify(existing.wireguard)) return;
    if (existing.wireguard !== undefined && next.wireguard !== undefined) {
      logger.info(
        `mesh subnet ${existing.wireguard.subnet} is another peer's; moving to ${next.wireguard.subnet}`,
      );
    }
    graph.putPeer(next);
  }

  async function handleJoin(request: Uint8Array, from: string): Promise<Uint8Array> {
    const current = config;
    const active = node;
    if (current === undefined || active === undefined)
      throw new MonkError('NOT_A_MEMBER', 'this peer is in no cluster');
    let parsed;
    try {
      parsed = joinRequestSchema.safeParse(decodeJsonMessage(request));
    } catch (error) {
      throw new MonkError('PROTOCOL_ERROR', 'malformed join request', { cause: error });
    }
    if (!parsed.success)
      throw new MonkError('PROTOCOL_ERROR', `malformed join request: ${parsed.error.message}`);
    const joinRequest = parsed.data;
    let token;
    try {
      if (joinRequest.role === 'peer') {
        const joiner = { id: from, name: joinRequest.name };
        assertMeshRoom({ meshCidr: graph.getMeta().meshCidr, peers: graph.listPeers(), joiner });
      }
      token = await ledger.redeem({
        secretHash: hashTokenSecret(joinRequest.secret),
        peerId: from,
        now: now(),
      });
    } catch (error) {
      logger.warn(`refused a join from ${from}: ${toMonkError(error).message}`, {
        peer: from,
        code: toMonkError(error).code,
      });
      throw error;
    }
    if (token.role !== joinRequest.role) {
      logger.warn(`refused a join from ${from}: token is for a ${token.role}, not a ${joinRequest.role}`);
      throw new MonkError(
        'JOIN_TOKEN_INVALID',
        `this token admits a ${token.role}, not a ${joinRequest.role}`,
      );
    }
    // The access comes from our own ledger, never from the request or the token's payload.
    const access = token.role === 'operator' ? (token.access ?? defaultOperatorAccess) : undefined;
    graph.putPeer({
      id: from,
      name: joinRequest.name,
      role: joinRequest.role,
      tags: joinRequest.tags,
      addresses: joinRequest.addresses,
      joinedAt: now().toISOString(),
      ...(access === undefined ? {} : { access }),
    });
    await graph.flush();
    active.setAllowList(memberIds());
    logger.info(
      `${joinRequest.name} joined the cluster as ${joinRequest.role}${access === undefined ? '' : ` with ${access} access`}`,
      { peer: from },
    );
    const others = graph.listPeers().filter((p) => p.id !== self && p.id !== from && p.role === 'peer');
    const response: JoinResponse = {
      v: 1,
      clusterId: current.clusterId,
      clusterName: current.clusterName,
      peers: [
        { id: self, name: options.peerName, role: 'peer', addresses: active.addresses() },
        ...others.map((p) => ({ id: p.id, name: p.name, role: p.role, addresses: p.addresses })),
      ],
      // Peers run workloads that read secrets; operators never get the key.
      ...(joinRequest.role === 'peer'
        ? { secretsKey: Buffer.from(await components.secretsKey.key()).toString('base64url') }
        : {}),
    };
    return encodeJsonMessage(response);
  }

  /**
   * Who a caller from the network is, from our replica of the graph: the graph, not anything the caller
   * says, carries an operator's access. Throws `NOT_A_MEMBER` for a peer id the cluster does not know (a
   * removed operator whose connection is still open).
   */
  function callerOf(id: string): Caller {
    const record = graph.getPeer(id);
    // A peer that introduced us when we joined may call before its record reaches our replica.
    if (record === undefined && introduced.has(id)) return { role: 'peer', id };
    if (record === undefined) throw new MonkError('NOT_A_MEMBER', `${id} is not a member of this cluster`);
    if (record.role === 'peer') return { role: 'peer', id };
    return { role: 'operator', id, name: record.name, access: record.access ?? defaultOperatorAccess };
  }

  async function serveStream(stream: MessageStream): Promise<void> {
    const local = service;
    if (local === undefined) {
      stream.abort(new Error('not ready'));
      return;
    }
    const current = createAuthorizingService(local, () => callerOf(stream.peerId));
    const closed = new AbortController();
    const iterator = stream[Symbol.asyncIterator]();
    const frames: AsyncIterator<Record<string, unknown>> = {
      next: async () => {
        try {
          const next = await iterator.next();
          if (next.done === true) {
            closed.abort();
            return { done: true, value: undefined };
          }
          return { done: false, value: decodeJsonMessage(next.value) as Record<string, unknown> };
        } catch (error) {
          closed.abort();
          throw error;
        }
      },
    };
    await serveFrames(
      {
        frames,
        write: (frame) => stream.send(encodeJsonMessage(frame)),
        end: () => void stream.close().catch(() => undefined),
        closed: closed.signal,
      },
      { service: current, logger },
    );
  }

  async function evict(id: string): Promise<void> {
    const current = config;
    const active = node;
    if (current === undefined || active === undefined) return;
    await active
      .request(id, evictProtocol, encodeJsonMessage({ clusterId: current.clusterId }), { timeoutMs: 3_000 })
      .catch((error: unknown) => {
        logger.info(`could not tell ${id} it was removed (it will find out when it reconnects)`, {
          error: toMonkError(error).message,
        });
      });
  }

  async function leaveLocally(): Promise<void> {
    if (config === undefined && node === undefined) return;
    await stopNetworking();
    config = undefined;
    await removeClusterConfig(options.dataDir);
  }

  async function stopNetworking(): Promise<void> {
    if (rejoinTimer !== undefined) clearTimeout(rejoinTimer);
    unsubscribeGraph?.();
    unsubscribeGraph = undefined;
    await membership?.stop();
    membership = undefined;
    sync?.close();
    sync = undefined;
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

  function stateOf(id: string): PeerEntry['state'] {
    if (id === self) return 'alive';
    const member = membership?.members().find((m) => m.id === id);
    if (member !== undefined) return member.state;
    if (roleOf(id) === 'operator') return node?.connectedPeers().includes(id) === true ? 'alive' : 'unknown';
    return 'unknown';
  }

  /** A peer's problems: ours as we know them, another's as its membership meta last said. */
  function problemsOf(id: string): { problems?: PeerProblem[] } {
    if (id === self) return problems.length === 0 ? {} : { problems: [...problems] };
    const told = membership?.members().find((m) => m.id === id)?.meta['problems'];
    if (told === undefined) return {};
    try {
      const parsed = peerProblemsSchema.safeParse(JSON.parse(told));
      return parsed.success && parsed.data.length > 0 ? { problems: parsed.data } : {};
    } catch {
      return {};
    }
  }

  function peerEntries(): PeerEntry[] {
    const workloads = graph.listWorkloads();
    return graph
      .listPeers()
      .map((p) => ({
        id: p.id,
        name: p.name,
        role: p.role,
        tags: p.tags,
        addresses: p.addresses,
        state: stateOf(p.id),
        containers: workloads.filter((w) => w.owner === p.id).length,
        startedAt: p.joinedAt,
        self: p.id === self,
        ...problemsOf(p.id),
        ...(p.role === 'operator' ? { access: p.access ?? defaultOperatorAccess } : {}),
        ...(p.wireguard === undefined ? {} : { mesh: p.wireguard }),
      }))
      .sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
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
      if (options.recovering === true) admitRememberedPeers(stored);
      const active = await startNode(decodeNetworkKey(stored.networkKey), memberIds());
      await prepareMesh();
      // Our addresses may have changed since the last run: peers find us again through our record.
      graph.putPeer(selfRecord(active, startedAt));
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
      if (node !== undefined) membership?.setMeta(membershipMeta(node));
    },
    isMember: () => config !== undefined,
    async create(name, meshCidr) {
      if (config !== undefined) {
        throw new MonkError(
          'CLUSTER_EXISTS',
          `this peer is already in cluster ${config.clusterName}; leave it first with monk cluster exit`,
        );
      }
      const plan = createAddressPlan(meshCidr === undefined ? {} : { cidr: meshCidr });
      await prepareMesh();
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
      graph.putPeer(selfRecord(active, next.createdAt));
      await graph.flush();
      await becomeMember(next, active);
      logger.info(`created cluster ${next.clusterName}`, { cluster: next.clusterId });
      return info();
    },
    async issueToken({ ttlSeconds, role, access }) {
      const { config: current, node: active } = requireMember();
      if (role === 'peer' && access !== undefined) {
        throw new MonkError(
          'INVALID_REQUEST',
          'an access level is for operator tokens; a peer holds the secrets key and may do everything',
        );
      }
      const granted = role === 'operator' ? (access ?? defaultOperatorAccess) : undefined;
      const secret = generateTokenSecret();
      const expiresAt = new Date(now().getTime() + ttlSeconds * 1000).toISOString();
      await ledger.issue({
        secretHash: hashTokenSecret(secret),
        role,
        ...(granted === undefined ? {} : { access: granted }),
        expiresAt,
        issuedAt: now().toISOString(),
      });
      const token = createJoinToken({
        clusterId: current.clusterId,
        clusterName: current.clusterName,
        networkKey: decodeNetworkKey(current.networkKey),
        addresses: active.addresses(),
        role,
        expiresAt,
        secret,
      });
      return { token, role, ...(granted === undefined ? {} : { access: granted }), expiresAt };
    },
    async join(text) {
      if (config !== undefined) {
        throw new MonkError(
          'CLUSTER_EXISTS',
          `this peer is already in cluster ${config.clusterName}; leave it first with monk cluster exit`,
        );
      }
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
      await prepareMesh();
      const active = await startNode(token.networkKey, [self, ...issuers]);
      let response: JoinResponse | undefined;
      const failures: string[] = [];
      try {
        for (const address of token.addresses) {
          try {
            const peerId = await active.dial(address, { timeoutMs: 5_000 });
            const request = {
              v: 1,
              secret: token.secret,
              name: options.peerName,
              role: 'peer',
              addresses: active.addresses(),
              tags: [],
            };
            const answer = await active.request(peerId, joinProtocol, encodeJsonMessage(request), {
              timeoutMs: 15_000,
            });
            response = joinResponseSchema.parse(decodeJsonMessage(answer));
            break;
          } catch (error) {
            const monkError = toMonkError(error);
            if (monkError.code.startsWith('JOIN_TOKEN') || monkError.code === 'MESH_ADDRESSES_EXHAUSTED')
              throw monkError;
            failures.push(`${address}: ${monkError.message}`);
          }
        }
      } catch (error) {
        await active.stop();
        throw error;
      }
      if (response === undefined) {
        await active.stop();
        throw new MonkError(
          'PEER_UNREACHABLE',
          `no peer of cluster ${token.clusterName} answered: ${failures.join('; ')}`,
        );
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
      for (const peer of response.peers) introduced.add(peer.id);
      active.setAllowList(memberIds());
      await becomeMember(
        next,
        active,
        response.peers.filter((p) => p.role === 'peer').map((p) => p.id),
      );
      // Joined means caught up: the issuer recorded us; wait until that record has reached our replica.
      const deadline = Date.now() + 15_000;
      while (graph.getPeer(self) === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (graph.getPeer(self) === undefined) {
        logger.warn('joined, but the cluster graph has not arrived yet; it will catch up in the background');
      } else {
        graph.putPeer(selfRecord(active, now().toISOString()));
      }
      logger.info(`joined cluster ${next.clusterName}`, { cluster: next.clusterId });
      return info();
    },
    info,
    peers() {
      requireMember();
      return peerEntries();
    },
    onPeerStateChange(listener) {
      peerStateListeners.add(listener);
      return () => peerStateListeners.delete(listener);
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
      membership?.remove(id);
      node?.setAllowList(memberIds());
      logger.info(`removed peer ${id} from the cluster`);
    },
    async exit() {
      requireMember();
      await membership?.leave();
      graph.removePeer(self);
      await graph.flush();
      // Give the removal a moment to reach the others before the connections close.
      await new Promise((resolve) => setTimeout(resolve, 500));
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
        membership?.remove(peer.id);
      }
      await graph.flush();
      node?.setAllowList(memberIds());
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
      await new Promise((resolve) => setTimeout(resolve, 500));
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
      const stream = await active.openStream(peerId, controlProtocol, { timeoutMs: 10_000 });
      const onAbort = (): void => stream.abort(new Error('cancelled'));
      channel.signal.addEventListener('abort', onAbort, { once: true });
      try {
        await stream.send(
          encodeJsonMessage({ v: protocolVersion, method: request.method, params: request.params }),
        );
        const pump = (async () => {
          for await (const frame of channel.clientFrames) await stream.send(encodeJsonMessage(frame));
        })();
        pump.catch(() => undefined);
        for await (const message of stream) {
          const frame = decodeJsonMessage(message) as Record<string, unknown>;
          if ('event' in frame) await channel.emit(frame['event'] as JsonObject);
          else if ('result' in frame) return frame['result'] as JsonValue;
          else if ('error' in frame) throw deserializeError(frame['error']);
        }
        throw new MonkError('PEER_UNREACHABLE', `peer ${peerId} closed the call without an answer`);
      } finally {
        channel.signal.removeEventListener('abort', onAbort);
        await stream.close().catch(() => undefined);
      }
    },
  };
}
