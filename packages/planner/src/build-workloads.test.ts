import { describe, expect, it } from 'vitest';
import { defaultRecoveryPolicy, specHash, type ResolvedRunnable } from '@monk/model';
import { buildWorkloads, containerName, runnableHostname } from './build-workloads.ts';

const base: Omit<ResolvedRunnable, 'path' | 'containers' | 'dependsOn'> = {
  services: [],
  connections: {},
  recovery: defaultRecoveryPolicy,
  variables: { greeting: 'hi' },
  scale: 1,
};
const spec = { image: 'busybox:latest', environment: {}, ports: [], mounts: [], files: [], labels: {} };

describe('buildWorkloads', () => {
  const workloads = buildWorkloads({
    deployment: 'ns/app',
    owner: 'peer-1',
    generation: 3,
    runnables: [
      { ...base, path: 'ns/db', containers: [{ key: 'db', spec }], dependsOn: [] },
      {
        ...base,
        path: 'ns/web',
        containers: [
          { key: 'web', spec },
          { key: 'sidecar', spec },
        ],
        dependsOn: ['ns/db'],
        readiness: {
          kind: 'arrow',
          code: '$greeting',
          initialDelaySeconds: 0,
          periodSeconds: 1,
          timeoutSeconds: 1,
          attempts: 3,
        },
      },
    ],
  });

  it('makes one workload per container, named for DNS, with the runnable hostname as alias', () => {
    expect(workloads.map((w) => [w.id, w.name, w.aliases])).toEqual([
      ['ns/db#db', 'ns-db-db', ['ns-db']],
      ['ns/web#web', 'ns-web-web', ['ns-web']],
      ['ns/web#sidecar', 'ns-web-sidecar', ['ns-web']],
    ]);
  });

  it('expands runnable dependencies to the workloads of those runnables', () => {
    expect(workloads.find((w) => w.id === 'ns/web#web')?.dependsOn).toEqual(['ns/db#db']);
  });

  it('gives arrow readiness checks the variables they read', () => {
    const check = workloads.find((w) => w.id === 'ns/web#web')?.readiness;
    expect(check).toMatchObject({ kind: 'arrow', variables: { greeting: 'hi' }, runnable: 'ns/web' });
  });

  it('hashes specs so that equal specs compare equal and changed ones differ', () => {
    const again = buildWorkloads({
      deployment: 'ns/app',
      owner: 'peer-1',
      generation: 4,
      runnables: [{ ...base, path: 'ns/db', containers: [{ key: 'db', spec }], dependsOn: [] }],
    });
    const changed = buildWorkloads({
      deployment: 'ns/app',
      owner: 'peer-1',
      generation: 4,
      runnables: [
        {
          ...base,
          path: 'ns/db',
          containers: [{ key: 'db', spec: { ...spec, image: 'busybox:2' } }],
          dependsOn: [],
        },
      ],
    });
    expect(again[0]?.specHash).toBe(workloads[0]?.specHash);
    expect(changed[0]?.specHash).not.toBe(workloads[0]?.specHash);
  });

  it('derives DNS-safe names', () => {
    expect(runnableHostname('My_NS/Web.App')).toBe('my-ns-web-app');
    expect(containerName('ns/web', 'web', 2)).toBe('ns-web-web-2');
  });
});

describe('buildWorkloads: template aliases and hooks', () => {
  const [withExtras] = buildWorkloads({
    deployment: 'shop/shop',
    owner: 'peer-1',
    generation: 1,
    runnables: [
      {
        ...base,
        path: 'shop/db',
        containers: [
          {
            key: 'db',
            spec: { ...spec, aliases: ['db', 'shop-db', 'database'] },
            hooks: { 'container-started': 'init' },
          },
        ],
        dependsOn: [],
      },
    ],
  });

  it('merges the sealed secret variables of a readiness check over the plain ones', () => {
    const [workload] = buildWorkloads({
      deployment: 'ns/db',
      owner: 'peer-1',
      generation: 1,
      runnables: [
        {
          ...base,
          path: 'ns/db',
          variables: { greeting: 'hi', password: '<secret>' },
          containers: [{ key: 'db', spec }],
          dependsOn: [],
          readiness: {
            kind: 'arrow',
            code: 'exec("db", "check", $password)',
            variables: { password: 'monk-sealed:v1:abc' },
            initialDelaySeconds: 0,
            periodSeconds: 1,
            timeoutSeconds: 1,
            attempts: 3,
          },
        },
      ],
    });
    expect(workload?.readiness).toMatchObject({
      variables: { greeting: 'hi', password: 'monk-sealed:v1:abc' },
    });
  });

  it('adds the container aliases (Compose service names) to the DNS names, once each', () => {
    expect(withExtras?.aliases).toEqual(['shop-db', 'db', 'database']);
  });

  it('carries hooks, and hashes them only when present', () => {
    expect(withExtras?.hooks).toEqual({ 'container-started': 'init' });
    const [plain] = buildWorkloads({
      deployment: 'shop/shop',
      owner: 'peer-1',
      generation: 1,
      runnables: [{ ...base, path: 'ns/db', containers: [{ key: 'db', spec }], dependsOn: [] }],
    });
    expect(plain?.hooks).toBeUndefined();
    const hashOf = (w: typeof plain) => specHash({ spec: w?.spec, name: w?.name, aliases: w?.aliases });
    expect(plain?.specHash).toBe(hashOf(plain));
    expect(withExtras?.specHash).not.toBe(hashOf(withExtras));
  });
});
