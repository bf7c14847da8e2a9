import { defaultOperatorAccess, MonkError, toMonkError, type OperatorAccess } from '@monk/model';
import type { Graph } from '@monk/graph';
import {
  createJoinToken,
  decodeNetworkKey,
  generateTokenSecret,
  hashTokenSecret,
  type JoinToken,
  type P2PNode,
} from '@monk/p2p';
import {
  decodeJsonMessage,
  encodeJsonMessage,
  joinRequestSchema,
  requestJoin,
  type JoinResponse,
  type JoinTokenResult,
} from '@monk/sdk';
import type { Logger } from '../logger.ts';
import type { ClusterConfig, TokenLedger } from './cluster-files.ts';
import { assertMeshRoom } from './mesh-record.ts';

/** The cluster's secrets key, as the cluster needs it: read to hand to joiners, replaced when joining. */
export interface ClusterSecretsKey {
  key(): Promise<Uint8Array>;
  adopt(key: Uint8Array): Promise<void>;
}

/** The cluster as the join service sees it at the moment of a call. */
export interface JoinServiceCluster {
  readonly config: ClusterConfig;
  /** This peer's addresses, which tokens carry and join responses name first. */
  readonly addresses: readonly string[];
}

/**
 * The issuing side of joining: mints single-use tokens into the ledger and answers `/monk/join/1.0.0`
 * by redeeming them and writing the newcomer's peer record.
 */
export interface JoinService {
  /**
   * Mints a token. `access` is for operator tokens (default `deploy`) and is kept in the ledger, never
   * trusted from the token; a peer token with an access throws `INVALID_REQUEST`.
   */
  issueToken(
    cluster: JoinServiceCluster,
    request: { ttlSeconds: number; role: 'peer' | 'operator'; access?: OperatorAccess | undefined },
  ): Promise<JoinTokenResult>;
  /**
   * Answers a join request from `from`. Throws `PROTOCOL_ERROR` for a malformed request, the ledger's
   * `JOIN_TOKEN_INVALID`/`_EXPIRED`/`_USED`, and `JOIN_TOKEN_INVALID` when the token is for another role.
   */
  answer(cluster: JoinServiceCluster, request: Uint8Array, from: string): Promise<Uint8Array>;
}

export interface JoinServiceOptions {
  readonly self: string;
  readonly peerName: string;
  readonly graph: Graph;
  readonly ledger: TokenLedger;
  readonly secretsKey: ClusterSecretsKey;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Called once the newcomer's record is written, to let it in (the allow-list follows the graph). */
  readonly admitted: () => void;
}

/**
 * @example
 * const joins = createJoinService({ self, peerName, graph, ledger, secretsKey, logger, now, admitted });
 * node.handle(joinProtocol, (bytes, { from }) => joins.answer(cluster, bytes, from), { allowUnlisted: true });
 */
export function createJoinService(options: JoinServiceOptions): JoinService {
  const { self, graph, ledger, logger, now } = options;
  return {
    async issueToken(cluster, { ttlSeconds, role, access }) {
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
        clusterId: cluster.config.clusterId,
        clusterName: cluster.config.clusterName,
        networkKey: decodeNetworkKey(cluster.config.networkKey),
        addresses: [...cluster.addresses],
        role,
        expiresAt,
        secret,
      });
      return { token, role, ...(granted === undefined ? {} : { access: granted }), expiresAt };
    },
    async answer(cluster, request, from) {
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
        // A peer the address plan has no room for is refused before its token is spent.
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
      options.admitted();
      logger.info(
        `${joinRequest.name} joined the cluster as ${joinRequest.role}${access === undefined ? '' : ` with ${access} access`}`,
        { peer: from },
      );
      const others = graph.listPeers().filter((p) => p.id !== self && p.id !== from && p.role === 'peer');
      const response: JoinResponse = {
        v: 1,
        clusterId: cluster.config.clusterId,
        clusterName: cluster.config.clusterName,
        peers: [
          { id: self, name: options.peerName, role: 'peer', addresses: [...cluster.addresses] },
          ...others.map((p) => ({ id: p.id, name: p.name, role: p.role, addresses: p.addresses })),
        ],
        // Peers run workloads that read secrets; operators never get the key.
        ...(joinRequest.role === 'peer'
          ? { secretsKey: Buffer.from(await options.secretsKey.key()).toString('base64url') }
          : {}),
      };
      return encodeJsonMessage(response);
    },
  };
}

/**
 * The joining side for a peer: asks the token's issuer to admit this peer (`@monk/sdk`'s join client,
 * the one the CLI uses for operators). Throws as {@link requestJoin} does.
 */
export function joinAsPeer(options: {
  readonly node: P2PNode;
  readonly token: JoinToken;
  readonly peerName: string;
}): Promise<JoinResponse> {
  const { node, token } = options;
  return requestJoin({
    node,
    token,
    request: {
      v: 1,
      secret: token.secret,
      name: options.peerName,
      role: 'peer',
      addresses: node.addresses(),
      tags: [],
    },
    dialTimeoutMs: 5_000,
    requestTimeoutMs: 15_000,
  });
}
