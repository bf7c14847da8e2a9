import { deploymentSchema } from '@monk/model';
import type { Deployment, JsonObject } from '@monk/model';
import { z } from 'zod';
import { compareStamps, createHybridClock, formatStamp, hlcStampSchema } from './hlc.ts';
import type { HlcStamp, HybridClock } from './hlc.ts';

/**
 * The record kinds whose concurrent writes are ordered by stamp rather than by Yjs. An `assignment` is the
 * owner of one workload, kept apart from the workload record (see `Graph.assignWorkloads`).
 */
export type StampedKind = 'deployment' | 'workload' | 'assignment';

/** One side of a {@link DeploymentConflict}: a write, who made it and when (by its stamp). */
export interface ConflictWrite {
  readonly stamp: HlcStamp;
  /** The writer's peer id (the stamp's peer). */
  readonly peer: string;
  /** The stamp's wall-clock time, ISO 8601. */
  readonly at: string;
  readonly deployment: Deployment;
}

/**
 * Two writes to the same deployment, neither of which saw the other (a partition, or two operators at
 * once): `won` has the higher stamp and is what every peer keeps; `lost` was acknowledged to whoever made
 * it and then replaced.
 */
export interface DeploymentConflict {
  readonly path: string;
  readonly lost: ConflictWrite;
  readonly won: ConflictWrite;
}

/** Conflicts kept per deployment path, and in all; the oldest (by losing stamp) go first. */
export const conflictLimits = { perPath: 16, total: 256 } as const;

const conflictWriteSchema = z.object({
  stamp: hlcStampSchema,
  peer: z.string(),
  at: z.string(),
  deployment: deploymentSchema,
});
export const deploymentConflictSchema = z.object({
  path: z.string(),
  lost: conflictWriteSchema,
  won: conflictWriteSchema,
});

/** The stamp fields a stamped record carries in the graph next to its own fields. */
interface StampFields {
  /** When (and by whom) this value was written. */
  readonly stamp: HlcStamp;
  /** The stamp of the value the writer replaced (absent if it saw none): tells overwrites from races. */
  readonly replaces?: HlcStamp;
}
const stampFieldsSchema = z.object({
  stamp: hlcStampSchema,
  replaces: hlcStampSchema.optional(),
});

interface Tracked {
  readonly fields: StampFields | undefined;
  readonly value: object;
  /**
   * No longer shown, deleted by a remote update: a purge, or an artefact of relaying (an update whose
   * deletions arrive before the write that caused them, which is still pending). Kept to tell which.
   */
  readonly ghost: boolean;
}

/** A write to put back: Yjs kept a value with a lower stamp over this one. */
export interface Reassertion {
  readonly kind: StampedKind;
  readonly key: string;
  readonly record: JsonObject;
  readonly stamp: HlcStamp;
}

/** What a replica must write after merging remote changes. */
export interface Resolution {
  readonly reassert: readonly Reassertion[];
  readonly conflicts: ReadonlyArray<{ readonly key: string; readonly conflict: DeploymentConflict }>;
}

/**
 * Orders concurrent writes of deployments and workloads by hybrid logical clock stamp, the highest stamp
 * winning, and records the deployment writes that lose. Yjs alone picks the winner of a concurrent map
 * write by client id, so after a partition an older write could silently replace a newer one.
 *
 * Every stamped record carries its `stamp` and the stamp it `replaces`. After a remote change a replica
 * compares what it held with what Yjs now shows:
 * - the shown value has a lower stamp than the one held: Yjs kept the loser, so the replica writes the held
 *   record back unchanged (same stamp), which every replica then accepts; a conflict is recorded;
 * - the shown value has a higher stamp but `replaces` something older than what was held: the writer never
 *   saw the held value, so it lost a race; a conflict is recorded;
 * - otherwise it is an ordinary overwrite.
 * Conflicts are recorded under a key derived from both stamps, so replicas that detect the same race
 * write the same entry.
 */
export interface ConcurrentWrites {
  /** The record as stored: `value` plus its stamp fields, stamped `stamp` (one per local transaction). */
  stamped(options: {
    readonly kind: StampedKind;
    readonly key: string;
    readonly value: object;
    readonly stamp: HlcStamp;
  }): JsonObject;
  /** A fresh stamp for a local transaction. */
  now(): HlcStamp;
  /** Tells of a record changed in a transaction (after the read cache was refreshed). */
  observe(options: {
    readonly kind: StampedKind;
    readonly key: string;
    readonly raw: unknown;
    readonly value: object | undefined;
    readonly remote: boolean;
  }): void;
  /** The stamp of the record shown now, if it has one. */
  stampOf(kind: StampedKind, key: string): HlcStamp | undefined;
  /**
   * Takes (and clears) what the replica must write after the last merge. `settled`: the replica holds no
   * updates waiting for missing history (only then are vanished records judged).
   */
  takeResolution(options: { readonly settled: boolean }): Resolution;
}

