import { randomBytes } from 'node:crypto';
import { createGraph, createMemoryStore } from '@monk/graph';
import { describe, expect, it } from 'vitest';
import { createSecretStore } from '../secrets/secret-store.ts';
import { createRegistryCredentials, registryOf, registryScope } from './registry-credentials.ts';

async function setup() {
  const graph = await createGraph({ peerId: 'peer-a', store: createMemoryStore() });
  const key = randomBytes(32);
  const secrets = createSecretStore({
    graph,
    keys: { key: async () => key },
    now: () => Date.parse('2025-05-01T00:00:00Z'),
  });
  return { graph, secrets, credentials: createRegistryCredentials({ secrets }) };
}

describe('registry credentials', () => {
  it('gives the credentials of the registry an image names, and none for another', async () => {
    const { credentials } = await setup();
    await credentials.login({ server: 'Registry.Example.com:5000', username: 'ci', password: 'hunter2' });
    await credentials.login({ server: 'docker.io', username: 'me', password: 's3cret' });
    expect(await credentials.authFor('registry.example.com:5000/team/app:1')).toEqual({
      username: 'ci',
      password: 'hunter2',
      serverAddress: 'registry.example.com:5000',
    });
    expect(await credentials.authFor('library/busybox:latest')).toMatchObject({ username: 'me' });
    expect(await credentials.authFor('ghcr.io/someone/app:1')).toBeUndefined();
  });

  it('lists registries with user names, never passwords, and forgets one', async () => {
    const { credentials } = await setup();
    await credentials.login({ server: 'localhost:5000', username: 'ci', password: 'hunter2' });
    const listed = await credentials.list();
    expect(listed).toEqual([
      { server: 'localhost:5000', username: 'ci', updatedAt: '2025-05-01T00:00:00.000Z' },
    ]);
    expect(JSON.stringify(listed)).not.toContain('hunter2');
    await credentials.logout('localhost:5000');
    expect(await credentials.list()).toEqual([]);
    expect(await credentials.authFor('localhost:5000/app:1')).toBeUndefined();
    await expect(credentials.logout('localhost:5000')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });

  it('keeps passwords encrypted in the graph', async () => {
    const { credentials, graph } = await setup();
    await credentials.login({ server: 'docker.io', username: 'me', password: 'hunter2' });
    const stored = graph.listSecrets({ scope: registryScope });
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain('hunter2');
  });

  it('refuses a server that is not a registry host', async () => {
    const { credentials } = await setup();
    await expect(
      credentials.login({ server: 'not a host', username: 'me', password: 'x' }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it.each([
    ['busybox', 'docker.io'],
    ['library/busybox:1', 'docker.io'],
    ['monk-local/busybox:latest', 'docker.io'],
    ['registry.example.com/a/b:1', 'registry.example.com'],
    ['localhost:5000/app', 'localhost:5000'],
    ['localhost/app', 'localhost'],
  ])('reads the registry of %s as %s', (ref, registry) => {
    expect(registryOf(ref)).toBe(registry);
  });
});
