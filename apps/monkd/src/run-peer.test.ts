import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGraph, createMemoryStore, type Graph } from '@monk/graph';
import type { JsonObject, PeerState } from '@monk/model';
import { createNodeFileSource, loadTemplates } from '@monk/monkscript';
import { createMemoryRuntime } from '@monk/runtime';
import type { ParsedParams } from '@monk/sdk';
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
  peerStates: ReadonlyMap<string, PeerState> = new Map(),
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
      peerStates: () => peerStates,
    },
  );
  const { templates } = await loadTemplates({
    entries: [join(repoRoot, 'examples/app.yaml')],
    files: createNodeFileSource(),
  });
  // As they cross the control socket: plain JSON.
  const records = JSON.parse(JSON.stringify(templates)) as JsonObject[];
  await handlers['templates.put']?.({ templates: records }, channel);
  return { graph, handlers };
}

const run = (peer?: string): ParsedParams<'run'> => ({
  path: 'examples/web',
  variables: {},
  strict: false,
  wait: false,
  timeoutSeconds: 5,
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

// Issue 9: a deploy accepted while some peers are unreachable.
describe('a deploy onto a peer that is unreachable', () => {
  it('is accepted, reports the instance pending, and does not wait for it', async () => {
    const { graph, handlers } = await accepting(new Map([['peer-b', 'dead']]));
    // The clock never moves here: waiting for the dead peer's instance would never end.
    const result = (await handlers.run?.({ ...run('local-1'), wait: true }, channel)) as {
      ready: boolean;
      pending?: string[];
    };
    expect(result).toMatchObject({ ready: false, pending: ['examples/web#web'] });
    expect(owners(graph)).toEqual(['peer-b']);
  });

  it('reports nothing pending when every owner is reachable', async () => {
    const { handlers } = await accepting(new Map([['peer-b', 'alive']]));
    const result = (await handlers.run?.(run('local-1'), channel)) as { pending?: string[] };
    expect(result.pending).toBeUndefined();
  });
});
