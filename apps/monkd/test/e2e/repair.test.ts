// Issue 9, ownership and repair without a leader: three monkd on the one Docker engine; kill -9 the one
// that runs every instance, and its instances run on the other two within 10 s of it being marked dead.
// Its containers are left running (the engine is shared): the test proves the instances run under live
// peers by the containers' peer labels, and that once the killed peer returns it removes its old copies,
// leaving every instance exactly once. Needs Docker and a built bin/ (pnpm build).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PsEntry } from '@monk/sdk';
import { docker, eventually, peerContainers } from '../harness.ts';
import { startClusterPeer, stateSeenBy, type ClusterPeer } from '../cluster-peer.ts';

const replicas = 4;
const ids = Array.from({ length: replicas }, (_, i) => (i === 0 ? 'rep/sleeper#c' : `rep/sleeper#c@${i}`));

/** Running containers of one workload on the engine, whichever peer made them. */
async function runningCopies(workloadId: string): Promise<string[]> {
  const out = await docker([
    'ps',
    '--filter',
    `label=monk.workload=${workloadId}`,
    '--filter',
    'status=running',
    '--format',
    '{{.Label "monk.peer"}}',
  ]);
  return out.split('\n').filter((line) => line.trim() !== '');
}

describe('repair: a dead peer’s instances run elsewhere (needs Docker, loopback TCP)', () => {
  const peers: ClusterPeer[] = [];
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'monk-repair-e2e-'));
    for (const name of ['r1', 'r2', 'r3']) peers.push(await startClusterPeer(name, '127.0.0.1'));
    const [first, ...rest] = peers as [ClusterPeer, ...ClusterPeer[]];
    await first.client.call('cluster.new', { name: 'repair' });
    for (const peer of rest) {
      const { token } = (await first.client.call('cluster.joinToken', {})) as { token: string };
      await peer.client.call('cluster.join', { token });
    }
    for (const observer of peers)
      for (const subject of peers)
        await eventually(
          async () => ((await stateSeenBy(observer, subject)) === 'alive' ? true : undefined),
          {
            what: `${observer.name} to see ${subject.name} alive`,
          },
        );
  }, 400_000);

  afterAll(async () => {
    for (const peer of peers) await peer.monkd[Symbol.asyncDispose]();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }, 120_000);

  it(
    'moves every instance of a killed peer to the live ones within 10 s, and none is left double after it returns',
    { timeout: 400_000 },
    async () => {
      const [first] = peers as [ClusterPeer, ...ClusterPeer[]];
      const file = join(scratch, 'sleeper.yaml');
      await writeFile(
        file,
        [
          'namespace: rep',
          'sleeper:',
          '  defines: runnable',
          `  scale: ${replicas}`,
          '  containers:',
          '    c:',
          '      image: monk-local/busybox',
          '      image-tag: latest',
          '      bash: exec sleep 3600',
          '',
        ].join('\n'),
      );
      const accepting = peers[2]!;
      expect((await accepting.monkd.monk(['load', file])).code).toBe(0);
      // Not waited for here: `eventually` below waits, with a deadline a loaded host can meet.
      await accepting.client.run({ path: 'rep/sleeper', variables: {}, wait: false });
      const sleepers = async (peer: ClusterPeer): Promise<PsEntry[]> =>
        (await peer.client.ps({})).filter((r) => r.workloadId.startsWith('rep/sleeper#'));
      const placed = await eventually(
        async () => {
          const rows = await sleepers(first);
          return rows.length === replicas && rows.every((r) => r.ready) ? rows : undefined;
        },
        { what: 'every instance ready' },
      );
      // All start on the accepting peer; on a loaded host membership may already have moved some (a peer
      // briefly declared dead is repaired like any other): the victim is the peer that runs the most.
      const counts = new Map<string, number>();
      for (const row of placed) counts.set(row.peer, (counts.get(row.peer) ?? 0) + 1);
      const victimId = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
      const victim = peers.find((peer) => peer.id === victimId)!;
      const survivors = peers.filter((peer) => peer !== victim);
      const [survivor, otherSurvivor] = survivors as [ClusterPeer, ClusterPeer];
      console.log(
        `repair e2e: killing ${victim.name}, which runs ${counts.get(victimId)} of ${replicas} instances`,
      );

      await victim.monkd.kill('SIGKILL');
      const deadAt = await eventually(
        async () => {
          const states = await Promise.all(survivors.map((peer) => stateSeenBy(peer, victim)));
          return states.some((state) => state === 'dead') ? performance.now() : undefined;
        },
        { what: `a survivor to mark ${victim.name} dead`, timeoutMs: 30_000 },
      );
      const live = new Set(survivors.map((peer) => peer.id));
      const movedRows = await eventually(
        async () => {
          const rows = await sleepers(survivor);
          return rows.length === replicas && rows.every((r: PsEntry) => live.has(r.peer) && r.ready)
            ? rows
            : undefined;
        },
        { what: 'every instance ready on a live peer', timeoutMs: 30_000 },
      );
      const repairMs = performance.now() - deadAt;
      console.log(
        `repair: every instance ready on a live peer ${repairMs.toFixed(0)} ms after the peer was marked dead`,
      );
      expect(repairMs).toBeLessThanOrEqual(10_000);
      // Both survivors agree on where each instance runs, and each runs there: a container of that peer.
      const seenByOther = await eventually(
        async () => {
          const rows = await sleepers(otherSurvivor);
          return rows.every((r) => live.has(r.peer)) ? rows : undefined;
        },
        { what: 'the other survivor to see the moves' },
      );
      expect(Object.fromEntries(seenByOther.map((r) => [r.workloadId, r.peer]))).toEqual(
        Object.fromEntries(movedRows.map((r) => [r.workloadId, r.peer])),
      );
      for (const row of movedRows) expect(await runningCopies(row.workloadId)).toContain(row.peer);
      // Spread over both survivors, not piled on one.
      expect(new Set(movedRows.map((r) => r.peer)).size).toBe(2);
      console.log('repair e2e: moved; restarting the killed peer');

      // The killed peer comes back: it keeps none of the instances it used to run.
      await victim.monkd.restart();
      for (const peer of survivors)
        await eventually(async () => ((await stateSeenBy(peer, victim)) === 'alive' ? true : undefined), {
          what: `${peer.name} to see ${victim.name} alive again`,
          timeoutMs: 30_000,
        });
      await eventually(async () => ((await peerContainers(victim.id)).length === 0 ? true : undefined), {
        what: `${victim.name} to remove the containers of instances that moved away`,
        timeoutMs: 30_000,
      });
      for (const id of ids) expect(await runningCopies(id), id).toHaveLength(1);
      // The returned peer agrees with the others on where each instance runs (on a loaded host membership
      // may have moved some again meanwhile: what matters is one view, and one copy each).
      const ownersSeenBy = async (peer: ClusterPeer): Promise<string> =>
        JSON.stringify(Object.fromEntries((await sleepers(peer)).map((r) => [r.workloadId, r.peer])));
      await eventually(
        async () => ((await ownersSeenBy(victim)) === (await ownersSeenBy(survivor)) ? true : undefined),
        { what: `${victim.name} to agree with ${survivor.name} on the owners` },
      );
    },
  );
});
