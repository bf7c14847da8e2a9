import * as Y from 'yjs';
import {
  deploymentSchema,
  jsonObjectSchema,
  MonkError,
  observedWorkloadSchema,
  peerRecordSchema,
  workloadSchema,
} from '@monk/model';
import type { Deployment, JsonObject, ObservedWorkload, PeerRecord, Workload } from '@monk/model';
import { z } from 'zod';
import {
  decodeGraphStateVector,
  decodeGraphUpdate,
  encodeGraphStateVector,
  encodeGraphUpdate,
} from './graph-update-codec.ts';
import type { RawBlock } from './graph-update-codec.ts';
import type { GraphProblem, GraphProblemListener } from './graph-problem.ts';
import type { GraphStore } from './graph-store.ts';
import { createObservedRegisters } from './observed-registers.ts';
import { conflictsToPrune, createConcurrentWrites, deploymentConflictSchema } from './concurrent-writes.ts';
import type { ConcurrentWrites, DeploymentConflict, StampedKind } from './concurrent-writes.ts';
import { compareStamps as compareStampsOf, hlcStampSchema } from './hlc.ts';
import type { HlcStamp } from './hlc.ts';
import { secretKey, secretRecordSchema } from './secret-record.ts';
import type { SecretRecord } from './secret-record.ts';
import type { ObservedBlock, ObservedEntry, ObservedRegisters } from './observed-registers.ts';

/** The graph schema version this code reads and writes (`meta.schemaVersion`). */
export const graphSchemaVersion = 1;

/** What kind of record a {@link GraphChange} is about. */
export type GraphChangeKind =
  'template' | 'deployment' | 'workload' | 'observed' | 'peer' | 'meta' | 'secret' | 'conflict';

/**
 * One changed record. `key` is the template or deployment path, the workload id (also for observed
 * records, with `peer` naming the observing peer), the peer id, the meta field name, `scope#name` of a
 * secret, or the deployment path of a recorded or pruned conflict (see {@link Graph.listConflicts}). `origin` says
 * whether this replica wrote it or it arrived from a peer (or from disk while loading).
 */
export interface GraphChange {
  readonly kind: GraphChangeKind;
  readonly key: string;
  readonly origin: 'local' | 'remote';
  readonly peer?: string;
}

/** An update the graph produced: a local write (once durable) or what a remote update changed here. */
export type GraphUpdateEvent =
  | { readonly local: true; readonly update: Uint8Array }
  | { readonly local: false; readonly update: Uint8Array; readonly origin: string };

/** Cluster-wide facts kept in the graph. */
export interface GraphMeta {
  readonly schemaVersion: number;
  readonly clusterId?: string;
  readonly clusterName?: string;
  /** The cluster CIDR of the mesh's address plan, chosen at `monk cluster new`. */
  readonly meshCidr?: string;
}

/**
 * The live application graph of one replica (one per daemon).
 *
 * Desired state (templates, deployments, workloads, peers, meta) merges across peers (a Yjs document,
 * last writer wins per record). Observed state is written only by the peer that observes it and kept in
 * compacting per-peer registers, so rewriting statuses does not grow the graph.
 *
 * Writes apply to memory synchronously and go to the store in the background; `flush()` resolves once all
 * of them are durable. Every write validates its input and throws `INVALID_REQUEST` before changing
 * anything. When the store fails a write (a full disk), that write's `flush()` rejects with
 * `STORAGE_FAILED`, and the graph rebuilds its memory from the store, so a change that is not durable is
 * not visible (listeners hear it undone); writes made while it rebuilds throw `STORAGE_FAILED`, and once
 * it has rebuilt, writes are tried again. {@link Graph.storageFailure} says whether the last write failed. Records read from disk or from peers are validated; invalid ones are left out of
 * reads and reported through `onProblem`. Returned records are frozen.
 *
 * Replication works on opaque bytes: {@link Graph.encodeStateVector}, {@link Graph.encodeUpdateSince},
 * {@link Graph.applyRemoteUpdate} and {@link Graph.onUpdate}; {@link createGraphSync} speaks them over
 * a transport.
 *
 * @example
 * const graph = await createGraph({ peerId: 'peer-a', store: createFileStore({ dir }) });
 * graph.putWorkloads([workload]);
 * await graph.flush();
 * graph.onChange((changes) => reconcile(changes));
 */
export interface Graph {
  readonly peerId: string;

  /** Writes templates by path, all in one transaction (a path written again is replaced). */
  putTemplates(records: ReadonlyArray<{ readonly path: string; readonly value: JsonObject }>): void;
  deleteTemplates(paths: readonly string[]): void;
  getTemplate(path: string): JsonObject | undefined;
  /** All templates, sorted by path. */
  listTemplates(): Array<{ path: string; value: JsonObject }>;

  putDeployment(deployment: Deployment): void;
  getDeployment(path: string): Deployment | undefined;
  listDeployments(): Deployment[];
  deleteDeployment(path: string): void;

  /**
   * Writes workloads by id, in one transaction. The owner of a workload is a register of its own (see
   * {@link Graph.assignWorkloads}): a write assigns `owner` only when it creates the workload or names
   * another owner than the one this replica shows (a `--peer` pin); otherwise its `owner` is ignored, so a
   * `stop` or `update` racing a move made elsewhere does not undo it.
   */
  putWorkloads(workloads: readonly Workload[]): void;
  /** Deletes workloads and their assignments (no-op for ids it does not hold). */
  deleteWorkloads(ids: readonly string[]): void;
  /**
   * Moves workloads to other owners, in one transaction, without touching the rest of their records: what
   * repair writes. Concurrent assignments of one workload converge on the one with the highest stamp (hybrid
   * logical clock; ties by peer id), whatever order replicas see them in. A move to the owner already shown
   * writes nothing. Throws `INVALID_REQUEST` for an empty owner or a workload this replica does not hold,
   * before writing anything.
   *
   * @example
   * graph.assignWorkloads([{ workloadId: 'ns/app#web', owner: 'peer-b' }]);
   */
  assignWorkloads(moves: ReadonlyArray<{ readonly workloadId: string; readonly owner: string }>): void;
  /** A workload, its `owner` read from its assignment. */
  getWorkload(id: string): Workload | undefined;
  /** Workloads sorted by id, optionally only those of one owner and/or one deployment. */
  listWorkloads(filter?: { readonly owner?: string; readonly deployment?: string }): Workload[];

