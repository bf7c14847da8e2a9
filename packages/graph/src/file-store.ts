import { mkdir, open, readFile, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { MonkError } from '@monk/model';
import type { GraphProblemListener } from './graph-problem.ts';
import type { GraphStore } from './graph-store.ts';

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
const recordHeaderBytes = 8;
/** A length beyond this is treated as corruption rather than allocated. */
const maxRecordBytes = 1 << 30;

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
 * On load, the first record that is torn (crash mid-write) or fails its checksum ends the log: it and
 * everything after it are dropped, reported through `onProblem`, and cut off the file. A corrupt snapshot
 * throws `GRAPH_CORRUPT` naming the file. A write error (disk full, I/O error) rejects with
 * `STORAGE_FAILED`, and the store refuses every later write: the graph must be reopened from disk.
 *
 * @example
 * const graph = await createGraph({ peerId, store: createFileStore({ dir: join(dataDir, 'graph') }) });
 */
export function createFileStore(options: FileStoreOptions): GraphStore {
  const snapshotPath = join(options.dir, snapshotFile);
  const logPath = join(options.dir, logFile);
  let log: FileHandle | undefined;
  let failure: MonkError | undefined;
  let closed = false;
  // Every write goes through one serial queue, so compaction never races an append.
  let queue: Promise<void> = Promise.resolve();
  let batch: { records: Buffer[]; done: Promise<void> } | undefined;

  const fail = (error: unknown, what: string): MonkError => {
    failure ??= new MonkError('STORAGE_FAILED', `could not ${what} in ${options.dir}`, {
      cause: error,
      details: { dir: options.dir },
    });
    return failure;
  };

  const openLog = async (): Promise<FileHandle> => {
    if (log === undefined) {
      await mkdir(options.dir, { recursive: true });
      log = await open(logPath, 'a');
    }
    return log;
  };

  const enqueue = (task: () => Promise<void>): Promise<void> => {
    const run = queue.then(async () => {
      if (failure !== undefined) throw failure;
      await task();
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    compactEvery: options.compactEvery ?? 1000,

    async load() {
      const snapshot = await readSnapshot(snapshotPath);
      const { records, validBytes, totalBytes } = await readLog(logPath);
      if (validBytes < totalBytes) {
        options.onProblem?.({
          kind: 'dropped-tail',
          message: `dropped a torn or corrupt tail of ${totalBytes - validBytes} bytes from ${logPath}`,
          details: { file: logPath, offset: validBytes, droppedBytes: totalBytes - validBytes },
        });
        await truncateLog(logPath, validBytes).catch((error: unknown) => {
          throw fail(error, 'cut the torn tail off the graph log');
        });
      }
      return snapshot === undefined ? records : [snapshot, ...records];
    },

    append(update) {
      if (closed)
        return Promise.reject(new MonkError('STORAGE_FAILED', `graph store ${options.dir} is closed`));
      if (failure !== undefined) return Promise.reject(failure);
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
        try {
          const handle = await openLog();
          await handle.appendFile(Buffer.concat(current.records));
          await handle.datasync();
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

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function encodeRecord(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(recordHeaderBytes);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/** Reads one record at `offset`; undefined when it is torn, empty or fails its checksum. */
function readRecord(buffer: Buffer, offset: number): Uint8Array | undefined {
  if (offset + recordHeaderBytes > buffer.length) return undefined;
  const length = buffer.readUInt32BE(offset);
  const checksum = buffer.readUInt32BE(offset + 4);
  // Zero-length records never get written: zeros are what a crash leaves in preallocated blocks.
  if (length === 0 || length > maxRecordBytes) return undefined;
  const start = offset + recordHeaderBytes;
  if (start + length > buffer.length) return undefined;
  const payload = buffer.subarray(start, start + length);
  if (crc32(payload) !== checksum) return undefined;
  return new Uint8Array(payload);
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

async function readLog(
  path: string,
): Promise<{ records: Uint8Array[]; validBytes: number; totalBytes: number }> {
  const buffer = await readOptional(path);
  if (buffer === undefined) return { records: [], validBytes: 0, totalBytes: 0 };
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const record = readRecord(buffer, offset);
    if (record === undefined) break;
    records.push(record);
    offset += recordHeaderBytes + record.length;
  }
  return { records, validBytes: offset, totalBytes: buffer.length };
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
