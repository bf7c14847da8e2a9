import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGraph, createMemoryStore, type Graph } from '@monk/graph';
import type { JsonObject, PeerState } from '@monk/model';
import { createNodeFileSource, loadTemplates } from '@monk/monkscript';
import { createMemoryRuntime } from '@monk/runtime';
import type { DeployPeer } from '@monk/planner';
import type { DeployResult, DescribeResult, ParsedParams, PsEntry } from '@monk/sdk';
import { createCoreHandlers } from './control-service.ts';
import type { CallChannel, HandlerGroup } from './handlers.ts';
import { createLogger } from './logger.ts';

const repoRoot = join(import.meta.dirname, '../../..');
const channel: CallChannel = {
  emit: async () => undefined,
  clientFrames: (async function* () {})(),
  signal: new AbortController().signal,
};

/** The core handlers of peer `peer-a` in a cluster of peers a, b and c (c's id shares a's prefix). */
async function accepting(
  cluster: {
    peers?: DeployPeer[];
    templates?: JsonObject[];
    peerStates?: ReadonlyMap<string, PeerState>;
  } = {},
): Promise<{ graph: Graph; handlers: HandlerGroup }> {
  const graph = await createGraph({ peerId: 'peer-a', store: createMemoryStore() });
  for (const [id, name] of [
    ['peer-a', 'root'],
    ['peer-b', 'local-1'],
    ['peer-ax', 'local-2'],
  ] as const) {
    graph.putPeer({ id, name, role: 'peer', tags: [], addresses: [], joinedAt: '2026-01-01T00:00:00.000Z' });
  }
  const handlers = createCoreHandlers(
    {
      peerId: 'peer-a',
      peerName: 'root',
      dataDir: '/nonexistent',
      volumeRoot: '/nonexistent/volumes',
      version: 'test',
      startedAt: '2026-01-01T00:00:00.000Z',
    },
    {
      graph,
      runtime: createMemoryRuntime({ images: [] }),
      reconciler: {
        start: () => undefined,
        stop: async () => undefined,
        kick: () => undefined,
        runtimeStatus: () => ({ available: true }),
      },
      logger: createLogger({ level: 'error' }),
      now: () => Date.parse('2026-01-01T00:00:00.000Z'),
      ...(cluster.peers === undefined ? {} : { deployPeers: () => cluster.peers ?? [] }),
      ...(cluster.peerStates === undefined ? {} : { peerStates: () => cluster.peerStates ?? new Map() }),
    },
  );
  const { templates } = await loadTemplates({
    entries: [join(repoRoot, 'examples/app.yaml')],
    files: createNodeFileSource(),
  });
  // As they cross the control socket: plain JSON.
  const records = JSON.parse(JSON.stringify(templates)) as JsonObject[];
  await handlers['templates.put']?.({ templates: [...records, ...(cluster.templates ?? [])] }, channel);
  return { graph, handlers };
}

const run = (peer?: string): ParsedParams<'run'> => ({
  path: 'examples/web',
  variables: {},
  strict: false,
  wait: false,
  timeoutSeconds: 5,
  forceMove: false,
  ...(peer === undefined ? {} : { peer }),
});

const owners = (graph: Graph): string[] => graph.listWorkloads().map((w) => w.owner);

describe('monk run --peer', () => {
  it('writes the new instances with the named peer as owner', async () => {
    const { graph, handlers } = await accepting();
    await handlers.run?.(run('local-1'), channel);
    expect(owners(graph)).toEqual(['peer-b']);
  });

  it('places them on the accepting peer without --peer', async () => {
    const { graph, handlers } = await accepting();
    await handlers.run?.(run(), channel);
    expect(owners(graph)).toEqual(['peer-a']);
  });

  it('moves an unchanged instance to the peer a later run pins it to, and keeps it there without a pin', async () => {
    const { graph, handlers } = await accepting();
    await handlers.run?.(run('peer-b'), channel);
    await handlers.run?.(run(), channel);
    expect(owners(graph)).toEqual(['peer-b']);
    await handlers.run?.(run('local-2'), channel);
    expect(owners(graph)).toEqual(['peer-ax']);
  });

  it('takes a full id even when it is the prefix of another', async () => {
    const { graph, handlers } = await accepting();
    await handlers.run?.(run('peer-a'), channel);
    expect(owners(graph)).toEqual(['peer-a']);
  });

  it.each([
    {
      peer: 'nobody',
      message: /no peer is named nobody.*root \(peer-a\), local-2 \(peer-ax\), local-1 \(peer-b\)/,
    },
    { peer: 'peer-', message: /peer- names more than one peer/ },
  ])('refuses $peer with PEER_NOT_FOUND', async ({ peer, message }) => {
    const { graph, handlers } = await accepting();
    const refused = handlers.run?.(run(peer), channel);
    await expect(refused).rejects.toMatchObject({ code: 'PEER_NOT_FOUND' });
    await expect(refused).rejects.toThrow(message);
    expect(graph.listWorkloads()).toEqual([]);
  });
});

