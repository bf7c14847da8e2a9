import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createGraph } from '@monk/graph';
import { createResolveHosts, missingSecretsError, stableUuid } from './resolve-host.ts';
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

  it('in the mesh, names runnables and containers by their cluster DNS names and knows instance addresses', async () => {
    let active = false;
    const addresses: Record<string, string[]> = { 'web.shop.monk': ['10.240.1.2', '10.240.2.2'] };
    const hosts = createResolveHosts({
      mesh: { active: () => active, addresses: (name) => addresses[name] },
    });
    const host = await hosts.forDeployment('shop/web');
    expect(host.hostnameOf('shop/web')).toBe('shop-web');
    expect(host.containerHostnameOf?.('shop/web', 'nginx')).toBe('shop-web-nginx');
    await expect(host.ipOf?.('shop/web')).rejects.toMatchObject({ code: 'ARROW_EVAL' });
    active = true;
    expect(host.hostnameOf('shop/web')).toBe('web.shop.monk');
    expect(host.containerHostnameOf?.('shop/web', 'nginx')).toBe('nginx.web.shop.monk');
    expect(await host.ipOf?.('shop/web')).toBe('10.240.1.2');
    await expect(host.containerIpOf?.('shop/web', 'nginx')).rejects.toThrow(
      /nginx\.web\.shop\.monk has no ready instance/,
    );
  });

  it('records secrets that are not set instead of failing, when asked, and names them all in one error', async () => {
    await using graph = await createGraph({ peerId: 'peer-a' });
    const key = randomBytes(32);
    const secrets = createSecretStore({ graph, keys: { key: async () => key }, now: Date.now });
    await secrets.add({ name: 'set', value: 'v', scope: 'global' });
    const hosts = createResolveHosts({ secrets });
    const strict = await hosts.forDeployment('t/app');
    await expect(strict.secret?.('nope', 't/db')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    const missing: Array<{ name: string; runnable: string }> = [];
    const lenient = await hosts.forDeployment('t/app', { missingSecrets: missing });
    expect(await lenient.secret?.('set', 't/db')).toBe('v');
    await lenient.secret?.('nope', 't/db');
    await lenient.secret?.('nope', 't/db');
    await lenient.secret?.('other', 't/web');
    expect(missing).toEqual([
      { name: 'nope', runnable: 't/db' },
      { name: 'other', runnable: 't/web' },
    ]);
    const error = missingSecretsError('t/app', missing);
    expect(error.code).toBe('SECRET_NOT_FOUND');
    expect(error.message).toBe(
      [
        't/app reads 2 secrets that are not set; add them with:',
        '  monk secrets add -g nope=VALUE   # read by t/db (or -r t/db for it alone)',
        '  monk secrets add -g other=VALUE   # read by t/web (or -r t/web for it alone)',
      ].join('\n'),
    );
  });
});
