import { describe, expect, it } from 'vitest';
import { defaultRecoveryPolicy, type ObservedWorkload, type Workload } from '@monk/model';
import { meshDnsRecords } from './mesh-dns-lookup.ts';

const workload = (runnable: string, container: string, replica = 0): Workload => ({
  id: `${runnable}#${container}${replica === 0 ? '' : `@${replica}`}`,
  deployment: runnable,
  runnable,
  container,
  name: `${runnable.replace('/', '-')}-${container}`,
  aliases: [],
  spec: { image: 'busybox', environment: {}, ports: [], mounts: [], files: [], labels: {} },
  specHash: 'h',
  dependsOn: [],
  recovery: defaultRecoveryPolicy,
  owner: `peer-${replica}`,
  state: 'running',
  generation: 1,
});

const observed = (id: string, ready: boolean, address?: string): ObservedWorkload => ({
  workloadId: id,
  peer: 'p',
  phase: ready ? 'ready' : 'starting',
  ready,
  restarts: 0,
  updatedAt: '2026-12-02T10:00:00.000Z',
  ...(address === undefined ? {} : { address }),
});

describe('meshDnsRecords', () => {
  const workloads = [
    workload('shop/Web_Front', 'nginx'),
    workload('shop/Web_Front', 'nginx', 1),
    workload('shop/Web_Front', 'php'),
    workload('shop/db', 'postgres'),
  ];
  const states = new Map([
    ['shop/Web_Front#nginx', observed('shop/Web_Front#nginx', true, '10.240.17.2')],
    ['shop/Web_Front#nginx@1', observed('shop/Web_Front#nginx@1', true, '10.240.18.2')],
    ['shop/Web_Front#php', observed('shop/Web_Front#php', true, '10.240.17.3')],
    ['shop/db#postgres', observed('shop/db#postgres', false, '10.240.18.3')],
  ]);
  const graph = { workloads, observed: (id: string) => states.get(id) };

  it('answers a runnable with the addresses of its ready instances wherever they run', () => {
    expect(meshDnsRecords('web-front.shop.monk', graph)).toEqual({
      addresses: ['10.240.17.2', '10.240.18.2', '10.240.17.3'],
    });
  });

  it('answers a container-level name with that container only', () => {
    expect(meshDnsRecords('php.web-front.shop.monk', graph)).toEqual({ addresses: ['10.240.17.3'] });
  });

  it('leaves out instances that are not ready, and knows no name without a workload', () => {
    expect(meshDnsRecords('db.shop.monk', graph)).toEqual({ addresses: [] });
    expect(meshDnsRecords('cache.shop.monk', graph)).toBeUndefined();
    expect(meshDnsRecords('example.com', graph)).toBeUndefined();
  });
});
