import type { ObservedWorkload } from '@monk/model';

/**
 * One register: the latest write of one peer for one workload. `value` undefined is a tombstone.
 * `seq` orders the writes of that peer (strictly increasing, never reused, also across restarts).
 */
export interface ObservedEntry {
  readonly key: string;
  readonly seq: number;
  readonly value: ObservedWorkload | undefined;
}

/**
 * The replication unit of observed state, always about one peer's registers.
 * - `delta`: every change of `peer` in `(from, to]` (plus possibly newer entries). A replica that already
 *   has that peer's state up to `from` has it up to `to` afterwards.
 * - `full`: that peer's complete live state as of `to` (plus possibly newer entries and tombstones).
 *   A key absent from it was deleted at or before `to`; it replaces whatever a replica holds up to `to`.
 */
export type ObservedBlock =
  | {
      readonly kind: 'delta';
      readonly peer: string;
      readonly from: number;
      readonly to: number;
      readonly entries: readonly ObservedEntry[];
    }
  | {
      readonly kind: 'full';
      readonly peer: string;
      readonly to: number;
      readonly entries: readonly ObservedEntry[];
    };

/** Per-peer version summary: the highest seq up to which a replica holds that peer's complete state. */
export type ObservedVector = ReadonlyMap<string, number>;

interface Partition {
  /** Complete state of this peer up to here; entries at or below it that arrive later are stale. */
  known: number;
  /** Deltas can be served only from `horizon` on: tombstones at or below it were pruned or never seen. */
  horizon: number;
  readonly entries: Map<string, { seq: number; value: ObservedWorkload | undefined }>;
  tombstones: number;
  /** Upper bound of every entry seq ever put here. */
  maxSeq: number;
}

/** What applying a block did: the keys whose register changed, and whether anything changed at all. */
export interface ObservedApplyResult {
  readonly changedKeys: readonly string[];
  readonly changed: boolean;
}

/**
 * Observed state as a set of per-peer last-writer-wins registers, kept outside the Yjs document so that
 * rewriting a status a hundred thousand times costs one register, not a hundred thousand tombstones.
 *
 * Only the owning peer writes its registers, so there are no concurrent writers per register: the
 * per-peer `seq` is a total order. Tombstones are kept only while they are needed to serve deltas; beyond
 * `maxTombstones` per peer the oldest ones are pruned and the partition's `horizon` rises, so a replica
 * that lags behind it gets a `full` block instead. Size stays proportional to live workloads.
 */
export interface ObservedRegisters {
  get(peer: string, key: string): ObservedWorkload | undefined;
  list(): ObservedWorkload[];
  /**
   * Writes one of `peer`'s registers; returns the block describing the write. With `full`, the block is
   * the peer's whole state: what the owner sends first after a restart, because its history may have
   * lost writes that other replicas saw (a crash before fsync), and only a full block retracts them.
   */
  write(options: {
    peer: string;
    key: string;
    value: ObservedWorkload | undefined;
    seq: number;
    full?: boolean;
  }): ObservedBlock;
  /** The highest seq of `peer` seen in any form (0 when nothing is known): the next write must exceed it. */
  latest(peer: string): number;
  apply(block: ObservedBlock): ObservedApplyResult;
  vector(): ObservedVector;
  /** Blocks bringing a replica at `vector` up to date: deltas where possible, full blocks otherwise. */
  blocksSince(vector: ObservedVector | undefined): ObservedBlock[];
}

