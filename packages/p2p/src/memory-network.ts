import { createPrng, MonkError } from '@monk/model';
import { createAllowList } from './allow-list.ts';
import type { AllowList } from './allow-list.ts';
import { createDeadline } from './deadline.ts';
import { createListenerSet } from './listener-set.ts';
import { defaultMaxMessageBytes, defaultRequestTimeoutMs } from './p2p-node.ts';
import type {
  FindPeerOptions,
  HandlerOptions,
  MessageStream,
  OpenStreamOptions,
  P2PNode,
  RequestHandler,
  RequestOptions,
  StreamHandler,
} from './p2p-node.ts';
import { admitPeer, answerRequest, createProtocolRegistry, tooLarge } from './protocol-registry.ts';
import type { ProtocolRegistry } from './protocol-registry.ts';
import { decodeResponse, encodeErrorResponse } from './response-frame.ts';

export interface MemoryNetworkOptions {
  /** Seed of the loss simulation; print it when a randomised test fails. Default: a random seed. */
  readonly seed?: number;
}

export interface MemoryNodeOptions {
  /** Any string; default `mem-<n>`. A node created again with the same id is that peer restarted. */
  readonly peerId?: string;
  /** Nodes with different keys cannot connect, like a wrong pnet key. Default: the network's shared key. */
  readonly networkKey?: Uint8Array;
  readonly allowList?: Iterable<string>;
}

/**
 * An in-process network of {@link P2PNode}s with the same request, stream, connection and allow-list
 * semantics as the libp2p node, plus fault controls for tests of the layers above (membership, graph sync).
 *
 * Differences from libp2p, on purpose: addresses are `/memory/<n>/p2p/<id>` and change on every `start`;
 * a node reaches any started peer by id (as if the DHT always answered); loss drops whole requests or
 * responses (the requester sees `TIMEOUT`), never stream messages, which are reliable like TCP; unlisted
 * peers keep a connection for as long as they like (no admission timeout).
 *
 * @example
 * const network = createMemoryNetwork({ seed: 42 });
 * const a = network.createNode({ peerId: 'a', allowList: ['b'] });
 * const b = network.createNode({ peerId: 'b', allowList: ['a'] });
 * await a.start(); await b.start();
 * b.handle('/monk/echo/1.0.0', async (bytes) => bytes);
 * network.setLoss(0.1); network.partition('a', 'b'); network.heal();
 */
export interface MemoryNetwork {
  readonly seed: number;
  /** A new node, not started. */
  createNode(options?: MemoryNodeOptions): P2PNode;
  /** Cuts all traffic between two peers (both directions) and closes their connection. */
  partition(a: string, b: string): void;
  /** Removes every partition. Connections are not restored until someone dials or requests. */
  heal(): void;
  /** Probability in [0, 1] that a request or a response is lost. */
  setLoss(rate: number): void;
  /** One-way delay of every delivery, in milliseconds. */
  setLatency(ms: number): void;
}

interface Connection {
  readonly ends: readonly [MemoryPeer, MemoryPeer];
  readonly closed: AbortController;
  readonly streams: Set<StreamEnd>;
}

interface MemoryPeer {
  readonly peerId: string;
  readonly networkKey: string;
  readonly allow: AllowList;
  readonly registry: ProtocolRegistry;
  readonly connections: Map<string, Connection>;
  isStarted(): boolean;
  connected(peerId: string): void;
  disconnected(peerId: string): void;
}

interface StreamEnd extends MessageStream {
  receive(message: Uint8Array): void;
  receiveEnd(): void;
  fail(error: MonkError): void;
}

type Schedule = (deliver: () => void) => void;

const memoryAddress = /^\/memory\/(\d+)(?:\/p2p\/([^/]+))?$/;
const sharedKey = 'shared';