  putPeer(peer: PeerRecord): void;
  getPeer(id: string): PeerRecord | undefined;
  listPeers(): PeerRecord[];
  removePeer(id: string): void;

  /**
   * Writes a secret (already encrypted by the caller: the graph stores what it is given), replacing the
   * one with the same scope and name. Throws `INVALID_REQUEST` for an invalid name, scope or encoding.
   */
  putSecret(secret: SecretRecord): void;
  getSecret(scope: string, name: string): SecretRecord | undefined;
  /** Secrets sorted by scope then name, optionally of one scope only. */
  listSecrets(filter?: { readonly scope?: string }): SecretRecord[];
  /** Forgets a secret (no-op if there is none). */
  deleteSecret(scope: string, name: string): void;

  /**
   * Recorded races between writes to the same deployment (see {@link DeploymentConflict}), oldest losing
   * write first, optionally of one path and/or with a losing write at or after `since` (ISO 8601).
   */
  listConflicts(filter?: { readonly path?: string; readonly since?: string }): DeploymentConflict[];

  getMeta(): GraphMeta;
  setClusterIdentity(identity: {
    readonly clusterId: string;
    readonly clusterName: string;
    readonly meshCidr?: string | undefined;
  }): void;

  /** Records what this peer observes of a workload. Throws `INVALID_REQUEST` if `status.peer !== peerId`. */
  setObserved(status: ObservedWorkload): void;
  /** Forgets this peer's observation of a workload (no-op if there is none). */
  deleteObserved(workloadId: string): void;
  /** Observed records sorted by workload id then peer, optionally of one peer only. */
  listObserved(filter?: { readonly peer?: string; readonly workloadId?: string }): ObservedWorkload[];
  /**
   * One observation of a workload: `peer`'s if given, else the owner's (none until the owner has observed
   * it, e.g. just after a move), else, for a workload that no longer exists, the most recently updated one.
   */
  getObserved(workloadId: string, peer?: string): ObservedWorkload | undefined;

  /** Runs several writes as one: one update, one change batch. Nested calls join the outer one. */
  transact(fn: () => void): void;
  /** Resolves once every write made so far is durable; rejects with `STORAGE_FAILED` if one is not. */
  flush(): Promise<void>;
  /**
   * The failure of the store's last write, until a later write is durable again (undefined when all is
   * well): what an operator must be told, e.g. that the disk is full.
   */
  storageFailure(): MonkError | undefined;
  /** Calls `listener` with the changes of each transaction (local or remote). Returns an unsubscribe. */
  onChange(listener: (changes: readonly GraphChange[]) => void): () => void;

  /** This replica's version summary, for a peer to compute what we lack. */
  encodeStateVector(): Uint8Array;
  /** Everything a replica at `stateVector` lacks (everything, when omitted). Throws `PROTOCOL_ERROR`. */
  encodeUpdateSince(stateVector?: Uint8Array): Uint8Array;
  /**
   * True when a replica at `stateVector` holds something this one lacks, or when updates received here
   * wait for history that has not arrived (Yjs keeps them pending): either way, ask that replica for a
   * catch-up. Throws `PROTOCOL_ERROR` for a malformed vector.
   */
  needsCatchUpFrom(stateVector: Uint8Array): boolean;
  /** True when received updates wait here for earlier history from their author. */
  hasPendingUpdates(): boolean;
  /**
   * Merges an update from a peer (`origin` names it). Malformed input throws `PROTOCOL_ERROR` and leaves
   * the graph unchanged; invalid records inside a well-formed update are skipped and reported.
   */
  applyRemoteUpdate(update: Uint8Array, origin: string): void;
  /** Calls `listener` with each local update once it is durable (at once when there is no store). */
  onLocalUpdate(listener: (update: Uint8Array) => void): () => void;
  /** Local updates (once durable) and the part of each remote update that was new here. */
  onUpdate(listener: (event: GraphUpdateEvent) => void): () => void;

