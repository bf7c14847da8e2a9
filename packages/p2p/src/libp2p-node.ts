import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify, identifyPush } from '@libp2p/identify';
import type {
  Connection,
  PeerId,
  PeerInfo,
  Startable,
  Stream,
  StreamHandler as Libp2pStreamHandler,
  StreamHandlerRecord,
  StreamHandlerOptions,
} from '@libp2p/interface';
import { kadDHT } from '@libp2p/kad-dht';
import { ping } from '@libp2p/ping';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { MonkError } from '@monk/model';
import { createLibp2p } from 'libp2p';
import { createAllowList } from './allow-list.ts';
import { createDeadline } from './deadline.ts';
import { translateLibp2pError } from './libp2p-errors.ts';
import { acceptStream, exchangeRequest, serveRequestStream, toMessageStream } from './libp2p-streams.ts';
import { createListenerSet } from './listener-set.ts';
import { privateNetwork } from './private-network.ts';
import { defaultMaxMessageBytes, defaultRequestTimeoutMs } from './p2p-node.ts';
import type { HandlerOptions, MessageStream, P2PNode, RequestHandler, StreamHandler } from './p2p-node.ts';
import { silentLogger } from './p2p-logger.ts';
import type { P2PLogger } from './p2p-logger.ts';
import { privateKeyOf } from './peer-identity.ts';
import type { PeerIdentity } from './peer-identity.ts';
import { admitPeer, createProtocolRegistry } from './protocol-registry.ts';
import type { ProtocolEntry } from './protocol-registry.ts';

/** Options of {@link createP2PNode}. */
export interface P2PNodeOptions {
  readonly identity: PeerIdentity;
  /** TCP listen address; monkd uses its `--p2p-port` (default 44001), tests port 0 on 127.0.0.1. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Multiaddrs to advertise instead of the listen addresses (public IP behind NAT). */
  readonly announce?: readonly string[];
  /** The cluster's 32-byte private-network key; peers without it cannot complete a handshake. */
  readonly networkKey: Uint8Array;
  /** Member peer ids allowed to connect; replace it live with `setAllowList`. */
  readonly allowList: Iterable<string>;
  /** Prefix of monk's own libp2p protocols (kad, identify, ping, admission). Default `/monk`. */
  readonly protocolPrefix?: string;
  /** Addresses dialled in the background after `start` (failures are logged, not thrown). */
  readonly bootstrap?: readonly string[];
  /**
   * How long a peer that is not on the allow-list (a newcomer holding the network key) may stay connected
   * to use the `allowUnlisted` protocols before it is disconnected. Default 30 s.
   */
  readonly admissionTimeoutMs?: number;
  /** At most this many such newcomers connected at once; more are refused by the gater. Default 16. */
  readonly maxUnlistedPeers?: number;
}

export interface P2PNodeComponents {
  readonly logger?: P2PLogger;
}

// The registrar as the admission guard needs it (libp2p's Registrar type lives in an internal package).
interface GuardRegistrar {
  getProtocols(): string[];
  getHandler(protocol: string): StreamHandlerRecord;
  handle(protocol: string, handler: Libp2pStreamHandler, options?: StreamHandlerOptions): Promise<void>;
}

const requestReadTimeoutMs = 30_000;
// Concurrent streams of one protocol on one connection (libp2p's default of 32 in, 64 out is too few for
// bursts of membership probes and graph sync); the per-peer rate limit bounds the work behind them.
const maxStreamsPerProtocol = 1024;

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '' || trimmed.includes('/')) {
    throw new MonkError('INVALID_REQUEST', `protocol prefix must be one path segment, got ${prefix}`);
  }
  return trimmed;
}

function listenAddress(listen: P2PNodeOptions['listen']): string {
  const family = listen.host.includes(':') ? 'ip6' : 'ip4';
  return `/${family}/${listen.host}/tcp/${String(listen.port)}`;
}

function parseAddress(address: string): Multiaddr {
  try {
    return multiaddr(address);
  } catch (cause) {
    throw new MonkError('INVALID_REQUEST', `not a multiaddr: ${address}`, { cause });
  }
}

function parsePeerId(peerId: string): PeerId {
  try {
    return peerIdFromString(peerId);
  } catch (cause) {
    throw new MonkError('INVALID_REQUEST', `not a peer id: ${peerId}`, { cause });
  }
}

