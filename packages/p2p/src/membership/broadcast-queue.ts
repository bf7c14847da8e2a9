import type { MembershipUpdate } from './membership-codec.ts';

/**
 * The transmit-limited queue of infection-style gossip: at most one pending update per member (a newer one
 * replaces the older), handed out least-transmitted first, dropped after `limit()` transmissions.
 */
export interface BroadcastQueue {
  /** Queues `update`, replacing any pending update about the same member. */
  enqueue(update: MembershipUpdate): void;
  /**
   * Takes up to `max` updates for one outgoing message and counts the transmission. Updates for which
   * `skip` returns true stay queued, uncounted.
   */
  take(max: number, skip?: (update: MembershipUpdate) => boolean): MembershipUpdate[];
  /** Forgets any pending update about `id`. */
  drop(id: string): void;
  /** The pending update about `id`, if any. */
  get(id: string): MembershipUpdate | undefined;
  readonly size: number;
}

interface Entry {
  readonly update: MembershipUpdate;
  readonly seq: number;
  transmits: number;
}

/** Creates a queue whose updates are sent `limit()` times (re-evaluated as the cluster grows). */
export function createBroadcastQueue(options: { readonly limit: () => number }): BroadcastQueue {
  const entries = new Map<string, Entry>();
  let seq = 0;
  return {
    enqueue(update) {
      seq += 1;
      entries.set(update.id, { update, seq, transmits: 0 });
    },
    take(max, skip) {
      if (entries.size === 0 || max <= 0) return [];
      const limit = options.limit();
      const chosen = [...entries.values()]
        .filter((entry) => skip === undefined || !skip(entry.update))
        .sort((a, b) => a.transmits - b.transmits || b.seq - a.seq)
        .slice(0, max);
      for (const entry of chosen) {
        entry.transmits += 1;
        if (entry.transmits >= limit) entries.delete(entry.update.id);
      }
      return chosen.map((entry) => entry.update);
    },
    drop(id) {
      entries.delete(id);
    },
    get(id) {
      return entries.get(id)?.update;
    },
    get size() {
      return entries.size;
    },
  };
}
