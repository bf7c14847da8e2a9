import { createPrng } from '@monk/model';
import type { SyncTransport } from './graph-sync.ts';

export { createPrng };

/** Fault probabilities, each in [0, 1]. */
export interface NetworkFaults {
  /** A message is lost. */
  readonly drop: number;
  /** A message is delivered twice (the copy at a random later point). */
  readonly duplicate: number;
  /** The next message delivered is a random in-flight one instead of the oldest. */
  readonly reorder: number;
}

/**
 * A simulated network for sync tests: nodes get {@link SyncTransport}s, links are configured between
 * pairs, messages wait in one queue until the test delivers them, and every fault comes from the seeded
 * PRNG. Messages in flight over a link that goes down are lost.
 */
export interface TestNetwork {
  readonly random: () => number;
  /** The transport of `peer` (created on first use). */
  transport(peer: string): SyncTransport;
  /** Adds a link and brings it up: both ends hear `onPeerConnected`. */
  link(a: string, b: string): void;
  /** Takes down every link between different groups (peers in no group are cut off from all). */
  partition(groups: ReadonlyArray<readonly string[]>): void;
  /** Brings every configured link back up. */
  heal(): void;
  setFaults(faults: Partial<NetworkFaults>): void;
  /** Delivers (or loses) one message; false when nothing is in flight. */
  step(): boolean;
  /** Steps until nothing is in flight or `maxSteps` is reached; returns the number of steps. */
  run(maxSteps?: number): number;
  inFlight(): number;
}

interface Node {
  readonly messageHandlers: Set<(peer: string, message: Uint8Array) => void>;
  readonly connectHandlers: Set<(peer: string) => void>;
}

export function createTestNetwork(options: { seed: number; faults?: Partial<NetworkFaults> }): TestNetwork {
  const random = createPrng(options.seed);
  let faults: NetworkFaults = { drop: 0, duplicate: 0, reorder: 0, ...options.faults };
  const nodes = new Map<string, Node>();
  const links = new Set<string>();
  const down = new Set<string>();
  const queue: Array<{ from: string; to: string; message: Uint8Array }> = [];
  const linkId = (a: string, b: string): string => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);
  const isUp = (a: string, b: string): boolean => links.has(linkId(a, b)) && !down.has(linkId(a, b));

  const node = (peer: string): Node => {
    let found = nodes.get(peer);
    if (found === undefined) {
      found = { messageHandlers: new Set(), connectHandlers: new Set() };
      nodes.set(peer, found);
    }
    return found;
  };

  const announce = (a: string, b: string): void => {
    for (const handler of [...node(a).connectHandlers]) handler(b);
    for (const handler of [...node(b).connectHandlers]) handler(a);
  };

  const network: TestNetwork = {
    random,
    transport(peer) {
      const self = node(peer);
      return {
        peers: () => [...nodes.keys()].filter((other) => other !== peer && isUp(peer, other)).sort(),
        send: (to, message) => {
          if (isUp(peer, to)) queue.push({ from: peer, to, message: message.slice() });
        },
        onMessage: (handler) => {
          self.messageHandlers.add(handler);
          return () => self.messageHandlers.delete(handler);
        },
        onPeerConnected: (handler) => {
          self.connectHandlers.add(handler);
          return () => self.connectHandlers.delete(handler);
        },
      };
    },
    link(a, b) {
      links.add(linkId(a, b));
      down.delete(linkId(a, b));
      announce(a, b);
    },
    partition(groups) {
      const groupOf = new Map<string, number>();
      groups.forEach((group, index) => group.forEach((peer) => groupOf.set(peer, index)));
      for (const id of links) {
        const [a = '', b = ''] = id.split('\u0000');
        const ga = groupOf.get(a);
        if (ga === undefined || ga !== groupOf.get(b)) down.add(id);
      }
    },
    heal() {
      const healed = [...down];
      down.clear();
      for (const id of healed) {
        const [a = '', b = ''] = id.split('\u0000');
        announce(a, b);
      }
    },
    setFaults(next) {
      faults = { ...faults, ...next };
    },
    step() {
      if (queue.length === 0) return false;
      const index = random() < faults.reorder ? Math.floor(random() * queue.length) : 0;
      const [envelope] = queue.splice(index, 1);
      if (envelope === undefined) return false;
      if (!isUp(envelope.from, envelope.to) || random() < faults.drop) return true;
      if (random() < faults.duplicate) {
        queue.splice(Math.floor(random() * (queue.length + 1)), 0, {
          ...envelope,
          message: envelope.message.slice(),
        });
      }
      for (const handler of [...node(envelope.to).messageHandlers]) handler(envelope.from, envelope.message);
      return true;
    },
    run(maxSteps = 1_000_000) {
      let steps = 0;
      while (steps < maxSteps && network.step()) steps++;
      return steps;
    },
    inFlight: () => queue.length,
  };
  return network;
}