  /** Waits for pending writes and closes the store. Idempotent; the graph is unusable afterwards. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link createGraph}. */
export interface GraphOptions {
  /** This replica's peer id: the only peer whose observed records it may write. */
  readonly peerId: string;
  /** Where updates persist; without one the graph lives in memory only. */
  readonly store?: GraphStore;
  /**
   * Orders this peer's observed writes across restarts, and stamps its deployment and workload writes
   * (hybrid logical clock: the later write wins a race, ties broken by peer id). Default: the system clock.
   */
  readonly clock?: () => Date;
  /** Source of randomness in [0, 1) for the Yjs client id (default: crypto). Inject for reproducible tests. */
  readonly random?: () => number;
  /** Told about invalid records and other skipped input. */
  readonly onProblem?: GraphProblemListener;
  /** Deleted observed records remembered per peer to serve small catch-ups (default 256). */
  readonly maxObservedTombstones?: number;
}

const mapNames = {
  template: 'templates',
  deployment: 'deployments',
  workload: 'workloads',
  peer: 'peers',
  meta: 'meta',
  secret: 'secrets',
  assignment: 'assignments',
} as const;
type DesiredKind = keyof typeof mapNames;
type DesiredValue = {
  template: JsonObject;
  deployment: Deployment;
  workload: Workload;
  peer: PeerRecord;
  meta: unknown;
  secret: SecretRecord;
  assignment: Assignment;
};

/** The owner register of one workload, keyed by workload id (stamped like workloads). */
const assignmentSchema = z.object({ owner: z.string() });
type Assignment = z.infer<typeof assignmentSchema>;

function isStamped(kind: DesiredKind): kind is StampedKind {
  return kind === 'deployment' || kind === 'workload' || kind === 'assignment';
}

const localOrigin = Symbol('monk-graph-local');

/**
 * Opens a graph replica, loading whatever its store holds. Throws `GRAPH_CORRUPT` when the stored
 * updates cannot be decoded, `SCHEMA_VERSION_UNSUPPORTED` when the graph was written by a newer schema,
 * and `STORAGE_FAILED` when the store cannot be read.
 *
 * @example
 * const graph = await createGraph({ peerId, store: createFileStore({ dir: '/var/lib/monk/graph' }) });
 */
export async function createGraph(options: GraphOptions): Promise<Graph> {
  try {
    const loaded = options.store === undefined ? [] : await options.store.load();
    const graph = new LiveGraph(options);
    graph.load(loaded);
    return graph;
  } catch (error) {
    await options.store?.close();
    throw error;
  }
}

class LiveGraph implements Graph {
  readonly peerId: string;
  readonly #options: GraphOptions;
  #doc!: Y.Doc;
  #maps!: { readonly [K in DesiredKind]: Y.Map<unknown> };
  #cache!: { readonly [K in DesiredKind]: Map<string, DesiredValue[K]> };
  /** Workloads with the owner of their assignment, built on first read after a change. */
  #owned!: Map<string, Workload>;
  #registers!: ObservedRegisters;
  #conflicts!: Y.Map<unknown>;
  /** Per deployment or workload, the stamp of the last value deliberately deleted (see concurrent-writes). */
  #purges!: Y.Map<unknown>;
  #writes!: ConcurrentWrites;
  /** One stamp per local transaction, taken at its first stamped write. */
  #writeStamp: HlcStamp | undefined;
  readonly #changeListeners = new Set<(changes: readonly GraphChange[]) => void>();
  readonly #updateListeners = new Set<(event: GraphUpdateEvent) => void>();
  #depth = 0;
  #origin: 'local' | 'remote' = 'local';
  #loading = false;
  #pendingYjs: Uint8Array[] = [];
  #pendingBlocks: ObservedBlock[] = [];
  #pendingChanges: GraphChange[] = [];
  #lastSeq = 0;
  /** The first observed write of a session carries this peer's full observed state (see the registers). */
  #firstObservedWrite = true;
  #sinceCompaction = 0;
  #inflight: Promise<void> = Promise.resolve();
  /** Set from a failed write until memory has been rebuilt from the store: writes are refused meanwhile. */
  #failure: MonkError | undefined;
  /** The last write failure, until a write is durable again. */
  #lastFailure: MonkError | undefined;
  #failures = 0;
  #rebuilding: Promise<void> | undefined;
  #closed = false;

  constructor(options: GraphOptions) {
    this.peerId = options.peerId;
    this.#options = options;
    this.#attachFreshDoc();
  }