export function createObservedRegisters(options: { maxTombstones?: number } = {}): ObservedRegisters {
  const maxTombstones = options.maxTombstones ?? 256;
  const partitions = new Map<string, Partition>();

  const partition = (peer: string): Partition => {
    let found = partitions.get(peer);
    if (found === undefined) {
      found = { known: 0, horizon: 0, entries: new Map(), tombstones: 0, maxSeq: 0 };
      partitions.set(peer, found);
    }
    return found;
  };

  const put = (part: Partition, entry: ObservedEntry): void => {
    const previous = part.entries.get(entry.key);
    if (previous !== undefined && previous.value === undefined) part.tombstones--;
    if (entry.value === undefined) part.tombstones++;
    part.entries.set(entry.key, { seq: entry.seq, value: entry.value });
    part.maxSeq = Math.max(part.maxSeq, entry.seq);
  };

  const remove = (part: Partition, key: string): void => {
    const previous = part.entries.get(key);
    if (previous === undefined) return;
    if (previous.value === undefined) part.tombstones--;
    part.entries.delete(key);
  };

  // Amortised: prune only when twice over the limit, back down to the limit.
  const prune = (part: Partition): void => {
    if (part.tombstones <= maxTombstones * 2) return;
    const prunable = [...part.entries]
      .filter(([, entry]) => entry.value === undefined && entry.seq <= part.known)
      .sort((a, b) => a[1].seq - b[1].seq);
    for (const [key, entry] of prunable.slice(0, part.tombstones - maxTombstones)) {
      remove(part, key);
      part.horizon = Math.max(part.horizon, entry.seq);
    }
  };

  /** Applies one entry last-writer-wins; true when it was newer than what we had. */
  const merge = (part: Partition, entry: ObservedEntry): boolean => {
    if (entry.seq <= part.known) return false;
    const current = part.entries.get(entry.key);
    if (current !== undefined && current.seq >= entry.seq) return false;
    put(part, entry);
    return true;
  };

  const toEntries = (part: Partition, include: (seq: number, live: boolean) => boolean): ObservedEntry[] =>
    [...part.entries]
      .filter(([, entry]) => include(entry.seq, entry.value !== undefined))
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([key, entry]) => ({ key, seq: entry.seq, value: entry.value }));

  return {
    get(peer, key) {
      return partitions.get(peer)?.entries.get(key)?.value;
    },

    list() {
      const out: ObservedWorkload[] = [];
      for (const part of partitions.values()) {
        for (const entry of part.entries.values()) if (entry.value !== undefined) out.push(entry.value);
      }
      return out;
    },

    write({ peer, key, value, seq, full = false }) {
      const part = partition(peer);
      const from = part.known;
      if (full) {
        put(part, { key, seq, value });
        part.known = seq;
        part.horizon = seq;
        prune(part);
        return { kind: 'full', peer, to: seq, entries: toEntries(part, (_, live) => live) };
      }
      // Usually just this write; more only when newer entries of ours arrived out of order (after a restart).
      const entries: ObservedEntry[] =
        part.maxSeq > from ? toEntries(part, (entrySeq) => entrySeq > from && entrySeq !== seq) : [];
      entries.push({ key, seq, value });
      put(part, { key, seq, value });
      part.known = seq;
      prune(part);
      return { kind: 'delta', peer, from, to: seq, entries };
    },

    latest(peer) {
      const part = partitions.get(peer);
      return part === undefined ? 0 : Math.max(part.known, part.maxSeq);
    },

    apply(block) {
      const part = partition(block.peer);
      const changedKeys: string[] = [];
      let changed = false;
      if (block.kind === 'full' && block.to > part.known) {
        // The block is the whole truth up to `to`: what we hold at or below it is replaced, not merged.
        // (Normally that changes nothing; after an owner lost writes in a crash, it retracts them.)
        const before = new Map<string, number>();
        for (const [key, entry] of [...part.entries]) {
          if (entry.seq <= block.to) {
            before.set(key, entry.seq);
            remove(part, key);
          }
        }
        for (const entry of block.entries) {
          const current = part.entries.get(entry.key);
          if (current === undefined || current.seq < entry.seq) put(part, entry);
        }
        for (const [key, seq] of before) if (part.entries.get(key)?.seq !== seq) changedKeys.push(key);
        for (const entry of block.entries) {
          if (!before.has(entry.key) && part.entries.get(entry.key)?.seq === entry.seq)
            changedKeys.push(entry.key);
        }
        part.known = block.to;
        part.horizon = Math.max(part.horizon, block.to);
        changed = true;
      } else {
        for (const entry of block.entries) if (merge(part, entry)) changedKeys.push(entry.key);
        if (block.kind === 'delta' && block.from <= part.known && block.to > part.known) {
          part.known = block.to;
          changed = true;
        }
      }
      prune(part);
      return { changedKeys, changed: changed || changedKeys.length > 0 };
    },

    vector() {
      const out = new Map<string, number>();
      for (const [peer, part] of partitions) out.set(peer, part.known);
      return out;
    },

    blocksSince(vector) {
      const blocks: ObservedBlock[] = [];
      const peers = [...partitions.keys()].sort();
      for (const peer of peers) {
        const part = partitions.get(peer);
        if (part === undefined) continue;
        const theirs = vector?.get(peer);
        const hasNewer = (seq: number): boolean => seq > part.known;
        if (theirs !== undefined && theirs >= part.horizon) {
          const entries = toEntries(part, (seq) => seq > theirs);
          if (theirs < part.known || entries.length > 0) {
            blocks.push({ kind: 'delta', peer, from: theirs, to: part.known, entries });
          }
        } else if (part.known > 0 || part.entries.size > 0) {
          const entries = toEntries(part, (seq, live) => live || hasNewer(seq));
          blocks.push({ kind: 'full', peer, to: part.known, entries });
        }
      }
      return blocks;
    },
  };
}
