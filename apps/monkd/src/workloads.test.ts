import { describe, expect, it } from 'vitest';
import { defaultRecoveryPolicy, type ResolvedRunnable } from '@monk/model';
import { buildWorkloads } from '@monk/planner';
import { selectWorkloads } from './workloads.ts';

const base: Omit<ResolvedRunnable, 'path' | 'containers' | 'dependsOn'> = {
  services: [],
  connections: {},
  recovery: defaultRecoveryPolicy,
  variables: {},
  scale: 1,
};
const spec = { image: 'busybox:latest', environment: {}, ports: [], mounts: [], files: [], labels: {} };

describe('selectWorkloads', () => {
  const workloads = buildWorkloads({
    deployment: 'ns/app',
    owner: 'peer-1',
    generation: 1,
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
      },
    ],
  });

  it('selects workloads by deployment, runnable, runnable/container or id', () => {
    expect(selectWorkloads(workloads, 'ns/app')).toHaveLength(3);
    expect(selectWorkloads(workloads, '/ns/web').map((w) => w.id)).toEqual(['ns/web#web', 'ns/web#sidecar']);
    expect(selectWorkloads(workloads, 'ns/web/sidecar').map((w) => w.id)).toEqual(['ns/web#sidecar']);
    expect(selectWorkloads(workloads, 'ns/db#db')).toHaveLength(1);
  });
});
