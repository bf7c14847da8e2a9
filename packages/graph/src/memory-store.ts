import { MonkError } from '@monk/model';
import type { GraphStore } from './graph-store.ts';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Compact after this many appends (default 1000; 0 never). */
  readonly compactEvery?: number;
}

/**
 * The in-memory twin of {@link createFileStore}: same contract, nothing survives the process. Use it in
 * tests, and to reopen a graph from "disk" by passing the same store to a second `createGraph`.
 *
 * @example
 * const store = createMemoryStore();
 * const graph = await createGraph({ peerId: 'a', store });
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): GraphStore {
  let snapshot: Uint8Array | undefined;
  let updates: Uint8Array[] = [];
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new MonkError('STORAGE_FAILED', 'memory graph store is closed');
  };
  return {
    compactEvery: options.compactEvery ?? 1000,
    async load() {
      ensureOpen();
      await Promise.resolve();
      return [...(snapshot === undefined ? [] : [snapshot]), ...updates];
    },
    async append(update) {
      ensureOpen();
      updates.push(update.slice());
      await Promise.resolve();
    },
    async compact(next) {
      ensureOpen();
      snapshot = next.slice();
      updates = [];
      await Promise.resolve();
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
