import { createHash } from 'node:crypto';
import { MonkError, toMonkError } from '@monk/model';
import type { Graph } from './graph.ts';
import type { GraphProblemListener } from './graph-problem.ts';
import { decodeSyncMessage, encodeSyncMessage } from './sync-message.ts';

/**
 * How graph sync reaches other peers: implemented by the p2p layer (a libp2p protocol stream per peer)
 * and by the simulated network of the tests. Delivery is best effort: messages may be lost, duplicated
 * or reordered; the protocol repairs that by itself.
 *
 * @example
 * const transport: SyncTransport = {
 *   peers: () => node.connectedPeerIds(),
 *   send: (peer, message) => void node.sendGraphMessage(peer, message).catch(log),
 *   onMessage: (handler) => node.onGraphMessage(handler),
 *   onPeerConnected: (handler) => node.onConnect(handler),
 * };
 */
export interface SyncTransport {
  /** Peers this replica can send to right now. */
  peers(): readonly string[];
  /** Sends one message to one peer, best effort. Must not throw: failures are the transport's to log. */
  send(peer: string, message: Uint8Array): void;
  /** Registers the handler of incoming messages. Returns an unsubscribe. */
  onMessage(handler: (peer: string, message: Uint8Array) => void): () => void;
  /** Registers a handler called whenever a peer (re)connects. Returns an unsubscribe. */
  onPeerConnected(handler: (peer: string) => void): () => void;
}

/** Options of {@link createGraphSync}. */
export interface GraphSyncOptions {
  readonly graph: Graph;
  readonly transport: SyncTransport;
  /** How many recent update hashes are remembered to drop duplicates (default 4096). */
  readonly seenCapacity?: number;
  /** Anti-entropy: every this many ms, exchange state vectors with all peers (default 30000; 0 = off). */
  readonly antiEntropyIntervalMs?: number;
  /** Told about rejected messages. */
  readonly onProblem?: GraphProblemListener;
  /**
   * Told each time a peer's answer to our state vector has been applied: this replica then holds
   * everything that peer held when it answered. A replica rebuilt from a damaged store waits for this.
   */
  readonly onCaughtUp?: (peer: string) => void;
}

/** Counters for tests and metrics. */
export interface GraphSyncStats {
  readonly sent: number;
  readonly received: number;
  readonly duplicates: number;
  readonly rejected: number;
}

/** A running sync: stop it with `close()`. */
export interface GraphSync {
  /** Runs an anti-entropy round now: sends our state vector to `peer`, or to every connected peer. */
  resync(peer?: string): void;
  stats(): GraphSyncStats;
  /** Stops listening and sending; the graph stays open. */
  close(): void;
}

/**
 * Replicates a graph over a {@link SyncTransport}; see the package README for the protocol.
 *
 * On connect both sides send their state vector and answer the other's with a catch-up holding only
 * what it lacks. Every later change (a local write once durable, or the part of a remote update that
 * was new here) is flooded to all connected peers but the one it came from, so it reaches every peer
 * of a connected (not necessarily full-mesh) network; duplicates are dropped by content hash, and a
 * replica relays only what changed its own state, so floods stop. Periodic anti-entropy repairs lost
 * messages. Malformed messages are counted and reported, never thrown.
 *
 * @example
 * const sync = createGraphSync({ graph, transport });
 * // later
 * sync.close();
 */
export function createGraphSync(options: GraphSyncOptions): GraphSync {
  const { graph, transport } = options;
  const seenCapacity = options.seenCapacity ?? 4096;
  const seen = new Set<string>();
  const stats = { sent: 0, received: 0, duplicates: 0, rejected: 0 };
  let closed = false;

  /** Remembers a hash; false if it was already there. Oldest hashes are forgotten first. */
  const remember = (update: Uint8Array): boolean => {
    const id = createHash('sha256').update(update).digest('base64').slice(0, 22);
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > seenCapacity) {
      const oldest = seen.values().next();
      if (oldest.done !== true) seen.delete(oldest.value);
    }
    return true;
  };

  const send = (peer: string, message: Uint8Array): void => {
    stats.sent++;
    transport.send(peer, message);
  };

  const reject = (peer: string, error: unknown): void => {
    stats.rejected++;
    const monkError = toMonkError(error, 'PROTOCOL_ERROR');
    options.onProblem?.({
      kind: 'rejected-message',
      message: `rejected a graph sync message from ${peer}: ${monkError.message}`,
      details: { peer, code: monkError.code },
    });
  };

  const sendStateVector = (peer: string): void => {
    send(peer, encodeSyncMessage({ type: 'state-vector', body: graph.encodeStateVector() }));
  };

  const unsubscribeUpdates = graph.onUpdate((event) => {
    if (closed) return;
    remember(event.update);
    const message = encodeSyncMessage({ type: 'update', body: event.update });
    for (const peer of transport.peers()) {
      if (!event.local && peer === event.origin) continue;
      send(peer, message);
    }
  });

  const unsubscribeMessages = transport.onMessage((peer, bytes) => {
    if (closed) return;
    stats.received++;
    const decoded = decodeSyncMessage(bytes);
    if (!decoded.ok) {
      reject(peer, decoded.error);
      return;
    }
    const { type, body } = decoded.message;
    try {
      switch (type) {
        case 'state-vector':
          send(peer, encodeSyncMessage({ type: 'catch-up', body: graph.encodeUpdateSince(body) }));
          // Our own vector may never have reached this peer (it was not listening yet, or the message was
          // lost): when it holds something we lack, ask now rather than at the next anti-entropy round.
          if (graph.needsCatchUpFrom(body)) sendStateVector(peer);
          return;
        case 'catch-up':
        case 'update':
          if (!remember(body)) {
            stats.duplicates++;
            if (type === 'catch-up') options.onCaughtUp?.(peer);
            return;
          }
          graph.applyRemoteUpdate(body, peer);
          if (type === 'catch-up') options.onCaughtUp?.(peer);
          // An update whose author's earlier history we never got waits (its deletions already show):
          // ask the sender for the missing part at once.
          if (type === 'update' && graph.hasPendingUpdates()) sendStateVector(peer);
          return;
      }
    } catch (error) {
      reject(peer, error);
    }
  });

  const unsubscribeConnected = transport.onPeerConnected((peer) => {
    if (!closed) sendStateVector(peer);
  });

  const interval = options.antiEntropyIntervalMs ?? 30_000;
  const timer = interval > 0 ? setInterval(() => resync(), interval) : undefined;
  timer?.unref();

  function resync(peer?: string): void {
    if (closed) throw new MonkError('INVALID_REQUEST', 'graph sync is closed');
    for (const target of peer === undefined ? transport.peers() : [peer]) sendStateVector(target);
  }

  return {
    resync,
    stats: () => ({ ...stats }),
    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      unsubscribeUpdates();
      unsubscribeMessages();
      unsubscribeConnected();
    },
  };
}
