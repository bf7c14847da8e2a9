import { access } from 'node:fs/promises';
import { MonkError, toMonkError } from '@monk/model';
import { createP2PNode, decodeNetworkKey, loadOrCreateIdentity } from '@monk/p2p';
import type { MessageStream, P2PNode, PeerIdentity } from '@monk/p2p';
import { controlProtocol, openControlChannel } from '@monk/sdk';
import type { ControlTransport } from '@monk/sdk';
import type { ClusterContext } from './context-store.ts';

/** A transport that owns resources: `dispose` waits until every node it started has stopped. */
export interface DisposableTransport extends ControlTransport {
  dispose(): Promise<void>;
}

export interface P2PTransportOptions {
  readonly context: ClusterContext;
  /** The operator identity of the context; it must exist (created by `monk cluster switch TOKEN`). */
  readonly identityFile: string;
  /** Deadline to reach one peer and open the control stream. Default 5 s. */
  readonly connectTimeoutMs?: number;
}

/**
 * The control protocol over libp2p, for operator contexts. Each `open` starts a node with the context's
 * identity and network key (allow-list: the context's peers), tries the peers in order until one accepts a
 * `controlProtocol` stream, sends the request frame as the first message and exposes the answers as frames.
 * Closing the channel closes the stream and stops the node.
 *
 * Throws (from `open`) `CONTEXT_NOT_FOUND` when the identity is missing, `NOT_A_MEMBER` when no peer accepts
 * the stream and at least one live peer refused this operator, and `PEER_UNREACHABLE` naming the cluster and
 * the addresses tried when no peer answered at all.
 *
 * @example
 * const transport = createP2PTransport({ context, identityFile: store.identityFile(context.name) });
 * const monk = createMonkClient({ transport });
 * console.log(await monk.ps({}));
 * await transport.dispose();
 */
export function createP2PTransport(options: P2PTransportOptions): DisposableTransport {
  const { context } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const stopping = new Set<Promise<void>>();
  const running = new Set<P2PNode>();
  let identity: PeerIdentity | undefined;

  const stopNode = (node: P2PNode): Promise<void> => {
    running.delete(node);
    const done = node.stop().catch(() => undefined);
    stopping.add(done);
    return done;
  };

  async function loadIdentity(): Promise<PeerIdentity> {
    if (identity !== undefined) return identity;
    try {
      await access(options.identityFile);
    } catch (cause) {
      throw new MonkError(
        'CONTEXT_NOT_FOUND',
        `cluster context ${context.name} has no operator identity at ${options.identityFile}; switch to it again with monk cluster switch TOKEN`,
        { cause },
      );
    }
    identity = await loadOrCreateIdentity({ file: options.identityFile });
    return identity;
  }

  async function connect(node: P2PNode): Promise<MessageStream> {
    const failures: string[] = [];
    let refused = 0;
    for (const peer of context.peers) {
      try {
        return await node.openStream(peer.id, controlProtocol, { timeoutMs: connectTimeoutMs });
      } catch (error) {
        const monkError = toMonkError(error);
        if (monkError.code === 'NOT_A_MEMBER') refused++;
        const where = peer.addresses.length > 0 ? peer.addresses.join(', ') : peer.id;
        failures.push(`${where} (${monkError.code}: ${monkError.message})`);
      }
    }
    // A live member refusing us is authoritative (the allow-list is the cluster's), whatever the others did.
    if (refused > 0) {
      throw new MonkError(
        'NOT_A_MEMBER',
        `cluster ${context.name} refused this operator, which may have been removed: get a new operator token and run monk cluster switch TOKEN (tried ${failures.join('; ')})`,
      );
    }
    throw new MonkError(
      'PEER_UNREACHABLE',
      context.peers.length === 0
        ? `cluster context ${context.name} knows no peer to dial; switch to it again with monk cluster switch TOKEN`
        : `no peer of cluster ${context.name} answered; tried ${failures.join('; ')}`,
    );
  }

  return {
    target: `cluster ${context.name}`,
    async open(request) {
      const node = await createP2PNode({
        identity: await loadIdentity(),
        listen: { host: '127.0.0.1', port: 0 },
        networkKey: decodeNetworkKey(context.networkKey),
        allowList: context.peers.map((peer) => peer.id),
      });
      running.add(node);
      try {
        await node.start();
        for (const peer of context.peers) await node.addPeerAddresses(peer.id, peer.addresses);
        const stream = await connect(node);
        return await openControlChannel(stream, request, { onClose: () => void stopNode(node) });
      } catch (error) {
        await stopNode(node);
        throw error;
      }
    },
    async dispose() {
      for (const node of [...running]) void stopNode(node);
      await Promise.all([...stopping]);
    },
  };
}
