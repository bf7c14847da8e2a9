import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createGraph } from '@monk/graph';
import { createResolveHosts, stableUuid } from './resolve-host.ts';
import { createSecretStore } from './secrets/secret-store.ts';

describe('resolve hosts', () => {
  it('makes version-4-shaped UUIDs that depend only on seed and key', () => {
    const uuid = stableUuid('seed', 't/app/variables/pw/value#0');
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableUuid('seed', 't/app/variables/pw/value#0')).toBe(uuid);
    expect(stableUuid('seed', 't/app/variables/pw/value#1')).not.toBe(uuid);
    expect(stableUuid('other', 't/app/variables/pw/value#0')).not.toBe(uuid);
  });

  it('gives each deployment its own stable UUIDs, the same on every resolution', async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    const key = randomBytes(32);
    const hosts = (k: Uint8Array) =>
      createResolveHosts({
        secrets: createSecretStore({ graph, keys: { key: async () => k }, now: Date.now }),
      });
    const first = await hosts(key).forDeployment('t/app');
    const again = await hosts(key).forDeployment('t/app');
    const other = await hosts(key).forDeployment('t/other');
    const otherKey = await hosts(randomBytes(32)).forDeployment('t/app');
    const at = 't/app/variables/pw/value#0';
    expect(again.randomUuid?.(at)).toBe(first.randomUuid?.(at));
    expect(other.randomUuid?.(at)).not.toBe(first.randomUuid?.(at));
    expect(otherKey.randomUuid?.(at)).not.toBe(first.randomUuid?.(at));
  });

  it('names runnables by their DNS label and, without a secret store, has no secrets', async () => {
    const host = await createResolveHosts({}).forDeployment('t/app');
    expect(host.hostnameOf('t/app')).toBe('t-app');
    expect(host.secret).toBeUndefined();
    expect(host.randomUuid).toBeUndefined();
  });
});
