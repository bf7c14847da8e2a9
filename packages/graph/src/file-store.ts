import { copyFile, mkdir, open, readFile, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MonkError } from '@monk/model';
import type { GraphProblemListener } from './graph-problem.ts';
import type { GraphStore } from './graph-store.ts';
import { encodeRecord, readRecord, recordHeaderBytes, scanLog, type LogScan } from './log-scan.ts';

/** Options of {@link createFileStore}. */
export interface FileStoreOptions {
  /** Directory holding `graph.snapshot` and `graph.log`; created if missing. One graph per directory. */
  readonly dir: string;
  /** Compact after this many appends (default 1000; 0 never). */
  readonly compactEvery?: number;
  /** Told about a torn or corrupt log tail dropped on load. */
  readonly onProblem?: GraphProblemListener;
}

const snapshotFile = 'graph.snapshot';
const logFile = 'graph.log';
const snapshotMagic = Buffer.from('MONKSNAP', 'latin1');
const snapshotVersion = 1;

/**
 * A durable {@link GraphStore} on the local filesystem.
 *
 * Layout: `graph.log` is a sequence of records `[u32 BE length][u32 BE crc32(payload)][payload]`, each
 * fsynced before `append` resolves (appends that arrive during an fsync share the next one: group
 * commit). `graph.snapshot` is `MONKSNAP`, u32 version, then one record; `compact` writes it to a temp
 * file, fsyncs it, renames it over the old one, fsyncs the directory and only then truncates the log, so
 * a crash at any point leaves a loadable state (updates are idempotent, so a log that repeats part of the
 * snapshot is harmless).
 *
 * On load, the remains of a last append that a crash cut short (a torn tail) are dropped, reported through
 * `onProblem` and cut off the file: no acknowledged write is lost, since an append resolves only once its
 * record is fsynced. Any other bad byte (an acknowledged record that changed) throws `GRAPH_CORRUPT`
 * naming the file, the byte offset and the record, and the file is left as it is: a graph that silently
 * lost records would undo deployments and stop containers. {@link salvageFileStore} is the explicit
 * repair. A corrupt snapshot throws `GRAPH_CORRUPT` naming the file. A write error (disk full, I/O error) rejects with
 * `STORAGE_FAILED`; the part of a record it may have left is cut off before the next write, so writes
 * work again once the disk does (a full disk that gets space back).
 *
 * @example
 * const graph = await createGraph({ peerId, store: createFileStore({ dir: join(dataDir, 'graph') }) });
 */
