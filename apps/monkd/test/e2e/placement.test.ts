import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerEntry, PsEntry } from '@monk/sdk';
import { startClusterPeer, type ClusterPeer } from '../cluster-peer.ts';
import { eventually } from '../harness.ts';

/** How many ready replicas of `runnable` each peer runs, as `peer` lists them. */
async function readyByPeer(peer: ClusterPeer, runnable: string): Promise<Map<string, number>> {
  const rows = (await peer.client.ps({})).filter((r: PsEntry) => r.runnable === runnable && r.ready);
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.peer, (counts.get(row.peer) ?? 0) + 1);
  return counts;
}

/**
 * Placement skips peers membership thinks dead: on a busy machine a peer can be declared dead for a
 * moment, so a deploy that tests spreading runs right after the accepting peer sees all three alive.
 */
async function allAliveSeenBy(peer: ClusterPeer): Promise<void> {
  await eventually(
    async () => {
      const list = (await peer.client.call('cluster.peers', {})) as PeerEntry[];
      return list.length === 3 && list.every((p) => p.state === 'alive') ? true : undefined;
    },
    { what: `${peer.name} to see three live peers`, timeoutMs: 60_000 },
  );
}

describe('placement across three monkd on one engine (needs Docker, loopback TCP)', () => {
  const peers: ClusterPeer[] = [];
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'monk-placement-e2e-'));
    for (const name of ['place-1', 'place-2', 'place-3'])
      peers.push(await startClusterPeer(name, '127.0.0.1'));
    const [first, ...rest] = peers as [ClusterPeer, ...ClusterPeer[]];
    await first.client.call('cluster.new', { name: 'placement' });
    for (const peer of rest) {
      const { token } = (await first.client.call('cluster.joinToken', {})) as { token: string };
      await peer.client.call('cluster.join', { token });
    }
    for (const peer of peers) {
      await eventually(
        async () => {
          const list = (await peer.client.call('cluster.peers', {})) as PeerEntry[];
          return list.length === 3 && list.every((p) => p.state === 'alive') ? true : undefined;
        },
        { what: `${peer.name} to see three live peers`, timeoutMs: 30_000 },
      );
    }
    await writeFile(
      join(scratch, 'spread.yaml'),
      [
        'namespace: spread',
        'web:',
        '  defines: runnable',
        '  scale: 3',
        '  containers:',
        '    web:',
        '      image: monk-local/busybox',
        '      image-tag: latest',
        '      bash: exec sleep 3600',
        '',
      ].join('\n'),
    );
    // Three daemons forming a cluster on a shared, busy machine: more than the e2e default.
  }, 600_000);

  afterAll(async () => {
    for (const peer of peers) await peer.monkd[Symbol.asyncDispose]();
    await rm(scratch, { recursive: true, force: true });
  });

  it('spreads the replicas of a runnable over the peers, and monk scale adds replicas spread too', async () => {
    const [first, second, third] = peers as [ClusterPeer, ClusterPeer, ClusterPeer];
    expect((await first.monkd.monk(['load', join(scratch, 'spread.yaml')])).code).toBe(0);
    await eventually(
      async () =>
        (await second.client.listTemplates()).some((t) => t.path === 'spread/web') ? true : undefined,
      { what: 'the template to reach place-2' },
    );
    await allAliveSeenBy(second);
    const run = await second.monkd.monk(['run', 'spread/web', '--timeout', '120']);
    expect(run.code, run.stderr).toBe(0);
    const ids = new Set(peers.map((peer) => peer.id));
    // Every peer lists the same placement: one replica on each peer.
    for (const peer of peers) {
      const counts = await eventually(
        async () => {
          const seen = await readyByPeer(peer, 'spread/web');
          return [...seen.values()].reduce((a, b) => a + b, 0) === 3 ? seen : undefined;
        },
        { what: `${peer.name} to see three ready replicas` },
      );
      expect(new Set(counts.keys())).toEqual(ids);
    }
    // Each peer's engine runs the containers of the replicas it owns (one engine here: by label).
    const ps = await third.monkd.monk(['ps']);
    expect(ps.stdout.match(/spread\/web/g)).toHaveLength(3);

    await allAliveSeenBy(third);
    const scaled = await third.monkd.monk(['scale', 'spread/web', '5', '--timeout', '120']);
    expect(scaled.code, scaled.stderr).toBe(0);
    expect(scaled.stdout).toContain('spread/web scaled to 5');
    const counts = await eventually(
      async () => {
        const seen = await readyByPeer(first, 'spread/web');
        return [...seen.values()].reduce((a, b) => a + b, 0) === 5 ? seen : undefined;
      },
      { what: 'five ready replicas' },
    );
    expect([...counts.values()].sort()).toEqual([1, 2, 2]);
    // A later update keeps the scale monk scale set.
    const update = await first.monkd.monk(['update', 'spread/web', '--timeout', '120']);
    expect(update.code, update.stderr).toBe(0);
    expect((await first.client.ps({})).filter((r) => r.runnable === 'spread/web')).toHaveLength(5);
  }, 600_000);

  it('reports a runnable that fits nowhere as unschedulable, per peer, without running it', async () => {
    const [first] = peers as [ClusterPeer];
    await writeFile(
      join(scratch, 'huge.yaml'),
      [
        'namespace: spread',
        'huge:',
        '  defines: runnable',
        '  resources:',
        '    requests: {cpus: 100000}',
        '  containers:',
        '    main: {image: monk-local/busybox, image-tag: latest, bash: exec sleep 3600}',
        '',
      ].join('\n'),
    );
    expect((await first.monkd.monk(['load', join(scratch, 'huge.yaml')])).code).toBe(0);
    const run = await first.monkd.monk(['run', 'spread/huge']);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(
      /spread\/huge#main: no peer fits: .*place-\d: not enough CPU \(needs 100000 CPU/,
    );
    const ps = await first.monkd.monk(['ps']);
    expect(ps.stdout).toMatch(/spread\/huge +spread-huge-main +- .*unschedulable: no peer fits/);
    const describe = await first.monkd.monk(['describe', 'spread/huge']);
    // Every peer is listed with its reason (not enough CPU; or dead/suspect if membership saw it so).
    for (const peer of peers) expect(describe.stdout).toMatch(new RegExp(`\\n +${peer.name} +\\S`));
    expect(describe.stdout).toMatch(/place-\d +not enough CPU \(needs 100000 CPU/);
  }, 300_000);
});
