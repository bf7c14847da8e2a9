import { z } from 'zod';
import { MonkError, toMonkError } from '@monk/model';
import type { RequestFrame } from './protocol.ts';
import type { FrameChannel } from './transport.ts';

/**
 * libp2p protocols between monk peers and operator machines. Every message is one UTF-8 JSON document.
 *
 * - `controlProtocol`: a stream carrying exactly the frames of the unix-socket control protocol (the first
 *   message is the request frame, then `{ event }`… and a final `{ result }` / `{ error }`; the client
 *   may send `{ stdin }` frames). Any member (peer or operator) may open it.
 * - `joinProtocol`: one request/response, reachable by a newcomer that holds the network key but is not
 *   on the allow-list yet. The newcomer presents the token's secret; the peer that issued the token
 *   checks it (single use, not expired), records the newcomer as a member, and answers with the cluster.
 */
export const controlProtocol = '/monk/control/1.0.0';
export const joinProtocol = '/monk/join/1.0.0';

export const joinRequestSchema = z.object({
  v: z.literal(1),
  /** The one-time secret carried by the join token. */
  secret: z.string().min(16),
  name: z.string().min(1).max(63),
  role: z.enum(['peer', 'operator']),
  /** Where the newcomer can be reached (empty for operators). */
  addresses: z.array(z.string()),
  tags: z.array(z.string()).default([]),
});
export type JoinRequest = z.infer<typeof joinRequestSchema>;

export const joinResponseSchema = z.object({
  v: z.literal(1),
  clusterId: z.string(),
  clusterName: z.string(),
  /** Every member the newcomer can dial, the issuing peer first. */
  peers: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      role: z.enum(['peer', 'operator']),
      addresses: z.array(z.string()),
    }),
  ),
  /** The cluster's secrets key (base64url), so secrets stay readable on every peer. Absent for operators. */
  secretsKey: z.string().optional(),
});
export type JoinResponse = z.infer<typeof joinResponseSchema>;