export function createFileStore(options: FileStoreOptions): GraphStore {
  const snapshotPath = join(options.dir, snapshotFile);
  const logPath = join(options.dir, logFile);
  let log: FileHandle | undefined;
  /** The log's length up to its last durable record (known once the log is open). */
  let durableLength: number | undefined;
  /** A failed append may have left part of a record after `durableLength`: cut it before the next write. */
  let dirtyTail = false;
  let closed = false;
  // Every write goes through one serial queue, so compaction never races an append.
  let queue: Promise<void> = Promise.resolve();
  let batch: { records: Buffer[]; done: Promise<void> } | undefined;

  const fail = (error: unknown, what: string): MonkError =>
    error instanceof MonkError
      ? error
      : new MonkError(
          'STORAGE_FAILED',
          `could not ${what} in ${options.dir}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error, details: { dir: options.dir } },
        );

  const openLog = async (): Promise<FileHandle> => {
    if (log === undefined) {
      await mkdir(options.dir, { recursive: true });
      log = await open(logPath, 'a');
    }
    durableLength ??= (await log.stat()).size;
    if (dirtyTail) {
      await log.truncate(durableLength);
      await log.datasync();
      dirtyTail = false;
    }
    return log;
  };

  const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  return {
    compactEvery: options.compactEvery ?? 1000,

    load() {
      return enqueue(async () => {
        const snapshot = await readSnapshot(snapshotPath);
        const scan = await readLog(logPath);
        if (scan.kind === 'damaged') throw damagedLog(logPath, scan);
        const { records } = scan;
        if (scan.kind === 'torn-tail') {
          const { validBytes, totalBytes } = scan;
          options.onProblem?.({
            kind: 'dropped-tail',
            message: `dropped the torn tail of an unfinished write (${totalBytes - validBytes} bytes) from ${logPath}`,
            details: { file: logPath, offset: validBytes, droppedBytes: totalBytes - validBytes },
          });
          await truncateLog(logPath, validBytes).catch((error: unknown) => {
            throw fail(error, 'cut the torn tail off the graph log');
          });
        }
        // What is on disk now is all durable: the next append measures it.
        durableLength = undefined;
        dirtyTail = false;
        return snapshot === undefined ? [...records] : [snapshot, ...records];
      });
    },

    append(update) {
      if (closed)
        return Promise.reject(new MonkError('STORAGE_FAILED', `graph store ${options.dir} is closed`));
      const record = encodeRecord(update);
      if (batch !== undefined) {
        batch.records.push(record);
        return batch.done;
      }
      const current: { records: Buffer[]; done: Promise<void> } = {
        records: [record],
        done: Promise.resolve(),
      };
      current.done = enqueue(async () => {
        // Appends made while this batch waited in the queue join it and share one fsync.
        if (batch === current) batch = undefined;
        const bytes = Buffer.concat(current.records);
        try {
          const handle = await openLog();
          dirtyTail = true;
          await handle.appendFile(bytes);
          await handle.datasync();
          dirtyTail = false;
          durableLength = (durableLength ?? 0) + bytes.length;
        } catch (error) {
          throw fail(error, 'append to the graph log');
        }
      });
      batch = current;
      return current.done;
    },

    compact(snapshot) {
      if (closed)
        return Promise.reject(new MonkError('STORAGE_FAILED', `graph store ${options.dir} is closed`));
      batch = undefined;
      return enqueue(async () => {
        try {
          await mkdir(options.dir, { recursive: true });
          const temp = `${snapshotPath}.tmp`;
          const handle = await open(temp, 'w');
          try {
            await handle.writeFile(
              Buffer.concat([snapshotMagic, u32(snapshotVersion), encodeRecord(snapshot)]),
            );
            await handle.sync();
          } finally {
            await handle.close();
          }
          await rename(temp, snapshotPath);
          await syncDirectory(options.dir);
          const logHandle = await openLog();
          await logHandle.truncate(0);
          await logHandle.sync();
          durableLength = 0;
        } catch (error) {
          throw fail(error, 'write a graph snapshot');
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      await queue;
      await log?.close();
      log = undefined;
    },
  };
}

/** What {@link salvageFileStore} did. */
export interface GraphSalvage {
  /** The damaged files, set aside unchanged under these names for a later look. Empty: nothing was damaged. */
  readonly copies: readonly string[];
  /** Intact log records kept (from before and after the damage). */
  readonly keptRecords: number;
  /** Bytes of the log that held no intact record and were left out. */
  readonly droppedBytes: number;
  /** The snapshot was damaged and set aside: what was compacted into it is gone from this replica. */
  readonly snapshotLost: boolean;
}

/**
 * The explicit repair of a store that {@link createFileStore}'s `load` refused with `GRAPH_CORRUPT`: sets
 * the damaged files aside as `<name>.damaged-<time>` and rewrites the log from every record that is still
 * intact, before and after the damage (Yjs updates apply in any order, so a peer that still has the lost
 * records fills the gap on its next sync). Safe to run on an undamaged store: it changes nothing then.
 * The caller decides whether what is left is enough to act on.
 *
 * @example
 * const salvage = await salvageFileStore({ dir: join(dataDir, 'graph') });
 */
export async function salvageFileStore(options: {
  readonly dir: string;
  readonly now?: () => Date;
}): Promise<GraphSalvage> {
  const stamp = (options.now?.() ?? new Date()).toISOString().replaceAll(':', '-');
  const snapshotPath = join(options.dir, snapshotFile);
  const logPath = join(options.dir, logFile);
  const copies: string[] = [];
  let snapshotLost = false;
  const io = async <T>(what: string, task: () => Promise<T>): Promise<T> => {
    try {
      return await task();
    } catch (error) {
      throw new MonkError('STORAGE_FAILED', `could not ${what} in ${options.dir}`, {
        cause: error,
        details: { dir: options.dir },
      });
    }
  };
  try {
    await readSnapshot(snapshotPath);
  } catch (error) {
    if (!(error instanceof MonkError) || error.code !== 'GRAPH_CORRUPT') throw error;
    const copy = `${snapshotPath}.damaged-${stamp}`;
    await io('set the damaged snapshot aside', () => rename(snapshotPath, copy));
    copies.push(copy);
    snapshotLost = true;
  }
  const scan = await readLog(logPath);
  let droppedBytes = 0;
  if (scan.kind === 'damaged') {
    const copy = `${logPath}.damaged-${stamp}`;
    await io('copy the damaged graph log', () => copyFile(logPath, copy));
    copies.push(copy);
    droppedBytes = scan.ranges.reduce((sum, range) => sum + range.bytes, 0);
    const temp = `${logPath}.tmp`;
    await io('rewrite the graph log', async () => {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(Buffer.concat(scan.records.map((record) => encodeRecord(record))));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, logPath);
    });
  }
  if (copies.length > 0) await io('sync the graph directory', () => syncDirectory(options.dir));
  return { copies, keptRecords: scan.records.length, droppedBytes, snapshotLost };
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MonkError('STORAGE_FAILED', `could not read ${path}`, {
      cause: error,
      details: { file: path },
    });
  }
}

async function readSnapshot(path: string): Promise<Uint8Array | undefined> {
  const buffer = await readOptional(path);
  if (buffer === undefined) return undefined;
  const header = snapshotMagic.length + 4;
  const corrupt = (why: string): MonkError =>
    new MonkError('GRAPH_CORRUPT', `graph snapshot ${path} is corrupt: ${why}`, { details: { file: path } });
  if (buffer.length < header || !buffer.subarray(0, snapshotMagic.length).equals(snapshotMagic)) {
    throw corrupt('bad magic');
  }
  const version = buffer.readUInt32BE(snapshotMagic.length);
  if (version !== snapshotVersion) {
    throw new MonkError(
      'SCHEMA_VERSION_UNSUPPORTED',
      `graph snapshot ${path} has format version ${version}`,
      {
        details: { file: path, version },
      },
    );
  }
  const payload = readRecord(buffer, header);
  if (payload === undefined || header + recordHeaderBytes + payload.length !== buffer.length) {
    throw corrupt('checksum or length mismatch');
  }
  return payload;
}

async function readLog(path: string): Promise<LogScan> {
  const buffer = await readOptional(path);
  return buffer === undefined ? { kind: 'whole', records: [] } : scanLog(buffer);
}

function damagedLog(path: string, scan: Extract<LogScan, { kind: 'damaged' }>): MonkError {
  const first = scan.ranges[0];
  const offset = first?.offset ?? 0;
  const record = (first?.recordsBefore ?? 0) + 1;
  const damagedBytes = scan.ranges.reduce((sum, range) => sum + range.bytes, 0);
  return new MonkError(
    'GRAPH_CORRUPT',
    `graph log ${path} is damaged at byte ${offset} (record ${record}): ${damagedBytes} bytes in ` +
      `${scan.ranges.length} place(s) are not intact records, ${scan.records.length} records are`,
    {
      details: {
        file: path,
        offset,
        record,
        damagedBytes,
        intactRecords: scan.records.length,
        ranges: scan.ranges.map((range) => ({ offset: range.offset, bytes: range.bytes })),
      },
    },
  );
}

async function truncateLog(path: string, length: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
