import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createGraph, createMemoryStore } from '@monk/graph';
import type { ContainerSpec } from '@monk/model';
import { createMemoryRuntime } from '@monk/runtime';
import type { CallChannel } from '../handlers.ts';
import { createLogger } from '../logger.ts';
import { createSecretCipher, sealedPrefix } from './secret-cipher.ts';
import { createSecretStore } from './secret-store.ts';
import { createSecretsHandlers } from './secrets-handlers.ts';
import type { SecretsKeyProvider } from './secrets-key.ts';
import { withUnsealedSecrets } from './unsealing-runtime.ts';

const fixedKey = (key: Uint8Array = randomBytes(32)): Pick<SecretsKeyProvider, 'key'> => ({
  key: async () => key,
});
const value = 'correct horse battery staple';

async function setup(keys: Pick<SecretsKeyProvider, 'key'> = fixedKey()) {
  const graph = await createGraph({ peerId: 'peer-a', store: createMemoryStore() });
  return {
    graph,
    secrets: createSecretStore({ graph, keys, now: () => Date.parse('2025-05-01T00:00:00Z') }),
  };
}

const channel: CallChannel = {
  emit: async () => undefined,
  clientFrames: (async function* () {})(),
  signal: new AbortController().signal,
};

describe('secret store', () => {
  it('encrypts values in the graph and reads the runnable scope before the global one', async () => {
    const { graph, secrets } = await setup();
    await secrets.add({ name: 'db-password', value, scope: 'global' });
    await secrets.add({ name: 'db-password', value: 'only-for-web', scope: 'shop/web' });
    expect(await secrets.read({ name: 'db-password', runnable: 'shop/db' })).toBe(value);
    expect(await secrets.read({ name: 'db-password', runnable: 'shop/web' })).toBe('only-for-web');
    const stored = Buffer.from(graph.encodeUpdateSince()).toString('latin1');
    expect(stored).toContain('db-password');
    expect(stored).not.toContain(value);
    expect(stored).not.toContain('only-for-web');
    expect(secrets.list()).toEqual([
      { name: 'db-password', scope: 'global', updatedAt: '2025-05-01T00:00:00.000Z' },
      { name: 'db-password', scope: 'shop/web', updatedAt: '2025-05-01T00:00:00.000Z' },
    ]);
    await graph.close();
  });

  it('says which secret is missing, for which runnable', async () => {
    const { graph, secrets } = await setup();
    await expect(secrets.read({ name: 'token', runnable: 'shop/web' })).rejects.toMatchObject({
      code: 'SECRET_NOT_FOUND',
      message: expect.stringContaining('secret "token" (read by shop/web) is not set') as unknown,
    });
    await expect(secrets.remove({ name: 'token', scope: 'global' })).rejects.toMatchObject({
      code: 'SECRET_NOT_FOUND',
    });
    await graph.close();
  });

  it('fails clearly when this peer holds another key', async () => {
    const { graph, secrets } = await setup();
    await secrets.add({ name: 'token', value, scope: 'global' });
    const other = createSecretStore({ graph, keys: fixedKey(), now: Date.now });
    await expect(other.read({ name: 'token', runnable: 'shop/web' })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining("cannot be decrypted with this peer's secrets key") as unknown,
    });
    await graph.close();
  });

  it('binds a ciphertext to its record: moved to another name it does not decrypt', async () => {
    const cipher = createSecretCipher(randomBytes(32));
    const record = cipher.encrypt(value, 'global#a');
    expect(cipher.decrypt(record, 'global#a')).toBe(value);
    expect(() => cipher.decrypt(record, 'global#b')).toThrow(/cannot be decrypted/);
  });

  it('seals deterministically, so an unchanged secret keeps the spec hash', async () => {
    const cipher = createSecretCipher(randomBytes(32));
    const sealed = cipher.seal(value);
    expect(sealed.startsWith(sealedPrefix)).toBe(true);
    expect(sealed).not.toContain(value);
    expect(cipher.seal(value)).toBe(sealed);
    expect(cipher.seal(`${value}!`)).not.toBe(sealed);
    expect(cipher.unseal(sealed)).toBe(value);
    expect(cipher.unseal('plain text')).toBe('plain text');
    expect(cipher.unseal(`mysql -p${sealed} -e 'select 1'`)).toBe(`mysql -p${value} -e 'select 1'`);
    expect(() => createSecretCipher(randomBytes(32)).unseal(sealed)).toThrow(/cannot be decrypted/);
  });

  it('never logs a value, and never answers with one', async () => {
    const { graph, secrets } = await setup();
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    const handlers = createSecretsHandlers({ secrets, logger });
    const added = await handlers['secrets.add']?.({ name: 'token', value, runnable: '/shop/web' }, channel);
    const listed = await handlers['secrets.list']?.({}, channel);
    const removed = await handlers['secrets.remove']?.({ name: 'token', runnable: 'shop/web' }, channel);
    expect(added).toEqual({ name: 'token', scope: 'shop/web', updatedAt: '2025-05-01T00:00:00.000Z' });
    expect(JSON.stringify([added, listed, removed])).not.toContain(value);
    expect(lines).toHaveLength(2);
    expect(lines.join('')).not.toContain(value);
    await graph.close();
  });
});

describe('withUnsealedSecrets', () => {
  it('hands the engine plaintext while the spec it was given stays sealed', async () => {
    const { graph, secrets } = await setup();
    const memory = createMemoryRuntime({ images: ['busybox:latest'] });
    const runtime = withUnsealedSecrets(memory, secrets);
    const sealed = await secrets.seal(value);
    const spec: ContainerSpec = {
      image: 'busybox:latest',
      environment: { PASSWORD: sealed, USER: 'admin' },
      command: ['/bin/sh', '-c', sealed],
      ports: [],
      mounts: [],
      files: [{ path: '/etc/pw', contents: sealed, mode: 0o600 }],
      labels: {},
    };
    const created = await runtime.createContainer({ name: 'web', spec, labels: {} });
    await runtime.startContainer(created.id);
    const execs: string[][] = [];
    memory.setExecHandler((request) => {
      execs.push([...request.command]);
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    await runtime.exec(created.id, { command: ['check', `--password=${sealed}`] });
    expect(execs).toEqual([['check', `--password=${value}`]]);
    await runtime.putFiles(created.id, spec.files);
    const engineSpec = memory.createOptionsOf(created.id).spec;
    expect(engineSpec.environment).toEqual({ PASSWORD: value, USER: 'admin' });
    expect(engineSpec.command).toEqual(['/bin/sh', '-c', value]);
    expect(memory.readFile(created.id, '/etc/pw')?.contents).toBe(value);
    expect(spec.environment['PASSWORD']).toBe(sealed);
    await graph.close();
  });
});
