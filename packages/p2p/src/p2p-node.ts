/**
 * Who sent a message and on which protocol. `from` is the remote peer id as a string.
 */
export interface MessageHandlerContext {
  readonly from: string;
  readonly protocol: string;
}

/**
 * Per-protocol limits and admission of a handler registered with {@link P2PNode.handle} or
 * {@link P2PNode.handleStream}.
 */
export interface HandlerOptions {
  /**
   * Largest request (or stream message) accepted, in bytes. A larger request is answered with a
   * `MESSAGE_TOO_LARGE` error frame and the connection stays usable. Default {@link defaultMaxMessageBytes}.
   */
  readonly maxMessageBytes?: number;
  /**
   * Requests (or stream opens) accepted per second from one peer, with a burst of the same size. Extra
   * requests are answered with `RATE_LIMITED`. Default {@link defaultMaxRequestsPerSecondPerPeer}.
   */
  readonly maxRequestsPerSecondPerPeer?: number;
  /**
   * When true, peers that hold the network key but are not on the allow-list may open this protocol
   * (and only the protocols marked so). Use it for exactly one join protocol. Default false.
   */
  readonly allowUnlisted?: boolean;
}

/** Default {@link HandlerOptions.maxMessageBytes}: 4 MiB (a full graph snapshot of ~10k entries fits). */
export const defaultMaxMessageBytes = 4 * 1024 * 1024;
/** Default {@link HandlerOptions.maxRequestsPerSecondPerPeer}. */
export const defaultMaxRequestsPerSecondPerPeer = 1000;
/** Default {@link RequestOptions.timeoutMs}. */
export const defaultRequestTimeoutMs = 10_000;

/** Answers one request; a thrown MonkError travels back to the requester with its code. */
export type RequestHandler = (request: Uint8Array, context: MessageHandlerContext) => Promise<Uint8Array>;

/** Serves one long-lived stream; the stream is closed when the returned promise settles. */
export type StreamHandler = (stream: MessageStream, context: MessageHandlerContext) => Promise<void>;

export interface RequestOptions {
  /** Whole request deadline (dial, send, answer). Default {@link defaultRequestTimeoutMs}. Fails with `TIMEOUT`. */
  readonly timeoutMs?: number;
  /** Aborting fails the request with `CANCELLED`. */
  readonly signal?: AbortSignal;
  /** Largest response accepted, in bytes. Default {@link defaultMaxMessageBytes}. */
  readonly maxResponseBytes?: number;
}

export interface OpenStreamOptions {
  /** Deadline for dialling and negotiating the stream (not its lifetime). Fails with `TIMEOUT`. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Largest message read from or written to the stream. Default {@link defaultMaxMessageBytes}. */
  readonly maxMessageBytes?: number;
}

export interface FindPeerOptions {
  /** Deadline of the DHT query. Default {@link defaultRequestTimeoutMs}. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * A message-framed, bidirectional stream to one peer. Iterate it to read messages until the remote closes its
 * side; `send` one message at a time; `close` ends the local side (reading can continue).
 *
 * Iteration throws `MESSAGE_TOO_LARGE` when the remote sends a message over the limit, `PROTOCOL_ERROR` on a
 * malformed frame and `PEER_UNREACHABLE` when the stream is reset.
 *
 * @example
 * const stream = await node.openStream(peer, '/monk/logs/1.0.0');
 * await stream.send(new TextEncoder().encode('tail web-1'));
 * for await (const line of stream) process.stdout.write(line);
 */
export interface MessageStream extends AsyncIterable<Uint8Array> {
  /** The remote peer id. */
  readonly peerId: string;
  readonly protocol: string;
  /** Sends one message; throws `MESSAGE_TOO_LARGE` over the limit and `PEER_UNREACHABLE` on a dead stream. */
  send(message: Uint8Array): Promise<void>;
  /** Closes the writing side gracefully; the remote's iteration ends after the messages already sent. */
  close(): Promise<void>;
  /** Resets the stream in both directions at once. */
  abort(reason?: Error): void;
}

/**
 * One node of the monk peer-to-peer network: TCP + noise + yamux under a private-network key, with an
 * allow-list of member peer ids. Peers are string ids; addresses are multiaddr strings. The real node comes
 * from {@link createP2PNode}; its in-memory twin from `createMemoryNetwork().createNode(...)`.
 *
 * Errors are MonkErrors: `NOT_A_MEMBER` (the remote or we refuse the peer), `PEER_UNREACHABLE` (no route,
 * wrong network key, reset), `TIMEOUT`, `CANCELLED`, `MESSAGE_TOO_LARGE`, `RATE_LIMITED`, `PROTOCOL_ERROR`,
 * `PEER_NOT_FOUND`, or whatever code the remote handler threw.
 *
 * @example
 * node.handle('/monk/echo/1.0.0', async (request) => request);
 * const answer = await other.request(node.peerId, '/monk/echo/1.0.0', bytes, { timeoutMs: 2000 });
 */
export interface P2PNode {
  readonly peerId: string;
  /** Addresses others can dial, each ending in `/p2p/<peerId>`. Empty before `start`. */
  addresses(): string[];
  start(): Promise<void>;
  /** Stops listening and closes every connection. Idempotent. */
  stop(): Promise<void>;
  /**
   * Connects to an address (with or without `/p2p/<id>`) and returns the remote peer id. Throws
   * `NOT_A_MEMBER` when either side's allow-list refuses the other, `PEER_UNREACHABLE` otherwise.
   */
  dial(address: string, options?: OpenStreamOptions): Promise<string>;
  /** Closes every connection to a peer (it may reconnect if still allowed). */
  hangUp(peerId: string): Promise<void>;
  /** Peers with at least one open connection, sorted. */
  connectedPeers(): string[];
  /** Called once when the first connection to a peer opens. Returns an unsubscribe function. */
  onPeerConnected(listener: (peerId: string) => void): () => void;
  /** Called once when the last connection to a peer closes. Returns an unsubscribe function. */
  onPeerDisconnected(listener: (peerId: string) => void): () => void;
  /** Serves one request/response protocol; registering a protocol again replaces its handler. */
  handle(protocol: string, handler: RequestHandler, options?: HandlerOptions): void;
  /** Serves a long-lived stream protocol; registering a protocol again replaces its handler. */
  handleStream(protocol: string, handler: StreamHandler, options?: HandlerOptions): void;
  /** Removes a request or stream handler. */
  unhandle(protocol: string): void;
  /**
   * Sends one request and waits for its response, dialling the peer from known addresses if needed. A
   * handler's MonkError is rethrown here with the same code.
   */
  request(
    peerId: string,
    protocol: string,
    message: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array>;
  /** Opens a long-lived stream served by the remote's {@link P2PNode.handleStream}. */
  openStream(peerId: string, protocol: string, options?: OpenStreamOptions): Promise<MessageStream>;
  /**
   * Current addresses of a peer: from the DHT first (fresh after the peer moved), then from what this node
   * already knows. Throws `PEER_NOT_FOUND` when neither knows it.
   */
  findPeer(peerId: string, options?: FindPeerOptions): Promise<string[]>;
  /** Teaches the node addresses of a peer (e.g. from the graph's peer records). Invalid addresses are skipped. */
  addPeerAddresses(peerId: string, addresses: readonly string[]): Promise<void>;
  /**
   * Replaces the allow-list. The node's own id is always allowed. Peers removed from it are disconnected at
   * once and refused from then on; peers added may connect immediately.
   */
  setAllowList(peerIds: Iterable<string>): void;
  /** The current allow-list, sorted. */
  allowList(): string[];
}
