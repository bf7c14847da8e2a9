import { randomBytes } from 'node:crypto';
import { MonkError } from '@monk/model';
import { readDataFile, writeDataFile } from '../data-file.ts';

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
      await writeDataFile(options.path, key);
      loading = Promise.resolve(Uint8Array.from(key));
    },
  };
}

async function loadOrCreate(path: string): Promise<Uint8Array> {
  const existing = await readKey(path);
  if (existing !== undefined) return existing;
  // Another daemon racing on this data dir may create it first: then both use that one.
  await writeDataFile(path, randomBytes(secretsKeyBytes), { exclusive: true });
  const created = await readKey(path);
  if (created === undefined) throw new MonkError('STORAGE_FAILED', `the secrets key ${path} vanished`);
  return created;
}

async function readKey(path: string): Promise<Uint8Array | undefined> {
  const bytes = await readDataFile(path);
  if (bytes === undefined) return undefined;
  if (bytes.length !== secretsKeyBytes) {
    throw new MonkError(
      'DATA_FILE_INVALID',
      `the secrets key ${path} holds ${bytes.length} bytes, not ${secretsKeyBytes}; restore it from a backup`,
      { details: { file: path } },
    );
  }
  return new Uint8Array(bytes);
}
