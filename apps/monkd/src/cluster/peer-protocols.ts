import {
  defaultOperatorAccess,
  deserializeError,
  MonkError,
  type JsonObject,
  type JsonValue,
} from '@monk/model';
import type { Graph } from '@monk/graph';
import type { MessageHandlerContext, MessageStream, P2PNode } from '@monk/p2p';
import {
  controlProtocol,
  decodeJsonMessage,
  encodeJsonMessage,
  openControlChannel,
  protocolVersion,
  type Caller,
  type MethodName,
} from '@monk/sdk';
import { serveFrames } from '../api-server.ts';
import type { CallChannel, ControlService } from '../handlers.ts';
import type { Logger } from '../logger.ts';
import { createAuthorizingService } from './authorizing-service.ts';

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

export interface PeerProtocolsOptions {
  readonly graph: Graph;
  /** A peer a join response named, allowed before its record reaches our replica. */
  readonly isIntroduced: (peerId: string) => boolean;
  /** The control service, once the daemon has built it; calls before then are refused. */
  readonly service: () => ControlService | undefined;
  readonly peerStreams: readonly PeerStreamProtocol[];
  readonly logger: Logger;
}

/**
 * Serves `/monk/control/1.0.0` (the control protocol for operators and forwarding peers, each call
 * authorised by the caller's record in the graph) and the {@link PeerStreamProtocol}s on `node`.
 *
 * @example
 * servePeerProtocols(node, { graph, isIntroduced, service: () => service, peerStreams: [], logger });
 */
export function servePeerProtocols(node: P2PNode, options: PeerProtocolsOptions): void {
  const { graph, isIntroduced, logger } = options;
  node.handleStream(controlProtocol, async (stream) => serveStream(stream));
  for (const served of options.peerStreams) {
    node.handleStream(
      served.protocol,
      (stream, context) =>
        served.handler(stream, {
          ...context,
          isPeer: graph.getPeer(context.from)?.role === 'peer' || isIntroduced(context.from),
        }),
      { maxMessageBytes: served.maxMessageBytes },
    );
  }

  /**
   * Who a caller from the network is, from our replica of the graph: the graph, not anything the caller
   * says, carries an operator's access. Throws `NOT_A_MEMBER` for a peer id the cluster does not know (a
   * removed operator whose connection is still open).
   */
  function callerOf(id: string): Caller {
    const record = graph.getPeer(id);
    // A peer that introduced us when we joined may call before its record reaches our replica.
    if (record === undefined && isIntroduced(id)) return { role: 'peer', id };
    if (record === undefined) throw new MonkError('NOT_A_MEMBER', `${id} is not a member of this cluster`);
    if (record.role === 'peer') return { role: 'peer', id };
    return { role: 'operator', id, name: record.name, access: record.access ?? defaultOperatorAccess };
  }

  async function serveStream(stream: MessageStream): Promise<void> {
    const local = options.service();
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
}

/**
 * Runs a control call on another peer over `/monk/control/1.0.0` (`@monk/sdk`'s control client, the one
 * operators use), relaying its events to `channel` and the caller's frames (stdin) to it. Aborting the
 * channel resets the stream. Throws the remote's error with its code, or `PEER_UNREACHABLE` when the
 * stream ends without an answer.
 */
export async function forwardCall(
  node: P2PNode,
  peerId: string,
  call: { request: { method: MethodName; params: JsonObject }; channel: CallChannel },
): Promise<JsonValue> {
  const { request, channel } = call;
  const stream = await node.openStream(peerId, controlProtocol, { timeoutMs: 10_000 });
  const remote = await openControlChannel(stream, {
    v: protocolVersion,
    method: request.method,
    params: request.params,
  }).catch((error: unknown) => {
    stream.abort();
    throw error;
  });
  const onAbort = (): void => remote.close();
  channel.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const pump = (async () => {
      for await (const frame of channel.clientFrames) await remote.send(frame);
    })();
    pump.catch(() => undefined);
    for await (const frame of remote) {
      if ('event' in frame) await channel.emit(frame['event'] as JsonObject);
      else if ('result' in frame) return frame['result'] as JsonValue;
      else if ('error' in frame) throw deserializeError(frame['error']);
    }
    throw new MonkError('PEER_UNREACHABLE', `peer ${peerId} closed the call without an answer`);
  } finally {
    channel.signal.removeEventListener('abort', onAbort);
    remote.close();
  }
}
