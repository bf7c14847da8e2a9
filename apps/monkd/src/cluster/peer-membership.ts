import { toMonkError, type PeerState } from '@monk/model';
import {
  createMembership,
  type Member,
  type Membership,
  type MembershipConfig,
  type P2PNode,
  type Timers,
} from '@monk/p2p';
import type { Logger } from '../logger.ts';

/** A peer entered a membership state; `previous` is undefined the first time this peer hears of it. */
export interface PeerStateChange {
  readonly peerId: string;
  readonly state: PeerState;
  readonly previous: PeerState | undefined;
  /** When this peer saw the change (the injected clock). */
  readonly at: Date;
}

export type PeerStateListener = (event: PeerStateChange) => void;

/** A peer the membership may dial to join: from the graph's records, or remembered in cluster.json. */
export interface KnownPeer {
  readonly id: string;
  readonly addresses: readonly string[];
}

/**
 * SWIM membership of this peer in its cluster (see `@monk/p2p`'s membership), as the rest of monkd sees
 * it: who is alive, suspect, dead or left, and a feed of state changes that outlives each run (a peer
 * that leaves a cluster and joins another keeps its subscribers).
 *
 * It also keeps the node's view of the members fresh: addresses a member publishes in its meta are taught
 * to the node, and connections to a peer declared dead are dropped (across a partition a TCP connection
 * stalls rather than closes, so only fresh dials get through once it heals).
 */
export interface PeerMembership {
  /** Starts membership on `node` with this peer's meta. Stops an earlier run first. */
  start(node: P2PNode, meta: Readonly<Record<string, string>>): void;
  /**
   * Joins through `seeds` and every peer `knownPeers` names. Resolves once tried; when nobody answers it
   * retries every `retryMs` in the background until someone does or membership stops.
   */
  join(seeds?: readonly string[]): Promise<void>;
  /** Stops without telling anyone. Idempotent. */
  stop(): Promise<void>;
  /** Announces `left` (best effort), then stops. */
  leave(): Promise<void>;
  /** Forgets a removed peer (membership would otherwise keep a dead one for ever). */
  remove(peerId: string): void;
  setMeta(meta: Readonly<Record<string, string>>): void;
  /** A member as this peer sees it, or undefined (not running, or never heard of). */
  member(peerId: string): Member | undefined;
  /**
   * Calls `listener` each time another peer changes state (not on meta changes, not for this peer).
   * Returns an unsubscribe function. A throwing listener is logged and does not disturb the others.
   */
  onPeerStateChange(listener: PeerStateListener): () => void;
}

export interface PeerMembershipOptions {
  readonly self: string;
  readonly logger: Logger;
  readonly config: Partial<MembershipConfig>;
  readonly timers: Timers;
  /** Uniform in [0, 1); tests pass a seeded generator. */
  readonly random?: (() => number) | undefined;
  /** Peers to dial when joining (besides the seeds), asked afresh at each attempt. */
  readonly knownPeers: () => readonly KnownPeer[];
  /** Wait between join attempts while no peer answers. */
  readonly retryMs: number;
}

/**
 * @example
 * const membership = createPeerMembership({ self, logger, config: {}, timers, knownPeers: () => [], retryMs: 3_000 });
 * membership.onPeerStateChange(({ peerId, state, previous }) => log(`${peerId}: ${previous} → ${state}`));
 * membership.start(node, { name: 'host-a' });
 * await membership.join(['12D3KooW...']);
 */
export function createPeerMembership(options: PeerMembershipOptions): PeerMembership {
  const { self, logger, timers } = options;
  const listeners = new Set<PeerStateListener>();
  let run: { node: P2PNode; membership: Membership; cancelRetry: (() => void) | undefined } | undefined;

  function emit(event: PeerStateChange): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        logger.warn('a peer state listener failed', { error: toMonkError(error).message });
      }
    }
  }

  function onMember(node: P2PNode, member: Member, previous: PeerState | undefined): void {
    if (member.id === self) return;
    const addresses = (member.meta['addresses'] ?? '').split(',').filter((a) => a !== '');
    if (addresses.length > 0) node.addPeerAddresses(member.id, addresses).catch(() => undefined);
    if (previous === member.state) return;
    logger.info(`peer ${member.meta['name'] ?? member.id} is ${member.state}`, { peer: member.id });
    if (member.state === 'dead') node.hangUp(member.id).catch(() => undefined);
    emit({ peerId: member.id, state: member.state, previous, at: new Date(member.stateSince) });
  }

  async function join(seeds: readonly string[] = []): Promise<void> {
    const current = run;
    if (current === undefined) return;
    const known = options.knownPeers();
    for (const peer of known) {
      if (peer.addresses.length > 0) {
        await current.node.addPeerAddresses(peer.id, peer.addresses).catch(() => undefined);
      }
    }
    const ids = [...new Set([...seeds, ...known.map((p) => p.id)])].filter((id) => id !== self);
    if (ids.length === 0) return;
    try {
      await current.membership.join(ids);
    } catch (error) {
      if (run !== current) return;
      // Nobody answered yet (all restarting, or we are back first): try again until someone does.
      logger.warn('no cluster peer answered yet; retrying', { error: toMonkError(error).message });
      current.cancelRetry = timers.setTimeout(() => void join(), options.retryMs);
    }
  }

  async function stop(): Promise<void> {
    const current = run;
    run = undefined;
    current?.cancelRetry?.();
    await current?.membership.stop();
  }

  return {
    start(node, meta) {
      void stop();
      const membership = createMembership({
        transport: node,
        meta,
        logger: logger.child('membership'),
        config: options.config,
        timers,
        ...(options.random === undefined ? {} : { random: options.random }),
      });
      membership.onChange((member, previous) => onMember(node, member, previous));
      run = { node, membership, cancelRetry: undefined };
      membership.start();
    },
    join,
    stop,
    async leave() {
      await run?.membership.leave();
    },
    remove(peerId) {
      run?.membership.remove(peerId);
    },
    setMeta(meta) {
      run?.membership.setMeta(meta);
    },
    member: (peerId) => run?.membership.members().find((m) => m.id === peerId),
    onPeerStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