function withPeerId(address: string, peerId: string): string {
  return address.includes('/p2p/') ? address : `${address}/p2p/${peerId}`;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Creates (not starts) the libp2p node of a monk peer: TCP, pnet with the cluster key, noise, yamux, identify,
 * ping and a private kad-dht under `/monk/kad/1.0.0`, behind a connection gater that reads the live allow-list.
 *
 * Admission: a peer on the allow-list may use everything. A peer holding the network key but not on the list
 * (a newcomer with a join token) is refused by the gater unless this node serves a protocol registered with
 * `allowUnlisted: true`; then it may connect, for at most `admissionTimeoutMs`, and open only those protocols
 * and the admission probe (every other protocol, libp2p's own included, is reset or answered `NOT_A_MEMBER`).
 * When the daemon adds it to the allow-list it becomes a member on the same connection.
 *
 * Throws `INVALID_REQUEST` on a bad option (key length, prefix, address).
 *
 * @example
 * const node = await createP2PNode({
 *   identity: await loadOrCreateIdentity({ file: '/var/lib/monk/identity.json' }),
 *   listen: { host: '0.0.0.0', port: 44001 },
 *   networkKey: decodeNetworkKey(context.networkKey),
 *   allowList: memberIds,
 * }, { logger });
 * await node.start();
 */
export async function createP2PNode(
  options: P2PNodeOptions,
  components: P2PNodeComponents = {},
): Promise<P2PNode> {
  const logger = components.logger ?? silentLogger;
  const prefix = normalizePrefix(options.protocolPrefix ?? '/monk');
  const admissionProtocol = `/${prefix}/admission/1.0.0`;
  const admissionTimeoutMs = options.admissionTimeoutMs ?? 30_000;
  const maxUnlistedPeers = options.maxUnlistedPeers ?? 16;
  const privateKey = privateKeyOf(options.identity);
  const selfId = options.identity.peerId;
  const allow = createAllowList({ self: selfId, initial: options.allowList });
  const registry = createProtocolRegistry();
  const probation = new Map<string, ReturnType<typeof setTimeout>>();
  const report = (error: unknown): void => logger.error('a peer listener threw', { error: String(error) });
  const connectedListeners = createListenerSet<string>(report);
  const disconnectedListeners = createListenerSet<string>(report);
  let accepting = false;

  const admitsConnection = (peerId: string): boolean =>
    allow.has(peerId) ||
    (accepting &&
      registry.hasUnlistedProtocols() &&
      (probation.has(peerId) || probation.size < maxUnlistedPeers));

  // Wraps libp2p's own handlers (identify, ping, kad) so that only members reach them.
  const admissionGuard =
    () =>
    (guardComponents: { registrar: GuardRegistrar }): Startable => ({
      start: () => undefined,
      stop: () => undefined,
      async afterStart() {
        const { registrar } = guardComponents;
        for (const protocol of registrar.getProtocols()) {
          if (protocol === admissionProtocol || registry.get(protocol) !== undefined) continue;
          const record = registrar.getHandler(protocol);
          const guarded: Libp2pStreamHandler = (stream, connection) => {
            if (!allow.has(connection.remotePeer.toString())) {
              stream.abort(new Error(`peer is not a member: ${protocol} refused`));
              return;
            }
            return record.handler(stream, connection);
          };
          await registrar.handle(protocol, guarded, { ...record.options, force: true });
        }
        accepting = true;
      },
    });

  const onlyMembers = (peer: PeerInfo): PeerInfo =>
    allow.has(peer.id.toString()) ? peer : { ...peer, multiaddrs: [] };

  const node = await createLibp2p({
    privateKey,
    start: false,
    addresses: {
      listen: [listenAddress(options.listen)],
      ...(options.announce === undefined ? {} : { announce: [...options.announce] }),
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // libp2p refuses a host's 6th inbound connection within a second; peers started together on one machine
    // (the local provider, tests) exceed that, and pnet plus the gater already keep strangers out.
    connectionManager: { inboundConnectionThreshold: 50 },
    connectionProtector: privateNetwork({ networkKey: options.networkKey }),
    connectionGater: {
      denyDialPeer: (peerId) => !allow.has(peerId.toString()),
      denyOutboundEncryptedConnection: (peerId) => !allow.has(peerId.toString()),
      denyOutboundUpgradedConnection: (peerId) => !allow.has(peerId.toString()),
      denyInboundEncryptedConnection: (peerId) => !admitsConnection(peerId.toString()),
      denyInboundUpgradedConnection: (peerId) => !admitsConnection(peerId.toString()),
    },
    services: {
      identify: identify({ protocolPrefix: prefix }),
      identifyPush: identifyPush({ protocolPrefix: prefix }),
      ping: ping({ protocolPrefix: prefix }),
      dht: kadDHT({
        protocol: `/${prefix}/kad/1.0.0`,
        clientMode: false,
        peerInfoMapper: onlyMembers,
        initialQuerySelfInterval: 0,
      }),
      admissionGuard: admissionGuard(),
    },
  }).catch((error: unknown) => {
    throw translateLibp2pError(error, { what: 'creating the libp2p node' });
  });

  const endProbation = (peerId: string): void => {
    const timer = probation.get(peerId);
    if (timer !== undefined) clearTimeout(timer);
    probation.delete(peerId);
  };

  node.addEventListener('connection:open', (event) => {
    const peerId = event.detail.remotePeer.toString();
    if (allow.has(peerId) || probation.has(peerId)) return;
    const timer = setTimeout(() => {
      probation.delete(peerId);
      if (allow.has(peerId)) return;
      logger.debug('admission window of an unlisted peer expired', { peerId });
      node.hangUp(event.detail.remotePeer).catch((error: unknown) => {
        logger.warn('could not disconnect an unlisted peer', { peerId, error: String(error) });
      });
    }, admissionTimeoutMs);
    timer.unref();
    probation.set(peerId, timer);
  });
  node.addEventListener('peer:connect', (event) => connectedListeners.emit(event.detail.toString()));
  node.addEventListener('peer:disconnect', (event) => {
    const peerId = event.detail.toString();
    endProbation(peerId);
    disconnectedListeners.emit(peerId);
  });

  // Tells the dialler whether it got in as a member or only as a newcomer; a refused dialler never gets here.
  const serveAdmission: Libp2pStreamHandler = async (stream: Stream, connection: Connection) => {
    const member = allow.has(connection.remotePeer.toString());
    await acceptStream(stream, undefined);
    await stream.close({ signal: AbortSignal.timeout(10_000) }).catch((error: unknown) => {
      stream.abort(toError(error));
    });
    logger.debug('admission probe', { peerId: connection.remotePeer.toString(), member });
  };

  function libp2pHandlerFor(protocol: string): Libp2pStreamHandler {
    return async (stream, connection) => {
      const from = connection.remotePeer.toString();
      const entry: ProtocolEntry | undefined = registry.get(protocol);
      if (entry === undefined) {
        stream.abort(new Error(`${protocol} is no longer served`));
        return;
      }
      const refusal = admitPeer(entry, { from, isMember: allow.has(from) });
      const context = { from, protocol };
      try {
        switch (entry.kind) {
          case 'request':
            await serveRequestStream(stream, {
              handler: entry.handler,
              context,
              maxMessageBytes: entry.maxMessageBytes,
              refusal,
              readTimeoutMs: requestReadTimeoutMs,
              logger,
            });
            return;
          case 'stream': {
            if (!(await acceptStream(stream, refusal))) return;
            const messages = toMessageStream(stream, {
              peerId: from,
              protocol,
              maxMessageBytes: entry.maxMessageBytes,
            });
            await entry.handler(messages, context);
            await messages.close();
            return;
          }
        }
      } catch (error) {
        logger.debug('stream handler failed', { protocol, peerId: from, error: String(error) });
        stream.abort(toError(error));
      }
    };
  }

  function register(protocol: string, entry: ProtocolEntry): void {
    void node
      .handle(protocol, libp2pHandlerFor(protocol), {
        force: true,
        maxInboundStreams: maxStreamsPerProtocol,
        maxOutboundStreams: maxStreamsPerProtocol,
      })
      .catch((error: unknown) =>
        logger.error('could not register a protocol', { protocol, error: String(error) }),
      );
    logger.debug('serving protocol', { protocol, kind: entry.kind, allowUnlisted: entry.allowUnlisted });
  }

  function assertMember(peerId: string): void {
    if (!allow.has(peerId)) {
      throw new MonkError('NOT_A_MEMBER', `peer ${peerId} is not on the allow-list of ${selfId}`);
    }
  }

  function assertStarted(): void {
    if (node.status !== 'started') throw new MonkError('PEER_UNREACHABLE', `node ${selfId} is not started`);
  }

  // Dials when needed and runs the admission probe: with early muxer negotiation a peer whose gater refuses us
  // only shows as a connection that closes at once, so the probe is how a dialler learns it was refused.
  async function connect(target: PeerId | Multiaddr, signal: AbortSignal): Promise<PeerId> {
    const existing = isMultiaddr(target) ? undefined : node.getConnections(target)[0];
    const connection = existing ?? (await node.dial(target, { signal }));
    if (existing !== undefined) return connection.remotePeer;
    try {
      const stream = await connection.newStream(admissionProtocol, { signal });
      await toMessageStream(stream, {
        peerId: connection.remotePeer.toString(),
        protocol: admissionProtocol,
        maxMessageBytes: 1024,
      }).accepted(signal);
      await stream.close({ signal }).catch(() => undefined);
    } catch (error) {
      if (signal.aborted) throw error;
      throw new MonkError(
        'NOT_A_MEMBER',
        `peer ${connection.remotePeer.toString()} closed the connection after the handshake: ${selfId} is not on its allow-list`,
        { cause: error },
      );
    }
    return connection.remotePeer;
  }

  const p2pNode: P2PNode = {
    peerId: selfId,
    addresses: () => node.getMultiaddrs().map((address) => address.toString()),
    async start() {
      if (node.status === 'started') return;
      try {
        await node.handle(admissionProtocol, serveAdmission, { force: true, maxInboundStreams: 64 });
        await node.start();
      } catch (error) {
        throw translateLibp2pError(error, {
          what: `starting the p2p node on ${listenAddress(options.listen)}`,
        });
      }
      for (const address of options.bootstrap ?? []) {
        p2pNode.dial(address).catch((error: unknown) => {
          logger.warn('could not reach a bootstrap address', { address, error: String(error) });
        });
      }
    },
    async stop() {
      accepting = false;
      for (const peerId of [...probation.keys()]) endProbation(peerId);
      await node.stop();
    },
    async dial(address, dialOptions = {}) {
      assertStarted();
      const target = parseAddress(address);
      const expected = target.getComponents().findLast((component) => component.name === 'p2p')?.value;
      if (expected !== undefined) assertMember(expected);
      using deadline = createDeadline({
        timeoutMs: dialOptions.timeoutMs ?? defaultRequestTimeoutMs,
        signal: dialOptions.signal,
        what: `dialling ${address}`,
      });
      try {
        return (await connect(target, deadline.signal)).toString();
      } catch (error) {
        throw translateLibp2pError(error, { what: `dialling ${address}`, deadline });
      }
    },
    async hangUp(peerId) {
      await node.hangUp(parsePeerId(peerId));
    },
    connectedPeers: () =>
      node
        .getPeers()
        .map((peerId) => peerId.toString())
        .sort(),
    onPeerConnected: (listener) => connectedListeners.add(listener),
    onPeerDisconnected: (listener) => disconnectedListeners.add(listener),
    handle(protocol, handler: RequestHandler, handlerOptions: HandlerOptions = {}) {
      register(protocol, registry.add(protocol, { kind: 'request', handler }, handlerOptions));
    },
    handleStream(protocol, handler: StreamHandler, handlerOptions: HandlerOptions = {}) {
      register(protocol, registry.add(protocol, { kind: 'stream', handler }, handlerOptions));
    },
    unhandle(protocol) {
      registry.remove(protocol);
      node.unhandle(protocol).catch((error: unknown) => {
        logger.warn('could not unregister a protocol', { protocol, error: String(error) });
      });
    },
    // eslint-disable-next-line max-params -- the P2PNode.request signature is a contract shared with membership
    async request(peerId, protocol, message, requestOptions = {}) {
      assertStarted();
      assertMember(peerId);
      const where = `${protocol} on ${peerId}`;
      using deadline = createDeadline({
        timeoutMs: requestOptions.timeoutMs ?? defaultRequestTimeoutMs,
        signal: requestOptions.signal,
        what: `request ${where}`,
      });
      try {
        const remote = await connect(parsePeerId(peerId), deadline.signal);
        const stream = await node.dialProtocol(remote, protocol, {
          signal: deadline.signal,
          maxOutboundStreams: maxStreamsPerProtocol,
        });
        return await deadline.race(
          exchangeRequest(stream, {
            message,
            maxResponseBytes: requestOptions.maxResponseBytes ?? defaultMaxMessageBytes,
            signal: deadline.signal,
            where,
          }),
        );
      } catch (error) {
        throw translateLibp2pError(error, { what: `request ${where}`, deadline });
      }
    },
    async openStream(peerId, protocol, streamOptions = {}): Promise<MessageStream> {
      assertStarted();
      assertMember(peerId);
      const where = `${protocol} on ${peerId}`;
      using deadline = createDeadline({
        timeoutMs: streamOptions.timeoutMs ?? defaultRequestTimeoutMs,
        signal: streamOptions.signal,
        what: `opening ${where}`,
      });
      try {
        const remote = await connect(parsePeerId(peerId), deadline.signal);
        const stream = await node.dialProtocol(remote, protocol, {
          signal: deadline.signal,
          maxOutboundStreams: maxStreamsPerProtocol,
        });
        const messages = toMessageStream(stream, {
          peerId,
          protocol,
          maxMessageBytes: streamOptions.maxMessageBytes ?? defaultMaxMessageBytes,
        });
        await messages.accepted(deadline.signal);
        return messages;
      } catch (error) {
        throw translateLibp2pError(error, { what: `opening ${where}`, deadline });
      }
    },
    async findPeer(peerId, findOptions = {}) {
      assertStarted();
      const target = parsePeerId(peerId);
      using deadline = createDeadline({
        timeoutMs: findOptions.timeoutMs ?? defaultRequestTimeoutMs,
        signal: findOptions.signal,
        what: `finding peer ${peerId}`,
      });
      const found = new Set<string>();
      try {
        for await (const event of node.services.dht.findPeer(target, {
          signal: deadline.signal,
          useCache: false,
        })) {
          if (event.name !== 'FINAL_PEER') continue;
          for (const address of event.peer.multiaddrs) found.add(withPeerId(address.toString(), peerId));
          if (found.size > 0) break;
        }
      } catch (error) {
        const fired = deadline.reason();
        if (fired?.code === 'CANCELLED') throw fired;
        logger.debug('DHT lookup failed, falling back to known addresses', { peerId, error: String(error) });
      }
      if (found.size > 0) {
        await node.peerStore.merge(target, { multiaddrs: [...found].map((address) => multiaddr(address)) });
        return [...found];
      }
      const known = await node.peerStore.get(target).catch(() => undefined);
      const addresses = (known?.addresses ?? []).map((address) =>
        withPeerId(address.multiaddr.toString(), peerId),
      );
      if (addresses.length === 0)
        throw new MonkError('PEER_NOT_FOUND', `no address found for peer ${peerId}`);
      return addresses;
    },
    async addPeerAddresses(peerId, addresses) {
      const target = parsePeerId(peerId);
      const valid: Multiaddr[] = [];
      for (const address of addresses) {
        try {
          valid.push(multiaddr(address));
        } catch {
          logger.warn('skipping an invalid peer address', { peerId, address });
        }
      }
      if (valid.length > 0) await node.peerStore.merge(target, { multiaddrs: valid });
    },
    setAllowList(peerIds) {
      const removed = allow.replace(peerIds);
      for (const peerId of removed) {
        // An id that is not a libp2p peer id can never have connected: nothing to close.
        const target = (() => {
          try {
            return parsePeerId(peerId);
          } catch {
            return undefined;
          }
        })();
        if (target === undefined) continue;
        node.hangUp(target).catch((error: unknown) => {
          logger.warn('could not disconnect a removed peer', { peerId, error: String(error) });
        });
      }
      const promoted = [...probation.keys()].filter((peerId) => allow.has(peerId));
      for (const peerId of promoted) endProbation(peerId);
      // A promoted newcomer could not identify us while unlisted: push our protocols and addresses now.
      if (promoted.length > 0 && node.status === 'started') {
        node.services.identifyPush.push().catch((error: unknown) => {
          logger.debug('identify push failed', { error: String(error) });
        });
      }
    },
    allowList: () => allow.list(),
  };
  return p2pNode;
}