/** Encodes a JSON message for a libp2p stream or request. */
export function encodeJsonMessage(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Decodes a JSON message; a malformed one throws SyntaxError (callers answer PROTOCOL_ERROR). */
export function decodeJsonMessage(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The problems a peer tells the others about in its membership meta (see `PeerEntry.problems`). */
export const peerProblemsSchema = z
  .array(z.object({ code: z.string().max(64), message: z.string().max(2000) }))
  .max(16);

/** What the join client needs of a libp2p node; `@monk/p2p`'s `P2PNode` fits. */
export interface JoinClientNode {
  /** Connects to an address and returns the remote peer id; throws a MonkError when it cannot. */
  dial(address: string, options: { readonly timeoutMs: number }): Promise<string>;
  request(
    peerId: string,
    protocol: string,
    message: Uint8Array,
    options: { readonly timeoutMs: number },
  ): Promise<Uint8Array>;
}

export interface RequestJoinOptions {
  /** A started node holding the token's network key, with the token's peers on its allow-list. */
  readonly node: JoinClientNode;
  /** The parsed join token: where to dial, and which cluster must answer. */
  readonly token: {
    readonly clusterId: string;
    readonly clusterName: string;
    readonly addresses: readonly string[];
  };
  readonly request: JoinRequest;
  /** Deadline of each dial. */
  readonly dialTimeoutMs: number;
  /** Deadline of the join request once a peer is dialled. */
  readonly requestTimeoutMs: number;
}

/**
 * The one client of {@link joinProtocol}, for a peer (`monk cluster join`, in monkd) and an operator
 * (`monk cluster switch`, in the CLI) alike: dials the token's addresses in order and sends the join
 * request to the first that answers. An address that cannot be dialled, or whose request times out, is
 * cut or finds no cluster member, is skipped; any other answer (a refused token above all) is final, since
 * only the issuing peer can redeem the token.
 *
 * Throws the issuer's `JOIN_TOKEN_INVALID`/`_EXPIRED`/`_USED` (or any other error it answers with),
 * `PROTOCOL_ERROR` for a malformed answer or one from another cluster than the token's, and
 * `PEER_UNREACHABLE` naming every address tried when none answered.
 *
 * @example
 * const response = await requestJoin({
 *   node, token, dialTimeoutMs: 5_000, requestTimeoutMs: 15_000,
 *   request: { v: 1, secret: token.secret, name: 'host-b', role: 'peer', addresses: node.addresses(), tags: [] },
 * });
 */
export async function requestJoin(options: RequestJoinOptions): Promise<JoinResponse> {
  const { node, token, request } = options;
  const failures: string[] = [];
  for (const address of token.addresses) {
    let bytes: Uint8Array;
    let peerId: string;
    try {
      peerId = await node.dial(address, { timeoutMs: options.dialTimeoutMs });
    } catch (error) {
      const monkError = toMonkError(error);
      failures.push(`${address} (${monkError.code}: ${monkError.message})`);
      continue;
    }
    try {
      bytes = await node.request(peerId, joinProtocol, encodeJsonMessage(request), {
        timeoutMs: options.requestTimeoutMs,
      });
    } catch (error) {
      const monkError = toMonkError(error);
      if (!skippable.has(monkError.code)) throw monkError;
      failures.push(`${address} (${monkError.code}: ${monkError.message})`);
      continue;
    }
    let value: unknown;
    try {
      value = decodeJsonMessage(bytes);
    } catch (cause) {
      throw new MonkError('PROTOCOL_ERROR', `peer ${peerId} answered the join with malformed JSON`, {
        cause,
      });
    }
    const parsed = joinResponseSchema.safeParse(value);
    if (!parsed.success) {
      throw new MonkError(
        'PROTOCOL_ERROR',
        `peer ${peerId} answered the join with an unexpected message: ${parsed.error.message}`,
      );
    }
    if (parsed.data.clusterId !== token.clusterId) {
      throw new MonkError(
        'PROTOCOL_ERROR',
        `peer ${peerId} answered for cluster ${parsed.data.clusterId}, not ${token.clusterId} of the token`,
      );
    }
    return parsed.data;
  }
  throw new MonkError(
    'PEER_UNREACHABLE',
    token.addresses.length === 0
      ? `the join token of cluster ${token.clusterName} names no address to dial`
      : `no peer of cluster ${token.clusterName} answered; tried ${failures.join('; ')}`,
  );
}

/** Failures of one address that say nothing about the token: the next address may still answer. */
const skippable = new Set(['PEER_UNREACHABLE', 'TIMEOUT', 'NOT_A_MEMBER', 'NETWORK_ERROR']);

/** What the control client needs of a libp2p stream; `@monk/p2p`'s `MessageStream` fits. */
export interface ControlStream extends AsyncIterable<Uint8Array> {
  /** The remote peer id, for error messages. */
  readonly peerId: string;
  send(message: Uint8Array): Promise<void>;
  /** Ends the local side gracefully. */
  close(): Promise<void>;
  /** Resets the stream both ways. */
  abort(reason?: Error): void;
}

/**
 * The one client of {@link controlProtocol}, for an operator's CLI and for a peer forwarding a call to
 * the peer that owns an instance: sends the request frame on a freshly opened stream and returns the
 * answers as a {@link FrameChannel}, exactly as the unix-socket transport does. Closing the channel
 * closes the stream (resets it while the final `{ result }` or `{ error }` is still due) and then calls
 * `onClose`.
 *
 * Iteration throws `PROTOCOL_ERROR` on a frame that is not a JSON object and the stream's own errors
 * (`PEER_UNREACHABLE` on a reset); after `close` it just ends.
 *
 * @example
 * const stream = await node.openStream(peer, controlProtocol, { timeoutMs: 5_000 });
 * const channel = await openControlChannel(stream, { v: protocolVersion, method: 'ps', params: {} });
 * for await (const frame of channel) if ('result' in frame) console.log(frame.result);
 * channel.close();
 */
export async function openControlChannel(
  stream: ControlStream,
  request: RequestFrame,
  options: { readonly onClose?: () => void } = {},
): Promise<FrameChannel> {
  await stream.send(encodeJsonMessage(request));
  let closed = false;
  let ended = false;
  let answered = false;
  async function* frames(): AsyncGenerator<Record<string, unknown>> {
    try {
      for await (const message of stream) {
        let value: unknown;
        try {
          value = decodeJsonMessage(message);
        } catch (cause) {
          throw new MonkError('PROTOCOL_ERROR', `malformed frame from ${stream.peerId}`, { cause });
        }
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          throw new MonkError('PROTOCOL_ERROR', `malformed frame from ${stream.peerId}: not a JSON object`);
        }
        if ('result' in value || 'error' in value) answered = true;
        yield value as Record<string, unknown>;
      }
      ended = true;
    } catch (error) {
      // Closing the channel resets the stream; the reader then just ends, like a destroyed socket.
      if (!closed) throw error;
    }
  }
  const iterator = frames();
  return {
    [Symbol.asyncIterator]: () => iterator,
    send: (frame) => stream.send(encodeJsonMessage(frame)),
    close: () => {
      if (closed) return;
      closed = true;
      if (ended || answered) void stream.close().catch(() => undefined);
      else stream.abort();
      options.onClose?.();
    },
  };
}
