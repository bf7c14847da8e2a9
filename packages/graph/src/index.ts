export { createGraph, graphSchemaVersion } from './graph.ts';
export type {
  Graph,
  GraphOptions,
  GraphChange,
  GraphChangeKind,
  GraphMeta,
  GraphUpdateEvent,
} from './graph.ts';
export { secretRecordSchema } from './secret-record.ts';
export type { SecretRecord } from './secret-record.ts';
export type { GraphStore } from './graph-store.ts';
export type { GraphProblem, GraphProblemListener } from './graph-problem.ts';
export { createFileStore, salvageFileStore } from './file-store.ts';
export type { FileStoreOptions, GraphSalvage } from './file-store.ts';
export { createMemoryStore } from './memory-store.ts';
export type { MemoryStoreOptions } from './memory-store.ts';
export { createGraphSync } from './graph-sync.ts';
export type { GraphSync, GraphSyncOptions, GraphSyncStats, SyncTransport } from './graph-sync.ts';
export { syncProtocolVersion } from './sync-message.ts';
export { conflictLimits } from './concurrent-writes.ts';
export type { ConflictWrite, DeploymentConflict } from './concurrent-writes.ts';
export { compareStamps, createHybridClock } from './hlc.ts';
export type { HlcStamp, HybridClock } from './hlc.ts';
