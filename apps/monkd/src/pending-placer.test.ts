import { describe, expect, it } from 'vitest';
import { createGraph, createMemoryStore } from '@monk/graph';
import { defaultRecoveryPolicy } from '@monk/model';
import { planDeploy, type DeployPeer } from '@monk/planner';
import { createLogger } from './logger.ts';
import { createPendingPlacer } from './pending-placer.ts';

const GiB = 1024 ** 3;
const peer = (id: string, memoryGiB: number): DeployPeer => ({
  id,
  name: id,
  role: 'peer',
  state: 'alive',
  tags: [],
  capacity: { cpus: 2, memoryBytes: memoryGiB * GiB },
});

/** A graph on peer `self` holding one instance that needs 6 GiB, unschedulable on two 4 GiB peers. */
async function world(self: string) {
  const graph = await createGraph({ peerId: self, store: createMemoryStore() });
  const plan = planDeploy({
    deployment: 'ns/big',
    runnables: [
      {
        path: 'ns/big',
        containers: [
          {
            key: 'main',
            spec: { image: 'busybox', environment: {}, ports: [], mounts: [], files: [], labels: {} },
          },
        ],
        services: [],
        dependsOn: [],
        connections: {},
        recovery: defaultRecoveryPolicy,
        variables: {},
        scale: 1,
        placement: { requests: { memoryBytes: 6 * GiB } },
      },
    ],
    generation: 1,
    workloads: [],
    peers: [peer('p1', 4), peer('p2', 4)],
    accepting: 'p1',
  });
  graph.putWorkloads(plan.workloads);
  return graph;
}

describe('createPendingPlacer', () => {
  it('places an unschedulable instance on the peer that now has room, when this peer decides', async () => {
    const graph = await world('p1');
    const placer = createPendingPlacer(
      { peerId: 'p1' },
      {
        graph,
        peers: () => [peer('p1', 4), peer('p2', 4), peer('p3', 8)],
        logger: createLogger({ level: 'error' }),
      },
    );
    expect(graph.getWorkload('ns/big#main')?.owner).toBe('');
    await placer.placeNow();
    expect(graph.getWorkload('ns/big#main')).toMatchObject({ owner: 'p3' });
    expect(graph.getWorkload('ns/big#main')?.unschedulable).toBeUndefined();
  });

  it('leaves it to the deciding peer (the alive peer with the smallest id)', async () => {
    const graph = await world('p2');
    const placer = createPendingPlacer(
      { peerId: 'p2' },
      {
        graph,
        peers: () => [peer('p1', 4), peer('p2', 4), peer('p3', 8)],
        logger: createLogger({ level: 'error' }),
      },
    );
    await placer.placeNow();
    expect(graph.getWorkload('ns/big#main')?.owner).toBe('');
  });
});
