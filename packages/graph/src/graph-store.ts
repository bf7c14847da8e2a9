/**
 * Where a graph keeps its updates: an append-only sequence of opaque updates plus an occasional snapshot
 * that replaces everything before it. The graph owns the format of the bytes; a store only keeps them.
 *
 * Contract (checked by the shared compliance suite for every implementation):
 * - `load()` returns the latest snapshot (if any) followed by every update appended after it, in order.
 * - `append()` resolves only once the update is durable; it rejects with `STORAGE_FAILED` otherwise, and
 *   after a failure every later call rejects too (the graph must be reopened).
 * - `compact(snapshot)` atomically replaces the snapshot and drops every update appended before the call.
 *   Calls are applied in the order they are made.
 * - `close()` waits for pending writes and releases the store; it is idempotent.
 *
 * @example
 * const store = createFileStore({ dir: '/var/lib/monk/graph' });
 * const graph = await createGraph({ peerId, store });
 */
export interface GraphStore {
  /** How many appended updates the graph lets pile up before it writes a snapshot; 0 never compacts. */
  readonly compactEvery: number;
  /** Reads the snapshot and the updates after it. Throws `GRAPH_CORRUPT` (naming the file) or `STORAGE_FAILED`. */
  load(): Promise<Uint8Array[]>;
  /** Appends one update; resolves once it is durable. Rejects with `STORAGE_FAILED`. */
  append(update: Uint8Array): Promise<void>;
  /** Replaces everything stored so far by `snapshot`. Rejects with `STORAGE_FAILED`. */
  compact(snapshot: Uint8Array): Promise<void>;
  /** Waits for pending writes, then releases files. */
  close(): Promise<void>;
}
