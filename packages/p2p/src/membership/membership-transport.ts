/** Options of one membership request. */
export interface MembershipRequestOptions {
  /** Give up after this many milliseconds; the promise then rejects (MonkError `TIMEOUT`). */
  readonly timeoutMs?: number;
  /** Aborts the request; the promise then rejects (MonkError `CANCELLED`). */
  readonly signal?: AbortSignal;
}

/** Who sent a request, as the transport authenticated it. */
export interface MembershipRequestContext {
  readonly from: string;
  readonly protocol: string;
}

/**
 * The narrow request/response transport that membership needs, in monk's own types. The libp2p node and its
 * in-memory twin implement it; membership never sees libp2p.
 *
 * @example
 * transport.handle('/monk/membership/1.0.0', async (request, { from }) => answer(request, from));
 * const response = await transport.request(peerId, '/monk/membership/1.0.0', bytes, { timeoutMs: 200 });
 */
export interface MembershipTransport {
  /** This peer's id, as other peers address it. */
  readonly peerId: string;
  /**
   * Sends one request to `peerId` and resolves with its response. Rejects with a MonkError (`TIMEOUT`,
   * `PEER_UNREACHABLE`, `CANCELLED`, `PROTOCOL_ERROR`, ...) when no response arrives; never hangs past
   * `timeoutMs` when it is given.
   */
  request(
    peerId: string,
    protocol: string,
    message: Uint8Array,
    options?: MembershipRequestOptions,
  ): Promise<Uint8Array>;
  /**
   * Serves `protocol`: each request is passed to `handler` and its result is the response. A rejecting
   * handler makes the caller's request reject. Registering the same protocol again replaces the handler.
   */
  handle(
    protocol: string,
    handler: (request: Uint8Array, context: MembershipRequestContext) => Promise<Uint8Array>,
  ): void;
}
