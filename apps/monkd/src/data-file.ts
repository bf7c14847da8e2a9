import { createHash, randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { MonkError } from '@monk/model';

/**
 * The small files of a data dir (cluster.json, join-tokens.json, secrets.key, peer.json, …) end with a
 * checksum trailer, `\n#monk-sha256:<hex of everything before it>\n`, so that a damaged byte is found
 * when the file is read, never acted on: a flipped byte in the network key or a cluster name parses as
 * valid JSON and would silently change what the peer is. Files written before the trailer existed are read
 * as they are.
 */
const trailerPrefix = Buffer.from('\n#monk-sha256:');
const digestHexLength = 64;
const trailerLength = trailerPrefix.length + digestHexLength + 1;

function digest(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The bytes to write: `body` and its checksum trailer. */
export function sealDataFile(body: string | Uint8Array): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  return Buffer.concat([bytes, trailerPrefix, Buffer.from(`${digest(bytes)}\n`)]);
}

/**
 * The body of a sealed file; a file without a trailer (written by an older monk) as it is. Throws
 * `DATA_FILE_INVALID` naming `path` when the trailer does not match.
 */
export function unsealDataFile(path: string, bytes: Uint8Array): Buffer {
  const buffer = Buffer.from(bytes);
  const trailerAt = buffer.length - trailerLength;
  const hasTrailer =
    trailerAt >= 0 &&
    buffer.subarray(trailerAt, trailerAt + trailerPrefix.length).equals(trailerPrefix) &&
    buffer[buffer.length - 1] === 0x0a;
  if (!hasTrailer) {
    // A damaged trailer must not pass for an old file: the marker anywhere means the file was sealed.
    if (buffer.includes('#monk-sha256:')) throw damaged(path, 'its checksum trailer is damaged');
    return buffer;
  }
  const body = buffer.subarray(0, trailerAt);
  const recorded = buffer.subarray(trailerAt + trailerPrefix.length, buffer.length - 1).toString('latin1');
  if (recorded !== digest(body)) throw damaged(path, 'its content does not match its checksum');
  return body;
}

function damaged(path: string, why: string): MonkError {
  return new MonkError(
    'DATA_FILE_INVALID',
    `${path} is damaged: ${why}. monk does not act on a damaged file; restore it from a backup, or remove it if monk can recreate it`,
    { details: { file: path } },
  );
}

/** Reads and checks a sealed file; undefined when it does not exist. */
export async function readDataFile(path: string): Promise<Buffer | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MonkError('STORAGE_FAILED', `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { file: path },
    });
  }
  return unsealDataFile(path, bytes);
}

/** Reads a sealed JSON file; undefined when it does not exist. Bad JSON is `DATA_FILE_INVALID` naming the file. */
export async function readDataJson(path: string): Promise<unknown> {
  const body = await readDataFile(path);
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new MonkError('DATA_FILE_INVALID', `${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      details: { file: path },
    });
  }
}

/**
 * Writes a sealed file atomically with mode 0600: a temporary file, fsync, then rename over `path` (or, with
 * `exclusive`, a hard link that fails with EEXIST when `path` exists: two processes creating it agree).
 * Resolves to false only when `exclusive` found the file already there.
 */
export async function writeDataFile(
  path: string,
  body: string | Uint8Array,
  options: { readonly exclusive?: boolean } = {},
): Promise<boolean> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(sealDataFile(body));
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive !== true) {
      await rename(temporary, path);
      return true;
    }
    try {
      await link(temporary, path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } catch (error) {
    throw new MonkError('STORAGE_FAILED', `cannot write ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { file: path },
    });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