// Issue 9: a change accepted by a peer that does not own the instances moved them to it ("owner A → B").
describe('a change accepted by a peer that does not own the instances', () => {
  const update = (greeting: string): ParsedParams<'update'> => ({
    path: 'examples/web',
    variables: { greeting },
    strict: false,
    wait: false,
    timeoutSeconds: 5,
  });

  it('keeps a changed instance on its owner, and plans and reports no owner change', async () => {
    const { graph, handlers } = await accepting();
    await handlers.run?.(run('local-1'), channel);
    const plan = (await handlers.plan?.(
      { path: 'examples/web', variables: { greeting: 'changed' }, strict: false },
      channel,
    )) as { changes: Array<{ kind: string; reasons: string[] }> };
    expect(plan.changes.map((c) => c.kind)).toEqual(['update']);
    expect(plan.changes.flatMap((c) => c.reasons).some((r) => r.startsWith('owner'))).toBe(false);

    const result = (await handlers.update?.(update('changed'), channel)) as {
      changes: Array<{ reasons: string[] }>;
    };
    expect(result.changes.flatMap((c) => c.reasons).some((r) => r.startsWith('owner'))).toBe(false);
    expect(owners(graph)).toEqual(['peer-b']);
  });
});

describe('placement across the peers membership reports (resolve → place → write)', () => {
  const GiB = 1024 ** 3;
  const member = (id: string, name: string, overrides: Partial<DeployPeer> = {}): DeployPeer => ({
    id,
    name,
    role: 'peer',
    state: 'alive',
    tags: [],
    capacity: { cpus: 2, memoryBytes: 4 * GiB },
    ...overrides,
  });
  const peers = [member('peer-a', 'root'), member('peer-b', 'local-1'), member('peer-ax', 'local-2')];
  const template = (scale: number, extra: JsonObject = {}): JsonObject => ({
    path: 'place/web',
    namespace: 'place',
    name: 'web',
    kind: 'runnable',
    file: 'place.yaml',
    locations: {},
    definition: {
      defines: 'runnable',
      scale,
      containers: { web: { image: 'monk-local/busybox', 'image-tag': 'latest', bash: 'exec sleep 3600' } },
      ...extra,
    },
  });
  const runPlace = (extra: Partial<ParsedParams<'run'>> = {}): ParsedParams<'run'> => ({
    ...run(),
    path: 'place/web',
    ...extra,
  });
  const ownersById = (graph: Graph): Record<string, string> =>
    Object.fromEntries(graph.listWorkloads().map((w) => [w.id, w.owner]));

  it('spreads the replicas of a runnable across peers, and monk scale keeps them spread', async () => {
    const { graph, handlers } = await accepting({ peers, templates: [template(3)] });
    await handlers.run?.(runPlace(), channel);
    expect(new Set(Object.values(ownersById(graph)))).toEqual(new Set(['peer-a', 'peer-b', 'peer-ax']));
    const scaled = (await handlers.scale?.(
      { path: 'place/web', replicas: 5, wait: false, timeoutSeconds: 5 },
      channel,
    )) as DeployResult;
    expect(scaled.changes.filter((c) => c.kind === 'create').map((c) => c.workloadId)).toEqual([
      'place/web#web@3',
      'place/web#web@4',
    ]);
    const counts = Object.values(ownersById(graph)).reduce<Record<string, number>>(
      (acc, owner) => ({ ...acc, [owner]: (acc[owner] ?? 0) + 1 }),
      {},
    );
    expect(Object.values(counts).sort()).toEqual([1, 2, 2]);
    // The override is part of the deployment: a later update keeps five replicas.
    expect(graph.getDeployment('place/web')?.scale).toEqual({ 'place/web': 5 });
    await handlers.update?.({ path: 'place/web', strict: false, wait: false, timeoutSeconds: 5 }, channel);
    expect(graph.listWorkloads()).toHaveLength(5);
  });

  it('monk run -t keeps instances on tagged peers, and an update keeps the tag', async () => {
    const tagged = [member('peer-a', 'root'), member('peer-b', 'local-1', { tags: ['edge'] })];
    const { graph, handlers } = await accepting({ peers: tagged, templates: [template(2)] });
    await handlers.run?.(runPlace({ tags: ['edge'] }), channel);
    expect(Object.values(ownersById(graph))).toEqual(['peer-b', 'peer-b']);
    await handlers.scale?.({ path: 'place/web', replicas: 3, wait: false, timeoutSeconds: 5 }, channel);
    expect(Object.values(ownersById(graph))).toEqual(['peer-b', 'peer-b', 'peer-b']);
  });

  it('records what fits nowhere as unschedulable: ps and describe say why, per peer', async () => {
    const big = template(1, { resources: { requests: { cpus: 8 } } });
    const { graph, handlers } = await accepting({ peers, templates: [big] });
    const result = (await handlers.run?.(runPlace(), channel)) as DeployResult;
    expect(result.unschedulable?.map((u) => u.workloadId)).toEqual(['place/web#web']);
    expect(graph.getWorkload('place/web#web')?.owner).toBe('');
    const [row] = (await handlers.ps?.({ all: true }, channel)) as PsEntry[];
    expect(row).toMatchObject({ peer: '', state: 'pending' });
    expect(row?.unschedulable).toMatch(/^no peer fits: root: not enough CPU \(needs 8 CPU/);
    const described = (await handlers.describe?.({ path: 'place/web' }, channel)) as DescribeResult;
    expect(described.workloads[0]?.placement?.peers).toEqual([
      { peer: 'peer-a', peerName: 'root', reason: 'not enough CPU (needs 8 CPU, 2 CPU of 2 CPU free)' },
      { peer: 'peer-ax', peerName: 'local-2', reason: 'not enough CPU (needs 8 CPU, 2 CPU of 2 CPU free)' },
      { peer: 'peer-b', peerName: 'local-1', reason: 'not enough CPU (needs 8 CPU, 2 CPU of 2 CPU free)' },
    ]);
  });

  it('with wait, a deploy with an unschedulable instance fails with UNSCHEDULABLE once written', async () => {
    const big = template(1, { resources: { requests: { cpus: 8 } } });
    const { graph, handlers } = await accepting({ peers, templates: [big] });
    await expect(handlers.run?.(runPlace({ wait: true }), channel)).rejects.toMatchObject({
      code: 'UNSCHEDULABLE',
    });
    expect(graph.getWorkload('place/web#web')?.unschedulable?.reason).toMatch(/no peer fits/);
  });
});

// Issue 9: a deploy accepted while some peers are unreachable.
describe('a deploy onto a peer that is unreachable', () => {
  it('is accepted, reports the instance pending, and does not wait for it', async () => {
    const { graph, handlers } = await accepting({ peerStates: new Map([['peer-b', 'dead']]) });
    // The clock never moves here: waiting for the dead peer's instance would never end.
    const result = (await handlers.run?.({ ...run('local-1'), wait: true }, channel)) as {
      ready: boolean;
      pending?: string[];
    };
    expect(result).toMatchObject({ ready: false, pending: ['examples/web#web'] });
    expect(owners(graph)).toEqual(['peer-b']);
  });

  it('reports nothing pending when every owner is reachable', async () => {
    const { handlers } = await accepting({ peerStates: new Map([['peer-b', 'alive']]) });
    const result = (await handlers.run?.(run('local-1'), channel)) as { pending?: string[] };
    expect(result.pending).toBeUndefined();
  });
});
