import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeNetworkKey, encodeNetworkKey, generateNetworkKey, toSwarmKey } from './network-key.ts';
import { generateIdentity, loadOrCreateIdentity, privateKeyOf } from './peer-identity.ts';

describe('peer identity', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'monk-p2p-identity-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('creates a 0600 Ed25519 identity once and loads the same one afterwards', async () => {
    const file = join(directory, 'nested', 'identity.json');
    const created = await loadOrCreateIdentity({ file });
    expect(created.peerId).toMatch(/^12D3KooW/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(privateKeyOf(created).type).toBe('Ed25519');
    const loaded = await loadOrCreateIdentity({ file });
    expect(loaded.peerId).toBe(created.peerId);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { privateKey: string };
    expect(JSON.stringify(loaded)).not.toContain(stored.privateKey);
  });

  it('agrees on one key when several callers race to create it', async () => {
    const file = join(directory, 'identity.json');
    const identities = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateIdentity({ file })));
    expect(new Set(identities.map((identity) => identity.peerId)).size).toBe(1);
  });

  it('tightens a loosened file mode', async () => {
    const file = join(directory, 'identity.json');
    await loadOrCreateIdentity({ file });
    await chmod(file, 0o644);
    await loadOrCreateIdentity({ file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt identity file with STORAGE_FAILED', async () => {
    const file = join(directory, 'identity.json');
    await writeFile(file, '{"kind":"monk-peer-identity"', { mode: 0o600 });
    await expect(loadOrCreateIdentity({ file })).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });

  it('refuses an identity object it did not create', async () => {
    expect(() => privateKeyOf({ peerId: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    const identity = await generateIdentity();
    expect(privateKeyOf(identity).type).toBe('Ed25519');
  });
});

describe('network keys', () => {
  it('round-trips 32 random bytes through printable text', () => {
    const key = generateNetworkKey();
    expect(key.byteLength).toBe(32);
    const text = encodeNetworkKey(key);
    expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeNetworkKey(text)).toEqual(key);
  });

  it.each(['', 'not base64!', Buffer.alloc(16).toString('base64url')])('refuses %j', (text) => {
    expect(() => decodeNetworkKey(text)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('writes the swarm-key format @libp2p/pnet reads', () => {
    const key = new Uint8Array(32).fill(0xab);
    expect(new TextDecoder().decode(toSwarmKey(key))).toBe(
      `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}`,
    );
  });
});
