import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateWireguardKey, wireguardPublicKey } from './wireguard-key.ts';

describe('loadOrCreateWireguardKey', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'monk-wgkey-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key file only its owner can read, in wg genkey format, and keeps it', async () => {
    const file = join(dir, 'wireguard.key');
    const first = await loadOrCreateWireguardKey({ file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(first).toEqual({ publicKey: wireguardPublicKey(text), privateKeyFile: file });
    expect(await loadOrCreateWireguardKey({ file })).toEqual(first);
  });

  it('derives the same public key as wg pubkey', () => {
    const privateKey = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
    const expected = execFileSync('wg', ['pubkey'], { input: `${privateKey}\n`, encoding: 'utf8' }).trim();
    expect(wireguardPublicKey(privateKey)).toBe(expected);
  });

  it('tightens a key file others could read', async () => {
    const file = join(dir, 'wireguard.key');
    await loadOrCreateWireguardKey({ file });
    await chmod(file, 0o644);
    await loadOrCreateWireguardKey({ file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged key file, naming it, without printing what it holds', async () => {
    const file = join(dir, 'wireguard.key');
    await writeFile(file, 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=\n', { mode: 0o600 });
    const error = await loadOrCreateWireguardKey({ file }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DATA_FILE_INVALID', details: { file } });
    expect(String((error as Error).message)).toContain(file);
    expect(String((error as Error).message)).not.toContain('c2VjcmV0');
  });
});
