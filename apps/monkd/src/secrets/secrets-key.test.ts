import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unsealDataFile } from '../data-file.ts';
import { createFileKeyProvider } from './secrets-key.ts';

describe('createFileKeyProvider', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'monk-key-'));
    dirs.push(dir);
    return dir;
  };

  it('creates a 32-byte key readable only by its owner, and reads the same key afterwards', async () => {
    const path = join(await tempDir(), 'secrets.key');
    const key = await createFileKeyProvider({ path }).key();
    expect(key).toHaveLength(32);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await createFileKeyProvider({ path }).key()).toEqual(key);
    expect(new Uint8Array(unsealDataFile(path, await readFile(path)))).toEqual(key);
  });

  it('agrees on one key when several providers create it at once', async () => {
    const path = join(await tempDir(), 'secrets.key');
    const keys = await Promise.all(Array.from({ length: 5 }, () => createFileKeyProvider({ path }).key()));
    for (const key of keys) expect(key).toEqual(keys[0]);
  });

  it("adopts a cluster's key: it replaces the file (mode 0600) and is what key() returns from then on", async () => {
    const path = join(await tempDir(), 'secrets.key');
    const provider = createFileKeyProvider({ path });
    const own = await provider.key();
    const cluster = new Uint8Array(32).fill(7);
    await provider.adopt(cluster);
    expect(await provider.key()).toEqual(cluster);
    expect(await provider.key()).not.toEqual(own);
    expect(new Uint8Array(unsealDataFile(path, await readFile(path)))).toEqual(cluster);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await createFileKeyProvider({ path }).key()).toEqual(cluster);
    await expect(provider.adopt(new Uint8Array(5))).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });

  it('reads a key file written before the checksum trailer (32 raw bytes)', async () => {
    const path = join(await tempDir(), 'secrets.key');
    const legacy = new Uint8Array(32).fill(3);
    await writeFile(path, legacy, { mode: 0o600 });
    expect(await createFileKeyProvider({ path }).key()).toEqual(legacy);
  });

  it('refuses a damaged key file with DATA_FILE_INVALID naming it, rather than use a different key', async () => {
    const path = join(await tempDir(), 'secrets.key');
    await createFileKeyProvider({ path }).key();
    const bytes = await readFile(path);
    bytes[5] = (bytes[5] ?? 0) ^ 0x01;
    await writeFile(path, bytes);
    await expect(createFileKeyProvider({ path }).key()).rejects.toMatchObject({
      code: 'DATA_FILE_INVALID',
      details: { file: path },
    });
  });

  it('refuses a key file of the wrong size with DATA_FILE_INVALID', async () => {
    const path = join(await tempDir(), 'secrets.key');
    await writeFile(path, 'short', { mode: 0o600 });
    await expect(createFileKeyProvider({ path }).key()).rejects.toMatchObject({
      code: 'DATA_FILE_INVALID',
      message: expect.stringContaining('holds 5 bytes, not 32') as unknown,
    });
  });
});
