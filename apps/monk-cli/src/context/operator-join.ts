import { stat } from 'node:fs/promises';
import { MonkError } from '@monk/model';
import { createP2PNode, encodeNetworkKey, loadOrCreateIdentity, parseJoinToken } from '@monk/p2p';
import { requestJoin } from '@monk/sdk';
import type { JoinResponse } from '@monk/sdk';
import { assertContextName, contextNameFor } from './context-store.ts';
import type { ClusterContext, ContextPeer, ContextStore } from './context-store.ts';

export interface JoinAsOperatorOptions {
  /** A join token of role `operator` (`monk cluster join-token --role operator`). */
  readonly token: string;
  readonly store: ContextStore;
  /** Context name; default: the cluster's name. */
  readonly name?: string;
  /** The name this operator presents to the cluster, e.g. `laptop-operator`. */
  readonly operatorName: string;
  readonly now: Date;
  /** Deadline of each dial and of the join request. Default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Joins a cluster as an operator and saves the context (not selected; the caller decides): creates or reuses
 * the context's identity, dials the token's addresses in order and sends a join request to the first peer
 * that answers, then stores the cluster's peers from the answer. A failed join leaves no new context behind.
 *
 * Throws `JOIN_TOKEN_INVALID`/`_EXPIRED`/`_USED` (from the token or the issuing peer), `INVALID_REQUEST` for a
 * peer token, `CLUSTER_EXISTS` when the context name is taken by another cluster, `PEER_UNREACHABLE` when no
 * address of the token answers, `PROTOCOL_ERROR` on a malformed answer.
 *
 * @example
 * const context = await joinAsOperator({ token, store, operatorName: `${hostname()}-operator`, now: new Date() });
 * await store.select(context.name);
 */
export async function joinAsOperator(options: JoinAsOperatorOptions): Promise<ClusterContext> {
  const token = parseJoinToken(options.token, options.now);
  if (token.role !== 'operator') {
    throw new MonkError(
      'INVALID_REQUEST',
      `this join token is for a peer; on a host running monkd use monk cluster join TOKEN, or make an operator token with monk cluster join-token --role operator`,
    );
  }
  const { store } = options;
  const name =
    options.name === undefined
      ? contextNameFor(token.clusterName, token.clusterId)
      : assertContextName(options.name);
  const existing = await store.find(name);
  if (existing !== undefined && existing.clusterId !== token.clusterId) {
    throw new MonkError(
      'CLUSTER_EXISTS',
      `context ${name} already belongs to cluster ${existing.clusterName} (${existing.clusterId}); pick another name with --name`,
    );
  }
  const folderExisted = await stat(store.directory(name)).then(
    () => true,
    () => false,
  );
  try {
    const identity = await loadOrCreateIdentity({ file: store.identityFile(name) });
    const tokenPeers = peersOfAddresses(token.addresses);
    const node = await createP2PNode({
      identity,
      listen: { host: '127.0.0.1', port: 0 },
      networkKey: token.networkKey,
      allowList: tokenPeers.map((peer) => peer.id),
    });
    let response: JoinResponse;
    try {
      await node.start();
      response = await requestJoin({
        node,
        token,
        request: {
          v: 1,
          secret: token.secret,
          name: options.operatorName.slice(0, 63),
          role: 'operator',
          addresses: [],
          tags: [],
        },
        dialTimeoutMs: options.timeoutMs ?? 10_000,
        requestTimeoutMs: options.timeoutMs ?? 10_000,
      });
    } finally {
      await node.stop().catch(() => undefined);
    }
    const answered = response.peers
      .filter((peer) => peer.role === 'peer' && peer.id !== identity.peerId && peer.addresses.length > 0)
      .map((peer) => ({ id: peer.id, name: peer.name, addresses: peer.addresses }));
    const context: ClusterContext = {
      name,
      clusterId: response.clusterId,
      clusterName: response.clusterName,
      networkKey: encodeNetworkKey(token.networkKey),
      peers: answered.length > 0 ? answered : tokenPeers,
      createdAt: existing?.createdAt ?? options.now.toISOString(),
    };
    await store.save(context);
    return context;
  } catch (error) {
    if (!folderExisted) await store.forget(name).catch(() => undefined);
    throw error;
  }
}

/**
 * Groups multiaddrs by the peer id they end with (`/p2p/<id>`), keeping the order of first appearance.
 * Addresses without a peer id are skipped: the node could not admit the peer behind them.
 */
export function peersOfAddresses(addresses: readonly string[]): ContextPeer[] {
  const peers = new Map<string, string[]>();
  for (const address of addresses) {
    const match = /\/p2p\/([^/]+)$/.exec(address);
    const id = match?.[1];
    if (id === undefined) continue;
    const list = peers.get(id) ?? [];
    list.push(address);
    peers.set(id, list);
  }
  return [...peers].map(([id, list]) => ({ id, addresses: list }));
}

/**
 * The peer id of a context's operator identity (to remove it from the cluster when leaving), or undefined
 * when the context has no identity file.
 */
export async function operatorPeerId(store: ContextStore, name: string): Promise<string | undefined> {
  const file = store.identityFile(name);
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  return (await loadOrCreateIdentity({ file })).peerId;
}
