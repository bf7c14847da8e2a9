import { MonkError, toMonkError } from '@monk/model';
import type { P2PNode } from '@monk/p2p';
import { decodeJsonMessage, encodeJsonMessage } from '@monk/sdk';
import type { Logger } from '../logger.ts';

/** Tells a peer it was removed, before the allow-lists cut it off (so it need not wait for the graph). */
export const evictProtocol = '/monk/evict/1.0.0';

/**
 * Serves eviction notices on `node`: a notice from a peer (not an operator) of this cluster calls
 * `evicted`; anything else is refused with `NOT_A_MEMBER`.
 *
 * @example
 * serveEviction(node, { clusterId: () => config?.clusterId, isPeer, evicted: (by) => leaveSoon(by) });
 */
export function serveEviction(
  node: P2PNode,
  options: {
    readonly clusterId: () => string | undefined;
    readonly isPeer: (peerId: string) => boolean;
    readonly evicted: (by: string) => void;
  },
): void {
  node.handle(evictProtocol, async (request, context) => {
    const notice = decodeJsonMessage(request) as { clusterId?: unknown };
    const clusterId = options.clusterId();
    if (clusterId === undefined || notice.clusterId !== clusterId || !options.isPeer(context.from)) {
      throw new MonkError('NOT_A_MEMBER', 'not an eviction notice for this cluster');
    }
    options.evicted(context.from);
    return new Uint8Array(0);
  });
}

/** Tells `peerId` it was removed from `clusterId`; best effort (it also finds out when it reconnects). */
export async function sendEviction(
  node: P2PNode,
  notice: { readonly peerId: string; readonly clusterId: string },
  logger: Logger,
): Promise<void> {
  await node
    .request(notice.peerId, evictProtocol, encodeJsonMessage({ clusterId: notice.clusterId }), {
      timeoutMs: 3_000,
    })
    .catch((error: unknown) => {
      logger.info(`could not tell ${notice.peerId} it was removed (it will find out when it reconnects)`, {
        error: toMonkError(error).message,
      });
    });
}