  /** A new, empty document and read state (on open, and to rebuild from the store after a failed write). */
  #attachFreshDoc(): void {
    const options = this.#options;
    this.#doc = new Y.Doc({ gc: true });
    // A fresh client id per session: Yjs must never reuse one after a crash lost part of its history.
    if (options.random !== undefined) this.#doc.clientID = Math.floor(options.random() * 0x1_0000_0000) >>> 0;
    this.#maps = {
      template: this.#doc.getMap(mapNames.template),
      deployment: this.#doc.getMap(mapNames.deployment),
      workload: this.#doc.getMap(mapNames.workload),
      peer: this.#doc.getMap(mapNames.peer),
      meta: this.#doc.getMap(mapNames.meta),
      secret: this.#doc.getMap(mapNames.secret),
      assignment: this.#doc.getMap(mapNames.assignment),
    };
    this.#conflicts = this.#doc.getMap('conflicts');
    this.#purges = this.#doc.getMap('purges');
    this.#writes = createConcurrentWrites({
      peer: options.peerId,
      wallClock: () => (options.clock ?? (() => new Date()))().getTime(),
      purgedStamp: (kind, key) => parsed(hlcStampSchema, this.#purges.get(`${kind}\u0000${key}`)),
    });
    this.#cache = {
      template: new Map(),
      deployment: new Map(),
      workload: new Map(),
      peer: new Map(),
      meta: new Map(),
      secret: new Map(),
      assignment: new Map(),
    };
    this.#owned = new Map();
    this.#registers = createObservedRegisters(
      options.maxObservedTombstones === undefined ? {} : { maxTombstones: options.maxObservedTombstones },
    );
    this.#doc.on('update', (update: Uint8Array) => {
      this.#pendingYjs.push(update);
    });
    this.#doc.on('afterTransaction', (transaction: Y.Transaction) => {
      // A workload and its assignment changed together are one change to listeners.
      const moved = new Set<string>();
      for (const [type, keys] of transaction.changed) {
        if (this.#isConflicts(type)) {
          for (const key of keys) {
            const path = key?.slice(0, key.indexOf('|'));
            if (path) this.#pendingChanges.push({ kind: 'conflict', key: path, origin: this.#origin });
          }
          continue;
        }
        const kind = this.#kindOf(type);
        if (kind === undefined) continue;
        for (const key of keys) {
          if (key === null) continue;
          this.#refresh(kind, key);
          if (isStamped(kind)) {
            this.#writes.observe({
              kind,
              key,
              raw: this.#maps[kind].get(key),
              value: this.#cache[kind].get(key),
              remote: transaction.origin !== localOrigin,
            });
          }
          if (kind === 'workload' || kind === 'assignment') {
            this.#owned.delete(key);
            // A move is a change of the workload to those listening: they read owners through it.
            if (moved.has(key)) continue;
            moved.add(key);
            this.#pendingChanges.push({ kind: 'workload', key, origin: this.#origin });
            continue;
          }
          this.#pendingChanges.push({ kind, key, origin: this.#origin });
        }
      }
    });
  }

  /** Applies the stored updates and checks the schema version. */
  load(updates: readonly Uint8Array[]): void {
    this.#loading = true;
    try {
      updates.forEach((update, index) => {
        try {
          this.#applyDecoded(update, 'store');
        } catch (error) {
          throw new MonkError('GRAPH_CORRUPT', `stored graph update #${index} cannot be read`, {
            cause: error,
            details: { record: index },
          });
        }
      });
    } finally {
      this.#loading = false;
      this.#resetPending();
    }
    this.#lastSeq = this.#registers.latest(this.peerId);
    this.#sinceCompaction = updates.length;
    this.#checkSchemaVersion();
    // A race merged before a crash may not have been resolved yet.
    this.#resolveRaces();
  }

  // ---- desired state

  putTemplates(records: ReadonlyArray<{ readonly path: string; readonly value: JsonObject }>): void {
    const values = records.map((record) => {
      requireKey('template path', record.path);
      if (!isPlainObject(record.value)) throw invalid(`template ${record.path} is not a JSON object`);
      return {
        path: record.path,
        value: validated(jsonObjectSchema, record.value, `template ${record.path}`),
      };
    });
    this.#write(() => {
      for (const { path, value } of values) this.#maps.template.set(path, value);
    });
  }

  deleteTemplates(paths: readonly string[]): void {
    this.#deleteKeys('template', paths);
  }

  getTemplate(path: string): JsonObject | undefined {
    return this.#cache.template.get(path);
  }

  listTemplates(): Array<{ path: string; value: JsonObject }> {
    return sortedEntries(this.#cache.template).map(([path, value]) => ({ path, value }));
  }

  putDeployment(deployment: Deployment): void {
    const value = validated(deploymentSchema, deployment, `deployment ${String(deployment.path)}`);
    requireKey('deployment path', value.path);
    this.#write(() => this.#maps.deployment.set(value.path, this.#stamped('deployment', value.path, value)));
  }

  getDeployment(path: string): Deployment | undefined {
    return this.#cache.deployment.get(path);
  }

  listDeployments(): Deployment[] {
    return sortedEntries(this.#cache.deployment).map(([, value]) => value);
  }

  deleteDeployment(path: string): void {
    this.#deleteKeys('deployment', [path]);
  }

  putWorkloads(workloads: readonly Workload[]): void {
    const values = workloads.map((workload) => {
      const value = validated(workloadSchema, workload, `workload ${String(workload.id)}`);
      requireKey('workload id', value.id);
      return value;
    });
    this.#write(() => {
      for (const value of values) {
        // Read before the write: a new workload, or another owner than shown, is an assignment.
        const assign = this.getWorkload(value.id)?.owner !== value.owner;
        this.#maps.workload.set(value.id, this.#stamped('workload', value.id, value));
        if (assign) this.#assign(value.id, value.owner);
      }
    });
  }

  deleteWorkloads(ids: readonly string[]): void {
    this.#write(() => {
      for (const id of ids) {
        if (this.#maps.workload.has(id)) this.#delete('workload', id);
        if (this.#maps.assignment.has(id)) this.#delete('assignment', id);
      }
    });
  }

  assignWorkloads(moves: ReadonlyArray<{ readonly workloadId: string; readonly owner: string }>): void {
    for (const move of moves) {
      requireKey('owner', move.owner);
      if (this.#cache.workload.get(move.workloadId) === undefined)
        throw invalid(`cannot assign workload ${String(move.workloadId)}: there is no such workload`);
    }
    const changed = moves.filter((move) => this.getWorkload(move.workloadId)?.owner !== move.owner);
    if (changed.length === 0) {
      this.#ensureWritable();
      return;
    }
    this.#write(() => {
      for (const move of changed) this.#assign(move.workloadId, move.owner);
    });
  }

  #assign(workloadId: string, owner: string): void {
    this.#maps.assignment.set(workloadId, this.#stamped('assignment', workloadId, { owner }));
  }

  getWorkload(id: string): Workload | undefined {
    const cached = this.#owned.get(id);
    if (cached !== undefined) return cached;
    const workload = this.#cache.workload.get(id);
    if (workload === undefined) return undefined;
    const owner = this.#cache.assignment.get(id)?.owner;
    const view =
      owner === undefined || owner === workload.owner ? workload : deepFreeze({ ...workload, owner });
    this.#owned.set(id, view);
    return view;
  }

  listWorkloads(filter: { readonly owner?: string; readonly deployment?: string } = {}): Workload[] {
    return sortedEntries(this.#cache.workload)
      .map(([id]) => this.getWorkload(id))
      .filter((workload) => workload !== undefined)
      .filter(
        (workload) =>
          (filter.owner === undefined || workload.owner === filter.owner) &&
          (filter.deployment === undefined || workload.deployment === filter.deployment),
      );
  }

  putPeer(peer: PeerRecord): void {
    const value = validated(peerRecordSchema, peer, `peer ${String(peer.id)}`);
    requireKey('peer id', value.id);
    this.#write(() => this.#maps.peer.set(value.id, value));
  }

  getPeer(id: string): PeerRecord | undefined {
    return this.#cache.peer.get(id);
  }

  listPeers(): PeerRecord[] {
    return sortedEntries(this.#cache.peer).map(([, value]) => value);
  }

  removePeer(id: string): void {
    this.#deleteKeys('peer', [id]);
  }

  putSecret(secret: SecretRecord): void {
    const value = validated(secretRecordSchema, secret, `secret ${String(secret.name)}`);
    this.#write(() => this.#maps.secret.set(secretKey(value.scope, value.name), value));
  }

  getSecret(scope: string, name: string): SecretRecord | undefined {
    return this.#cache.secret.get(secretKey(scope, name));
  }

  listSecrets(filter: { readonly scope?: string } = {}): SecretRecord[] {
    return [...this.#cache.secret.values()]
      .filter((secret) => filter.scope === undefined || secret.scope === filter.scope)
      .sort((a, b) => compareStrings(a.scope, b.scope) || compareStrings(a.name, b.name));
  }

  deleteSecret(scope: string, name: string): void {
    this.#deleteKeys('secret', [secretKey(scope, name)]);
  }

  listConflicts(filter: { readonly path?: string; readonly since?: string } = {}): DeploymentConflict[] {
    const since = filter.since === undefined ? undefined : Date.parse(filter.since);
    return this.#readConflicts()
      .map(({ conflict }) => conflict)
      .filter(
        (conflict) =>
          (filter.path === undefined || conflict.path === filter.path) &&
          (since === undefined || conflict.lost.stamp.wallMs >= since),
      );
  }

  getMeta(): GraphMeta {
    const meta = this.#cache.meta;
    const text = (key: string): string | undefined => {
      const value = meta.get(key);
      return typeof value === 'string' ? value : undefined;
    };
    const version = meta.get('schemaVersion');
    const clusterId = text('clusterId');
    const clusterName = text('clusterName');
    const meshCidr = text('meshCidr');
    return {
      schemaVersion: typeof version === 'number' ? version : graphSchemaVersion,
      ...(clusterId === undefined ? {} : { clusterId }),
      ...(clusterName === undefined ? {} : { clusterName }),
      ...(meshCidr === undefined ? {} : { meshCidr }),
    };
  }

  setClusterIdentity(identity: {
    readonly clusterId: string;
    readonly clusterName: string;
    readonly meshCidr?: string | undefined;
  }): void {
    requireKey('cluster id', identity.clusterId);
    requireKey('cluster name', identity.clusterName);
    this.#write(() => {
      this.#maps.meta.set('clusterId', identity.clusterId);
      this.#maps.meta.set('clusterName', identity.clusterName);
      if (identity.meshCidr !== undefined) this.#maps.meta.set('meshCidr', identity.meshCidr);
    });
  }

  // ---- observed state

  setObserved(status: ObservedWorkload): void {
    const value = validated(
      observedWorkloadSchema,
      status,
      `observed status of ${String(status.workloadId)}`,
    );
    requireKey('workload id', value.workloadId);
    if (value.peer !== this.peerId) {
      throw invalid(`peer ${this.peerId} cannot write the observed status of peer ${value.peer}`);
    }
    this.#write(() => this.#writeObserved(value.workloadId, deepFreeze(value)));
  }

  deleteObserved(workloadId: string): void {
    if (this.#registers.get(this.peerId, workloadId) === undefined) {
      this.#ensureWritable();
      return;
    }
    this.#write(() => this.#writeObserved(workloadId, undefined));
  }

  listObserved(filter: { readonly peer?: string; readonly workloadId?: string } = {}): ObservedWorkload[] {
    return this.#registers
      .list()
      .filter(
        (status) =>
          (filter.peer === undefined || status.peer === filter.peer) &&
          (filter.workloadId === undefined || status.workloadId === filter.workloadId),
      )
      .sort((a, b) => compareStrings(a.workloadId, b.workloadId) || compareStrings(a.peer, b.peer));
  }

  getObserved(workloadId: string, peer?: string): ObservedWorkload | undefined {
    if (peer !== undefined) return this.#registers.get(peer, workloadId);
    const owner = this.getWorkload(workloadId)?.owner;
    // A peer that no longer owns the instance (it moved) says nothing of it: only its owner does.
    if (owner !== undefined) return this.#registers.get(owner, workloadId);
    const all = this.listObserved({ workloadId });
    return all.sort((a, b) => compareStrings(b.updatedAt, a.updatedAt))[0];
  }

  #writeObserved(key: string, value: ObservedWorkload | undefined): void {
    const seq = Math.max(this.#lastSeq + 1, this.#clockSeq());
    this.#lastSeq = seq;
    const block = this.#registers.write({
      peer: this.peerId,
      key,
      value,
      seq,
      full: this.#firstObservedWrite,
    });
    this.#firstObservedWrite = false;
    this.#pushBlock(block);
    this.#pendingChanges.push({ kind: 'observed', key, origin: 'local', peer: this.peerId });
  }

  /** Milliseconds × 1000: a restart that lost its unsynced tail still never reuses a sequence number. */
  #clockSeq(): number {
    const now = (this.#options.clock ?? (() => new Date()))().getTime();
    return Number.isFinite(now) && now > 0 ? Math.floor(now) * 1000 : 0;
  }

  /** Consecutive deltas of one peer in one transaction travel as one block. */
  #pushBlock(block: ObservedBlock): void {
    const last = this.#pendingBlocks.at(-1);
    if (
      last !== undefined &&
      last.kind === 'delta' &&
      block.kind === 'delta' &&
      last.peer === block.peer &&
      last.to === block.from
    ) {
      this.#pendingBlocks[this.#pendingBlocks.length - 1] = {
        ...last,
        to: block.to,
        entries: [...last.entries, ...block.entries],
      };
      return;
    }
    this.#pendingBlocks.push(block);
  }

  // ---- transactions, durability, feeds

  transact(fn: () => void): void {
    this.#write(fn);
  }

  async flush(): Promise<void> {
    // Writes made before this call are in flight now; a failure counted from here on is one of theirs.
    const failuresBefore = this.#failures;
    let seen: Promise<void>;
    do {
      seen = this.#inflight;
      await seen;
      if (this.#rebuilding !== undefined) await this.#rebuilding;
    } while (seen !== this.#inflight || this.#rebuilding !== undefined);
    if (this.#failures > failuresBefore || this.#failure !== undefined) {
      throw this.#lastFailure ?? this.#failure ?? new MonkError('STORAGE_FAILED', 'a graph write failed');
    }
  }

  storageFailure(): MonkError | undefined {
    return this.#lastFailure;
  }

  onChange(listener: (changes: readonly GraphChange[]) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  onLocalUpdate(listener: (update: Uint8Array) => void): () => void {
    return this.onUpdate((event) => {
      if (event.local) listener(event.update);
    });
  }

  onUpdate(listener: (event: GraphUpdateEvent) => void): () => void {
    this.#updateListeners.add(listener);
    return () => this.#updateListeners.delete(listener);
  }

  // ---- replication

  encodeStateVector(): Uint8Array {
    return encodeGraphStateVector({
      yjs: Y.encodeStateVector(this.#doc),
      observed: this.#registers.vector(),
    });
  }

  encodeUpdateSince(stateVector?: Uint8Array): Uint8Array {
    const vector = stateVector === undefined ? undefined : decodeGraphStateVector(stateVector);
    let yjs: Uint8Array;
    try {
      yjs = Y.encodeStateAsUpdate(this.#doc, vector?.yjs);
    } catch (error) {
      throw new MonkError('PROTOCOL_ERROR', 'malformed Yjs state vector in a graph state vector', {
        cause: error,
      });
    }
    return encodeGraphUpdate({ yjs, blocks: this.#registers.blocksSince(vector?.observed) });
  }

  needsCatchUpFrom(stateVector: Uint8Array): boolean {
    const vector = decodeGraphStateVector(stateVector);
    let remote: Map<number, number>;
    try {
      remote = Y.decodeStateVector(vector.yjs);
    } catch (error) {
      throw new MonkError('PROTOCOL_ERROR', 'malformed Yjs state vector in a graph state vector', {
        cause: error,
      });
    }
    const local = Y.decodeStateVector(Y.encodeStateVector(this.#doc));
    for (const [client, clock] of remote) if ((local.get(client) ?? 0) < clock) return true;
    const observed = this.#registers.vector();
    for (const [peer, sequence] of vector.observed) if ((observed.get(peer) ?? 0) < sequence) return true;
    return this.hasPendingUpdates();
  }

  hasPendingUpdates(): boolean {
    return this.#doc.store.pendingStructs !== null || this.#doc.store.pendingDs !== null;
  }

  applyRemoteUpdate(update: Uint8Array, origin: string): void {
    this.#ensureWritable();
    this.#applyDecoded(update, origin);
    this.#checkSchemaVersion();
    this.#resolveRaces();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#inflight;
    await this.#rebuilding;
    this.#changeListeners.clear();
    this.#updateListeners.clear();
    this.#doc.destroy();
    await this.#options.store?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals

  #applyDecoded(update: Uint8Array, origin: string): void {
    const decoded = decodeGraphUpdate(update);
    if (decoded.yjs !== undefined) {
      try {
        Y.decodeUpdate(decoded.yjs);
      } catch (error) {
        throw new MonkError('PROTOCOL_ERROR', `malformed Yjs update from ${origin}`, { cause: error });
      }
    }
    const blocks = decoded.blocks.map((block) => this.#validBlock(block, origin));
    this.#origin = 'remote';
    this.#depth++;
    try {
      if (decoded.yjs !== undefined) {
        try {
          Y.applyUpdate(this.#doc, decoded.yjs, origin);
        } catch (error) {
          throw new MonkError('PROTOCOL_ERROR', `Yjs rejected an update from ${origin}`, { cause: error });
        }
      }
      for (const block of blocks) {
        const result = this.#registers.apply(block);
        if (!result.changed) continue;
        this.#pendingBlocks.push(block);
        if (block.peer === this.peerId)
          this.#lastSeq = Math.max(this.#lastSeq, this.#registers.latest(this.peerId));
        for (const key of result.changedKeys) {
          this.#pendingChanges.push({ kind: 'observed', key, origin: 'remote', peer: block.peer });
        }
      }
    } finally {
      this.#depth--;
      this.#origin = 'local';
      if (this.#loading) this.#resetPending();
      else this.#finish({ local: false, origin });
    }
  }

  #validBlock(block: RawBlock, origin: string): ObservedBlock {
    const entries: ObservedEntry[] = [];
    for (const entry of block.entries) {
      if (entry.value === undefined) {
        entries.push({ key: entry.key, seq: entry.seq, value: undefined });
        continue;
      }
      const parsed = observedWorkloadSchema.safeParse(entry.value);
      if (parsed.success && parsed.data.peer === block.peer && parsed.data.workloadId === entry.key) {
        entries.push({ key: entry.key, seq: entry.seq, value: deepFreeze(plain(parsed.data)) });
      } else {
        this.#report({
          kind: 'invalid-record',
          message: `skipped an invalid observed record ${entry.key} of peer ${block.peer} from ${origin}`,
          details: { kind: 'observed', key: entry.key, peer: block.peer, origin },
        });
      }
    }
    return { ...block, entries };
  }

  #write(fn: () => void): void {
    this.#ensureWritable();
    this.#depth++;
    try {
      this.#doc.transact(() => {
        fn();
        // The first write of a replica stamps the version, so an empty joining replica writes nothing.
        if (this.#maps.meta.get('schemaVersion') === undefined) {
          this.#maps.meta.set('schemaVersion', graphSchemaVersion);
        }
      }, localOrigin);
    } finally {
      this.#depth--;
      if (this.#depth === 0) {
        this.#writeStamp = undefined;
        this.#finish({ local: true });
      }
    }
  }

  #stamped(kind: StampedKind, key: string, value: object): JsonObject {
    this.#writeStamp ??= this.#writes.now();
    return this.#writes.stamped({ kind, key, value, stamp: this.#writeStamp });
  }

  /**
   * Puts back the writes that won a race Yjs resolved the other way, and records the deployment writes
   * that lost (bounded by `conflictLimits`). Every replica that sees a race does the same, so the
   * highest stamp wins everywhere without a leader.
   */
  #resolveRaces(): void {
    const { reassert, conflicts } = this.#writes.takeResolution({ settled: !this.hasPendingUpdates() });
    if (reassert.length === 0 && conflicts.length === 0) return;
    this.#write(() => {
      const reasserted = new Set<string>();
      for (const { kind, key, record, stamp } of reassert) {
        const shown = this.#writes.stampOf(kind, key);
        if (shown === undefined || compareStampsOf(shown, stamp) < 0) {
          this.#maps[kind].set(key, record);
          if (kind === 'workload') reasserted.add(key);
        }
      }
      for (const { key, conflict } of conflicts) {
        if (this.#conflicts.get(key) === undefined) this.#conflicts.set(key, plain(conflict));
        // Workloads only the losing write created (the winner never saw them) go with it.
        for (const workload of this.#cache.workload.values()) {
          const stamp = this.#writes.stampOf('workload', workload.id);
          if (
            workload.deployment === conflict.path &&
            !reasserted.has(workload.id) &&
            compareStampsOf(stamp, conflict.lost.stamp) === 0
          ) {
            this.#delete('workload', workload.id);
            if (this.#maps.assignment.has(workload.id)) this.#delete('assignment', workload.id);
          }
        }
      }
      for (const key of conflictsToPrune(this.#readConflicts())) this.#conflicts.delete(key);
    });
  }

  #readConflicts(): Array<{ key: string; conflict: DeploymentConflict }> {
    const out: Array<{ key: string; conflict: DeploymentConflict }> = [];
    for (const [key, raw] of this.#conflicts) {
      const conflict = parsed(deploymentConflictSchema, raw);
      if (conflict !== undefined) out.push({ key, conflict: deepFreeze(plain(conflict)) });
    }
    return out.sort(
      (a, b) => compareStampsOf(a.conflict.lost.stamp, b.conflict.lost.stamp) || compareStrings(a.key, b.key),
    );
  }

  #deleteKeys(kind: DesiredKind, keys: readonly string[]): void {
    const map = this.#maps[kind];
    this.#write(() => {
      for (const key of keys) if (map.has(key)) this.#delete(kind, key);
    });
  }

  /** Deletes a record; for stamped ones, records what was deliberately deleted (see concurrent-writes). */
  #delete(kind: DesiredKind, key: string): void {
    if (isStamped(kind)) {
      const stamp = this.#writes.stampOf(kind, key);
      if (stamp !== undefined) this.#purges.set(`${kind}\u0000${key}`, { ...stamp });
    }
    this.#maps[kind].delete(key);
  }

  #finish(event: { local: true } | { local: false; origin: string }): void {
    if (this.#depth > 0) return;
    const yjsParts = this.#pendingYjs;
    const blocks = this.#pendingBlocks;
    const changes = this.#pendingChanges;
    this.#resetPending();
    if (changes.length > 0) {
      for (const listener of [...this.#changeListeners]) this.#call(() => listener(changes));
    }
    if (yjsParts.length === 0 && blocks.length === 0) return;
    const yjs =
      yjsParts.length === 0 ? undefined : yjsParts.length === 1 ? yjsParts[0] : Y.mergeUpdates(yjsParts);
    const update = encodeGraphUpdate({ yjs, blocks });
    if (this.#options.store === undefined) {
      this.#emit(event.local ? { local: true, update } : { local: false, update, origin: event.origin });
      return;
    }
    const durable = this.#persist(this.#options.store, update);
    if (event.local) {
      // Peers hear of a local write only once it is on disk: a write that fails never leaves this replica.
      this.#track(durable.then(() => this.#emit({ local: true, update })));
    } else {
      this.#emit({ local: false, update, origin: event.origin });
    }
  }

  #persist(store: GraphStore, update: Uint8Array): Promise<void> {
    const appended = store.append(update);
    this.#track(
      appended.then(() => {
        if (this.#failure === undefined) this.#lastFailure = undefined;
      }),
    );
    this.#sinceCompaction++;
    if (store.compactEvery > 0 && this.#sinceCompaction >= store.compactEvery) {
      this.#sinceCompaction = 0;
      this.#track(store.compact(this.encodeUpdateSince()));
    }
    return appended;
  }

  #track(promise: Promise<void>): void {
    const settled = promise.catch((error: unknown) => this.#onStorageFailure(error));
    this.#inflight = this.#inflight.then(() => settled);
  }

  #onStorageFailure(error: unknown): void {
    const failure =
      error instanceof MonkError && error.code === 'STORAGE_FAILED'
        ? error
        : new MonkError('STORAGE_FAILED', `graph of ${this.peerId} could not persist an update`, {
            cause: error,
          });
    this.#failures++;
    this.#failure ??= failure;
    this.#lastFailure = failure;
    this.#startRebuild();
  }

  /**
   * Memory holds a change the store does not: once every write in flight has settled, reload from the
   * store, so that what is visible is what is durable, and tell listeners what that undid.
   */
  #startRebuild(): void {
    if (this.#rebuilding !== undefined || this.#closed) return;
    const store = this.#options.store;
    if (store === undefined) return;
    this.#rebuilding = (async () => {
      let seen: Promise<void>;
      do {
        seen = this.#inflight;
        await seen;
      } while (seen !== this.#inflight);
      if (this.#closed) return;
      const updates = await store.load();
      const before = this.#readState();
      this.#doc.destroy();
      this.#attachFreshDoc();
      this.load(updates);
      this.#firstObservedWrite = true;
      this.#failure = undefined;
      const after = this.#readState();
      const changes: GraphChange[] = [];
      for (const key of new Set([...before.keys(), ...after.keys()])) {
        if (before.get(key) === after.get(key)) continue;
        const [kind = '', peer = '', ...rest] = key.split('\u0000');
        const change: GraphChange =
          kind === 'observed'
            ? { kind: 'observed', key: rest.join('\u0000'), origin: 'local', peer }
            : { kind: kind as GraphChangeKind, key: [peer, ...rest].join('\u0000'), origin: 'local' };
        changes.push(change);
      }
      if (changes.length > 0) {
        for (const listener of [...this.#changeListeners]) this.#call(() => listener(changes));
      }
    })()
      .catch((error: unknown) => {
        // The store cannot even be read: stay refusing writes; the next write tries to rebuild again.
        this.#report({
          kind: 'listener-failed',
          message: `could not reload the graph from its store after a failed write: ${error instanceof Error ? error.message : String(error)}`,
        });
      })
      .finally(() => {
        this.#rebuilding = undefined;
      });
  }

  /** Every record as JSON by kind and key, to tell what a rebuild changed. */
  #readState(): Map<string, string> {
    const state = new Map<string, string>();
    for (const kind of Object.keys(mapNames) as DesiredKind[]) {
      // Assignments are read through the workloads they own.
      if (kind === 'assignment') continue;
      for (const [key] of this.#cache[kind]) {
        const value = kind === 'workload' ? this.getWorkload(key) : this.#cache[kind].get(key);
        state.set(`${kind}\u0000${key}`, JSON.stringify(value));
      }
    }
    for (const observed of this.#registers.list()) {
      state.set(`observed\u0000${observed.peer}\u0000${observed.workloadId}`, JSON.stringify(observed));
    }
    return state;
  }

  #emit(event: GraphUpdateEvent): void {
    if (this.#failure !== undefined || this.#closed) return;
    for (const listener of [...this.#updateListeners]) this.#call(() => listener(event));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#report({
        kind: 'listener-failed',
        message: `a graph listener threw: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  #resetPending(): void {
    this.#pendingYjs = [];
    this.#pendingBlocks = [];
    this.#pendingChanges = [];
  }

  #ensureWritable(): void {
    if (this.#closed) throw invalid(`graph of ${this.peerId} is closed`);
    if (this.#failure !== undefined) {
      this.#startRebuild();
      throw this.#failure;
    }
  }

  #checkSchemaVersion(): void {
    const version = this.#maps.meta.get('schemaVersion');
    if (typeof version === 'number' && version > graphSchemaVersion) {
      throw new MonkError(
        'SCHEMA_VERSION_UNSUPPORTED',
        `the graph has schema version ${version}; this monk reads up to ${graphSchemaVersion}`,
        { details: { schemaVersion: version, supported: graphSchemaVersion } },
      );
    }
  }

  #isConflicts(type: object): boolean {
    return this.#conflicts === type;
  }

  #kindOf(type: object): DesiredKind | undefined {
    for (const kind of Object.keys(mapNames) as DesiredKind[]) if (this.#maps[kind] === type) return kind;
    return undefined;
  }

  /** Re-reads one record from the document into the validated, frozen read cache. */
  #refresh(kind: DesiredKind, key: string): void {
    const cache = this.#cache[kind] as Map<string, unknown>;
    const raw = this.#maps[kind].get(key);
    if (raw === undefined) {
      cache.delete(key);
      return;
    }
    const value = readRecord(kind, key, raw);
    if (value === undefined) {
      cache.delete(key);
      this.#report({
        kind: 'invalid-record',
        message: `skipped an invalid ${kind} record ${key}`,
        details: { kind, key },
      });
      return;
    }
    cache.set(key, deepFreeze(value));
  }

  #report(problem: GraphProblem): void {
    this.#options.onProblem?.(problem);
  }
}

function readRecord(kind: DesiredKind, key: string, raw: unknown): unknown {
  // Nested Yjs types or binary content can only come from a foreign writer; they are never valid records.
  if (raw instanceof Y.AbstractType || raw instanceof Uint8Array) return undefined;
  switch (kind) {
    case 'template':
      return isPlainObject(raw) ? parsed(jsonObjectSchema, raw) : undefined;
    case 'deployment': {
      const value = parsed(deploymentSchema, raw);
      return value?.path === key ? value : undefined;
    }
    case 'workload': {
      const value = parsed(workloadSchema, raw);
      return value?.id === key ? value : undefined;
    }
    case 'peer': {
      const value = parsed(peerRecordSchema, raw);
      return value?.id === key ? value : undefined;
    }
    case 'meta':
      return raw === null || typeof raw === 'string' || typeof raw === 'number' ? raw : undefined;
    case 'secret': {
      const value = parsed(secretRecordSchema, raw);
      return value !== undefined && secretKey(value.scope, value.name) === key ? value : undefined;
    }
    case 'assignment':
      return parsed(assignmentSchema, raw);
  }
}

function parsed<T>(schema: z.ZodType<T>, raw: unknown): T | undefined {
  const result = schema.safeParse(raw);
  return result.success ? result.data : undefined;
}

function validated<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw invalid(
      `${what} is invalid: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  }
  return plain(result.data);
}

function invalid(message: string): MonkError {
  return new MonkError('INVALID_REQUEST', message);
}

function requireKey(what: string, key: unknown): void {
  if (typeof key !== 'string' || key.length === 0) throw invalid(`${what} must be a non-empty string`);
}

/** A JSON round trip: drops `undefined` fields so every replica holds exactly the same value. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedEntries<V>(map: ReadonlyMap<string, V>): Array<[string, V]> {
  return [...map].sort((a, b) => compareStrings(a[0], b[0]));
}
