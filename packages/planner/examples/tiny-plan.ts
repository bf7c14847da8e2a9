// Run from the repository root: node --conditions=@monk/source packages/planner/examples/tiny-plan.ts
import { defaultRecoveryPolicy, specHash } from '@monk/model';
import type { ContainerSpec, Workload } from '@monk/model';
import { describeStep, diffWorkloads, formatPlan, placeWorkloads, planReconcile } from '@monk/planner';

function workload(key: string, image: string, dependsOn: string[] = []): Workload {
  const spec: ContainerSpec = {
    image,
    environment: { DB_PASSWORD: 'never printed' },
    ports: [],
    mounts: [],
    files: [],
    labels: {},
  };
  return {
    id: `shop/app#${key}`,
    deployment: 'shop/app',
    runnable: 'shop/app',
    container: key,
    name: `shop-app-${key}`,
    aliases: [],
    spec,
    specHash: specHash(spec),
    dependsOn,
    recovery: defaultRecoveryPolicy,
    owner: 'peer-a',
    state: 'running',
    generation: 1,
  };
}

// Where would two new workloads go? (Pure: same answer on every peer.)
const placed = placeWorkloads({
  workloads: [{ id: 'shop/app#db', requiredTags: ['ssd'] }, { id: 'shop/app#web' }],
  peers: [
    { id: 'peer-a', tags: ['ssd'], state: 'alive', role: 'peer', workloads: 0 },
    { id: 'peer-b', tags: [], state: 'alive', role: 'peer', workloads: 0 },
  ],
});
console.log('placement:', Object.fromEntries(placed));

// What `monk plan` shows for an update.
const db = workload('db', 'postgres:16');
const web = workload('web', 'nginx:1', [db.id]);
const next = [
  db,
  { ...web, spec: { ...web.spec, image: 'nginx:2' }, specHash: specHash({ ...web.spec, image: 'nginx:2' }) },
];
console.log(formatPlan(diffWorkloads([web], next)));

// What monkd does on peer-a: db has no container yet, web waits for it, a stale container goes.
const plan = planReconcile({
  peerId: 'peer-a',
  workloads: next,
  containers: [{ id: '0123456789abcdef', name: 'shop-old', workloadId: 'shop/old#x', state: 'running' }],
  ready: {},
  restarts: {},
  now: Date.parse('2025-01-01T00:00:00Z'),
});
for (const step of plan.steps) console.log(`step:    ${describeStep(step)}`);
for (const wait of plan.waiting) console.log(`waiting: ${wait.workloadId}: ${wait.reason}`);
