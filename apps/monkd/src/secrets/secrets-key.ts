import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { MonkError } from '@monk/model';

/** Length of the secrets key: AES-256. */
export const secretsKeyBytes = 32;

/**
 * Where the cluster's secrets key comes from. monkd reads it from its data dir; a joining peer will get
 * it from the cluster over the encrypted channel. Nothing else may see the key.
 *
 * @example
 * const keys = createFileKeyProvider({ path: join(dataDir, 'secrets.key') });
 * const key = await keys.key(); // 32 bytes
 */
export interface SecretsKeyProvider {
  /** The 32-byte key. Throws `STORAGE_FAILED` when it cannot be read or created. */
  key(): Promise<Uint8Array>;
  /**
   * Replaces the key with the cluster's (a peer joining a cluster adopts its key, so every peer reads the
   * same secrets). Secrets encrypted under the old key can no longer be read. Throws `STORAGE_FAILED`.
   */
  adopt(key: Uint8Array): Promise<void>;
}

/**
 * A key kept in one file (mode 0600): read when it exists, else created with 32 random bytes. Creation is
 * atomic (written to a temporary file, then hard-linked into place, so two daemons racing on one data dir
 * agree on one key and a crash never leaves a half-written key).
 *
 * @throws MonkError `STORAGE_FAILED` (from `key()`) when the file cannot be read or written, or holds
 *   something other than 32 bytes.
 */
export function createFileKeyProvider(options: { path: string }): SecretsKeyProvider {
  let loading: Promise<Uint8Array> | undefined;
  return {
    key() {
      loading ??= loadOrCreate(options.path).catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
      return loading;
    },
    async adopt(key) {
      if (key.length !== secretsKeyBytes) {
        throw new MonkError(
          'STORAGE_FAILED',
          `a secrets key has ${secretsKeyBytes} bytes, not ${key.length}`,
        );
      }
      const temporary = `${options.path}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        const handle = await open(temporary, 'wx', 0o600);
        try {
          await handle.writeFile(key);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, options.path);
      } catch (error) {
        await unlink(temporary).catch(() => undefined);
        throw new MonkError('STORAGE_FAILED', `cannot write the secrets key ${options.path}`, {
          cause: error,
        });
      }
      loading = Promise.resolve(Uint8Array.from(key));
    },
  };
}

async function loadOrCreate(path: string): Promise<Uint8Array> {
  const existing = await readKey(path);
  if (existing !== undefined) return existing;
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(randomBytes(secretsKeyBytes));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temporary, path).catch((error: unknown) => {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
  } catch (error) {
    throw new MonkError('STORAGE_FAILED', `cannot create the secrets key ${path}`, { cause: error });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  const created = await readKey(path);
  if (created === undefined) throw new MonkError('STORAGE_FAILED', `the secrets key ${path} vanished`);
  return created;
}

async function readKey(path: string): Promise<Uint8Array | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MonkError('STORAGE_FAILED', `cannot read the secrets key ${path}`, { cause: error });
  }
  if (bytes.length !== secretsKeyBytes) {
    throw new MonkError(
      'STORAGE_FAILED',
      `the secrets key ${path} holds ${bytes.length} bytes, not ${secretsKeyBytes}; restore it from a backup`,
    );
  }
  return new Uint8Array(bytes);
}