export function createConcurrentWrites(options: {
  readonly peer: string;
  readonly wallClock: () => number;
  /** The stamp of the last value of a record that was deliberately deleted (purged), if any. */
  readonly purgedStamp: (kind: StampedKind, key: string) => HlcStamp | undefined;
}): ConcurrentWrites {
  const clock: HybridClock = createHybridClock(options);
  const tracked = new Map<string, Tracked>();
  let reassert = new Map<string, Reassertion>();
  let conflicts = new Map<string, DeploymentConflict>();
  /** Records deleted by remote updates, to be checked once the replica holds no pending updates. */
  const ghosts = new Map<string, { kind: StampedKind; key: string }>();
  const id = (kind: StampedKind, key: string): string => `${kind}\u0000${key}`;
  const shown = (kind: StampedKind, key: string): Tracked | undefined => {
    const entry = tracked.get(id(kind, key));
    return entry?.ghost === true ? undefined : entry;
  };

  const write = (fields: StampFields, value: object): ConflictWrite => ({
    stamp: fields.stamp,
    peer: fields.stamp.peer,
    at: new Date(fields.stamp.wallMs).toISOString(),
    deployment: value as Deployment,
  });

  const recordConflict = (
    path: string,
    lost: { fields: StampFields; value: object },
    won: { fields: StampFields; value: object },
  ): void => {
    const key = `${path}|${formatStamp(lost.fields.stamp)}|${formatStamp(won.fields.stamp)}`;
    conflicts.set(key, { path, lost: write(lost.fields, lost.value), won: write(won.fields, won.value) });
  };

  return {
    now: () => clock.now(),

    stamped({ kind, key, value, stamp }) {
      const replaces = shown(kind, key)?.fields?.stamp;
      return withStampFields(value, { stamp, ...(replaces === undefined ? {} : { replaces }) });
    },

    observe({ kind, key, raw, value, remote }) {
      const before = tracked.get(id(kind, key));
      const parsed = stampFieldsSchema.safeParse(raw);
      const fields: StampFields | undefined = parsed.success
        ? {
            stamp: parsed.data.stamp,
            ...(parsed.data.replaces === undefined ? {} : { replaces: parsed.data.replaces }),
          }
        : undefined;
      if (fields !== undefined) clock.receive(fields.stamp);
      if (value === undefined) {
        // A deletion is never a race in Yjs (it removes only the value its writer saw), but a remote one
        // may be transient: keep what was shown until we know.
        if (remote && before?.fields !== undefined) {
          tracked.set(id(kind, key), { ...before, ghost: true });
          ghosts.set(id(kind, key), { kind, key });
        } else tracked.delete(id(kind, key));
        return;
      }
      tracked.set(id(kind, key), { fields, value, ghost: false });
      ghosts.delete(id(kind, key));
      if (!remote || before?.fields === undefined) return;
      const order = compareStamps(fields?.stamp, before.fields.stamp);
      if (before.ghost) {
        // A lower value where a higher one vanished: unless that one was purged, its deletion was the
        // shadow of this very race (another replica let Yjs replace it), so it still wins.
        if (order >= 0 || compareStamps(options.purgedStamp(kind, key), before.fields.stamp) >= 0) return;
      }
      if (order < 0) {
        reassert.set(id(kind, key), {
          kind,
          key,
          record: withStampFields(before.value, before.fields),
          stamp: before.fields.stamp,
        });
        if (kind === 'deployment' && fields !== undefined) {
          recordConflict(key, { fields, value }, { fields: before.fields, value: before.value });
        }
      } else if (
        !before.ghost &&
        order > 0 &&
        kind === 'deployment' &&
        fields !== undefined &&
        compareStamps(fields.replaces, before.fields.stamp) < 0
      ) {
        recordConflict(key, { fields: before.fields, value: before.value }, { fields, value });
      }
    },

    stampOf(kind, key) {
      return shown(kind, key)?.fields?.stamp;
    },

    takeResolution({ settled }) {
      // A deleted record that nobody purged was deleted by Yjs itself: a concurrent write placed to its
      // right in the key's history was purged, and Yjs deletes what is left of a deleted value. Only once
      // nothing is pending do we know that the purge markers that could explain a deletion have arrived.
      for (const [ghostId, { kind, key }] of settled ? ghosts : []) {
        ghosts.delete(ghostId);
        const ghost = tracked.get(ghostId);
        if (ghost?.ghost !== true || ghost.fields === undefined) continue;
        if (compareStamps(options.purgedStamp(kind, key), ghost.fields.stamp) >= 0) {
          tracked.delete(ghostId);
          continue;
        }
        reassert.set(ghostId, {
          kind,
          key,
          record: withStampFields(ghost.value, ghost.fields),
          stamp: ghost.fields.stamp,
        });
      }
      const resolution: Resolution = {
        reassert: [...reassert.values()],
        conflicts: [...conflicts].map(([key, conflict]) => ({ key, conflict })),
      };
      reassert = new Map();
      conflicts = new Map();
      return resolution;
    },
  };
}

function stampJson(stamp: HlcStamp): JsonObject {
  return { wallMs: stamp.wallMs, counter: stamp.counter, peer: stamp.peer };
}

function withStampFields(value: object, fields: StampFields): JsonObject {
  return {
    ...(value as JsonObject),
    stamp: stampJson(fields.stamp),
    ...(fields.replaces === undefined ? {} : { replaces: stampJson(fields.replaces) }),
  };
}

/**
 * The conflict keys to delete so that at most {@link conflictLimits} remain: per path and in all, the
 * ones whose losing write is oldest go first. Deterministic, so replicas that prune agree.
 */
export function conflictsToPrune(
  entries: ReadonlyArray<{ readonly key: string; readonly conflict: DeploymentConflict }>,
): string[] {
  const sorted = [...entries].sort(
    (a, b) =>
      compareStamps(b.conflict.lost.stamp, a.conflict.lost.stamp) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  const perPath = new Map<string, number>();
  const keep: string[] = [];
  const prune: string[] = [];
  for (const entry of sorted) {
    const count = perPath.get(entry.conflict.path) ?? 0;
    if (count >= conflictLimits.perPath || keep.length >= conflictLimits.total) {
      prune.push(entry.key);
      continue;
    }
    perPath.set(entry.conflict.path, count + 1);
    keep.push(entry.key);
  }
  return prune;
}