export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = createPrng(seed);
  const live = new Map<string, { peer: MemoryPeer; address: string }>();
  const byAddress = new Map<string, MemoryPeer>();
  const partitions = new Set<string>();
  let loss = 0;
  let latency = 0;
  let nextAddress = 1;
  let nextPeer = 1;

  const pairKey = (a: string, b: string): string => (a < b ? `${a}\n${b}` : `${b}\n${a}`);

  // Deliveries on one lane keep their order even when the latency changes in between.
  function createLane(): Schedule {
    let last = 0;
    return (deliver) => {
      const at = Math.max(performance.now() + latency, last);
      last = at;
      const delay = at - performance.now();
      if (delay <= 0) setImmediate(deliver);
      else setTimeout(deliver, delay);
    };
  }

  function closeConnection(connection: Connection): void {
    if (connection.closed.signal.aborted) return;
    connection.closed.abort();
    const [a, b] = connection.ends;
    for (const stream of connection.streams) {
      stream.fail(new MonkError('PEER_UNREACHABLE', `connection between ${a.peerId} and ${b.peerId} closed`));
    }
    if (a.connections.get(b.peerId) === connection) {
      a.connections.delete(b.peerId);
      a.disconnected(b.peerId);
    }
    if (b.connections.get(a.peerId) === connection) {
      b.connections.delete(a.peerId);
      b.disconnected(a.peerId);
    }
  }

  function reachable(from: MemoryPeer, to: MemoryPeer): boolean {
    return (
      to.isStarted() &&
      live.get(to.peerId)?.peer === to &&
      !partitions.has(pairKey(from.peerId, to.peerId)) &&
      from.networkKey === to.networkKey
    );
  }

  async function connect(from: MemoryPeer, to: MemoryPeer): Promise<Connection> {
    await new Promise<void>((resolve) => createLane()(resolve));
    if (!from.isStarted()) throw new MonkError('PEER_UNREACHABLE', `node ${from.peerId} is not started`);
    if (!from.allow.has(to.peerId)) {
      throw new MonkError('NOT_A_MEMBER', `peer ${to.peerId} is not on the allow-list of ${from.peerId}`);
    }
    const existing = from.connections.get(to.peerId);
    if (existing !== undefined) return existing;
    if (!reachable(from, to)) throw new MonkError('PEER_UNREACHABLE', `peer ${to.peerId} is unreachable`);
    if (!to.allow.has(from.peerId) && !to.registry.hasUnlistedProtocols()) {
      throw new MonkError('NOT_A_MEMBER', `peer ${to.peerId} refused ${from.peerId}: not on its allow-list`);
    }
    const connection: Connection = { ends: [from, to], closed: new AbortController(), streams: new Set() };
    from.connections.set(to.peerId, connection);
    to.connections.set(from.peerId, connection);
    from.connected(to.peerId);
    to.connected(from.peerId);
    return connection;
  }

  function target(peerId: string): MemoryPeer {
    const entry = live.get(peerId);
    if (entry === undefined) throw new MonkError('PEER_UNREACHABLE', `peer ${peerId} is not running`);
    return entry.peer;
  }

  function serveRequest(
    to: MemoryPeer,
    request: { from: string; protocol: string; message: Uint8Array },
  ): Promise<Uint8Array> {
    const entry = to.registry.get(request.protocol);
    if (entry?.kind !== 'request') {
      const error = new MonkError('PROTOCOL_ERROR', `peer ${to.peerId} does not serve ${request.protocol}`);
      return Promise.resolve(encodeErrorResponse(error));
    }
    const refusal = admitPeer(entry, { from: request.from, isMember: to.allow.has(request.from) });
    if (refusal !== undefined) return Promise.resolve(encodeErrorResponse(refusal));
    if (request.message.byteLength > entry.maxMessageBytes) {
      return Promise.resolve(encodeErrorResponse(tooLarge(entry, request.message.byteLength)));
    }
    return answerRequest(entry.handler, {
      request: request.message,
      context: { from: request.from, protocol: request.protocol },
    });
  }

  function exchange(
    connection: Connection,
    request: { from: MemoryPeer; to: MemoryPeer; protocol: string; message: Uint8Array },
  ): Promise<Uint8Array> {
    const schedule = createLane();
    return new Promise<Uint8Array>((resolve, reject) => {
      const onClose = (): void => {
        reject(
          new MonkError('PEER_UNREACHABLE', `connection to ${request.to.peerId} closed during the request`),
        );
      };
      connection.closed.signal.addEventListener('abort', onClose, { once: true });
      const finish = (frame: Uint8Array): void => {
        connection.closed.signal.removeEventListener('abort', onClose);
        resolve(frame);
      };
      if (random() < loss) return;
      schedule(() => {
        if (connection.closed.signal.aborted) return;
        void serveRequest(request.to, {
          from: request.from.peerId,
          protocol: request.protocol,
          message: request.message,
        }).then((frame) => {
          if (random() < loss) return;
          schedule(() => {
            if (!connection.closed.signal.aborted) finish(frame);
          });
        });
      });
    });
  }

  function createStreamEnd(init: {
    readonly peerId: string;
    readonly protocol: string;
    readonly maxMessageBytes: number;
    readonly connection: Connection;
    readonly other: () => StreamEnd;
  }): StreamEnd {
    const schedule = createLane();
    const queue: Uint8Array[] = [];
    let ended = false;
    let writeClosed = false;
    let failure: MonkError | undefined;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const resume = wake;
      wake = undefined;
      resume?.();
    };
    const end: StreamEnd = {
      peerId: init.peerId,
      protocol: init.protocol,
      receive(message) {
        if (ended || failure !== undefined) return;
        if (message.byteLength > init.maxMessageBytes) {
          end.fail(
            new MonkError(
              'MESSAGE_TOO_LARGE',
              `message on ${init.protocol} from ${init.peerId} exceeds ${String(init.maxMessageBytes)} bytes`,
            ),
          );
          const other = init.other();
          schedule(() => other.fail(new MonkError('PEER_UNREACHABLE', `stream ${init.protocol} was reset`)));
          return;
        }
        queue.push(message);
        notify();
      },
      receiveEnd() {
        ended = true;
        notify();
      },
      fail(error) {
        if (failure === undefined && !ended) failure = error;
        writeClosed = true;
        init.connection.streams.delete(end);
        notify();
      },
      send(message) {
        if (failure !== undefined) return Promise.reject(failure);
        if (writeClosed) {
          return Promise.reject(
            new MonkError('PEER_UNREACHABLE', `stream ${init.protocol} is closed for writing`),
          );
        }
        if (message.byteLength > init.maxMessageBytes) {
          return Promise.reject(
            new MonkError('MESSAGE_TOO_LARGE', `message exceeds ${String(init.maxMessageBytes)} bytes`),
          );
        }
        const copy = message.slice();
        const other = init.other();
        schedule(() => {
          if (!init.connection.closed.signal.aborted) other.receive(copy);
        });
        return Promise.resolve();
      },
      close() {
        if (!writeClosed) {
          writeClosed = true;
          const other = init.other();
          schedule(() => {
            if (!init.connection.closed.signal.aborted) other.receiveEnd();
          });
        }
        return Promise.resolve();
      },
      abort() {
        if (ended && writeClosed) return;
        ended = true;
        writeClosed = true;
        queue.length = 0;
        init.connection.streams.delete(end);
        notify();
        const other = init.other();
        schedule(() => other.fail(new MonkError('PEER_UNREACHABLE', `stream ${init.protocol} was reset`)));
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          if (failure !== undefined) throw failure;
          if (ended) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
    };
    init.connection.streams.add(end);
    return end;
  }

  async function runStreamHandler(handler: StreamHandler, stream: StreamEnd): Promise<void> {
    try {
      await handler(stream, { from: stream.peerId, protocol: stream.protocol });
      await stream.close();
    } catch {
      stream.abort();
    }
  }

  function negotiateStream(
    connection: Connection,
    open: { from: MemoryPeer; to: MemoryPeer; protocol: string; maxMessageBytes: number },
  ): Promise<StreamEnd> {
    const schedule = createLane();
    return new Promise<StreamEnd>((resolve, reject) => {
      schedule(() => {
        if (connection.closed.signal.aborted) {
          reject(new MonkError('PEER_UNREACHABLE', `connection to ${open.to.peerId} closed`));
          return;
        }
        const entry = open.to.registry.get(open.protocol);
        if (entry?.kind !== 'stream') {
          reject(new MonkError('PROTOCOL_ERROR', `peer ${open.to.peerId} does not serve ${open.protocol}`));
          return;
        }
        const refusal = admitPeer(entry, {
          from: open.from.peerId,
          isMember: open.to.allow.has(open.from.peerId),
        });
        if (refusal !== undefined) {
          reject(refusal);
          return;
        }
        const local = createStreamEnd({
          peerId: open.to.peerId,
          protocol: open.protocol,
          maxMessageBytes: open.maxMessageBytes,
          connection,
          other: () => remote,
        });
        const remote = createStreamEnd({
          peerId: open.from.peerId,
          protocol: open.protocol,
          maxMessageBytes: entry.maxMessageBytes,
          connection,
          other: () => local,
        });
        void runStreamHandler(entry.handler, remote);
        schedule(() => resolve(local));
      });
    });
  }

  function createNode(nodeOptions: MemoryNodeOptions = {}): P2PNode {
    const peerId = nodeOptions.peerId ?? `mem-${String(nextPeer++)}`;
    const networkKey =
      nodeOptions.networkKey === undefined ? sharedKey : Buffer.from(nodeOptions.networkKey).toString('hex');
    const allow = createAllowList({ self: peerId, initial: nodeOptions.allowList ?? [] });
    const registry = createProtocolRegistry();
    const connections = new Map<string, Connection>();
    const addressBook = new Map<string, Set<string>>();
    const rethrow = (error: unknown): void => {
      setImmediate(() => {
        throw error;
      });
    };
    const connectedListeners = createListenerSet<string>(rethrow);
    const disconnectedListeners = createListenerSet<string>(rethrow);
    let address: string | undefined;

    const peer: MemoryPeer = {
      peerId,
      networkKey,
      allow,
      registry,
      connections,
      isStarted: () => address !== undefined,
      connected: (remote) => connectedListeners.emit(remote),
      disconnected: (remote) => disconnectedListeners.emit(remote),
    };

    function assertStarted(): void {
      if (address === undefined) throw new MonkError('PEER_UNREACHABLE', `node ${peerId} is not started`);
    }

    const node: P2PNode = {
      peerId,
      addresses: () => (address === undefined ? [] : [address]),
      start() {
        if (address !== undefined) return Promise.resolve();
        const slot = String(nextAddress++);
        address = `/memory/${slot}/p2p/${peerId}`;
        byAddress.set(slot, peer);
        live.set(peerId, { peer, address });
        return Promise.resolve();
      },
      stop() {
        if (address === undefined) return Promise.resolve();
        address = undefined;
        for (const connection of [...connections.values()]) closeConnection(connection);
        for (const [slot, owner] of byAddress) if (owner === peer) byAddress.delete(slot);
        if (live.get(peerId)?.peer === peer) live.delete(peerId);
        return Promise.resolve();
      },
      async dial(dialled) {
        assertStarted();
        const match = memoryAddress.exec(dialled);
        if (match === null) throw new MonkError('INVALID_REQUEST', `not a memory address: ${dialled}`);
        const expected = match[2];
        if (expected !== undefined && !allow.has(expected)) {
          throw new MonkError('NOT_A_MEMBER', `peer ${expected} is not on the allow-list of ${peerId}`);
        }
        const remote = byAddress.get(match[1] ?? '');
        if (remote === undefined || (expected !== undefined && remote.peerId !== expected)) {
          throw new MonkError('PEER_UNREACHABLE', `nothing listens on ${dialled}`);
        }
        await connect(peer, remote);
        return remote.peerId;
      },
      hangUp(remote) {
        const connection = connections.get(remote);
        if (connection !== undefined) closeConnection(connection);
        return Promise.resolve();
      },
      connectedPeers: () => [...connections.keys()].sort(),
      onPeerConnected: (listener) => connectedListeners.add(listener),
      onPeerDisconnected: (listener) => disconnectedListeners.add(listener),
      handle(protocol, handler: RequestHandler, handlerOptions: HandlerOptions = {}) {
        registry.add(protocol, { kind: 'request', handler }, handlerOptions);
      },
      handleStream(protocol, handler: StreamHandler, handlerOptions: HandlerOptions = {}) {
        registry.add(protocol, { kind: 'stream', handler }, handlerOptions);
      },
      unhandle: (protocol) => registry.remove(protocol),
      // eslint-disable-next-line max-params -- the P2PNode.request signature is a contract shared with membership
      async request(remote, protocol, message, requestOptions: RequestOptions = {}) {
        assertStarted();
        if (!allow.has(remote)) {
          throw new MonkError('NOT_A_MEMBER', `peer ${remote} is not on the allow-list of ${peerId}`);
        }
        using deadline = createDeadline({
          timeoutMs: requestOptions.timeoutMs ?? defaultRequestTimeoutMs,
          signal: requestOptions.signal,
          what: `request ${protocol} to ${remote}`,
        });
        const to = target(remote);
        const connection = await deadline.race(connect(peer, to));
        const frame = await deadline.race(
          exchange(connection, { from: peer, to, protocol, message: message.slice() }),
        );
        const maxResponseBytes = requestOptions.maxResponseBytes ?? defaultMaxMessageBytes;
        if (frame.byteLength - 1 > maxResponseBytes) {
          throw new MonkError(
            'MESSAGE_TOO_LARGE',
            `response from ${remote} exceeds ${String(maxResponseBytes)} bytes`,
          );
        }
        return decodeResponse(frame, `${remote} on ${protocol}`);
      },
      async openStream(remote, protocol, streamOptions: OpenStreamOptions = {}) {
        assertStarted();
        if (!allow.has(remote)) {
          throw new MonkError('NOT_A_MEMBER', `peer ${remote} is not on the allow-list of ${peerId}`);
        }
        using deadline = createDeadline({
          timeoutMs: streamOptions.timeoutMs ?? defaultRequestTimeoutMs,
          signal: streamOptions.signal,
          what: `opening ${protocol} to ${remote}`,
        });
        const to = target(remote);
        const connection = await deadline.race(connect(peer, to));
        return deadline.race(
          negotiateStream(connection, {
            from: peer,
            to,
            protocol,
            maxMessageBytes: streamOptions.maxMessageBytes ?? defaultMaxMessageBytes,
          }),
        );
      },
      findPeer(remote, _findOptions: FindPeerOptions = {}) {
        assertStarted();
        const entry = live.get(remote);
        if (entry !== undefined && reachable(peer, entry.peer)) return Promise.resolve([entry.address]);
        const known = addressBook.get(remote);
        if (known !== undefined && known.size > 0) return Promise.resolve([...known]);
        return Promise.reject(new MonkError('PEER_NOT_FOUND', `no address known for peer ${remote}`));
      },
      addPeerAddresses(remote, addresses) {
        const known = addressBook.get(remote) ?? new Set<string>();
        for (const candidate of addresses) if (memoryAddress.test(candidate)) known.add(candidate);
        addressBook.set(remote, known);
        return Promise.resolve();
      },
      setAllowList(peerIds) {
        for (const removed of allow.replace(peerIds)) {
          const connection = connections.get(removed);
          if (connection !== undefined) closeConnection(connection);
        }
      },
      allowList: () => allow.list(),
    };
    return node;
  }

  return {
    seed,
    createNode,
    partition(a, b) {
      partitions.add(pairKey(a, b));
      const connection = live.get(a)?.peer.connections.get(b);
      if (connection !== undefined) closeConnection(connection);
    },
    heal: () => partitions.clear(),
    setLoss(rate) {
      if (!(rate >= 0 && rate <= 1))
        throw new MonkError('INVALID_REQUEST', `loss rate must be in [0, 1]: ${rate}`);
      loss = rate;
    },
    setLatency(ms) {
      if (!(ms >= 0)) throw new MonkError('INVALID_REQUEST', `latency must be >= 0 ms: ${ms}`);
      latency = ms;
    },
  };
}
