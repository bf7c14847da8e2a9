// Issue 7, item 6: how long after a partition heals until every peer agrees again. Three monkd: two on
// this host, one in its own network namespace (veth pair, private /30), cut off for 30 s with iptables
// DROP on its veth (both directions, so connections it dialled out are cut too). During the partition
// each side makes 100 changes (templates.put) and updates the same deployment (the isolated side 4 s
// later, so its write must win). Heal time: from the DROP rules' removal until every peer lists all 200
// templates and shows the isolated side's value, polled every 25 ms over each peer's control socket.
// Needs root, ip, iptables, nsenter, Docker and a built bin/ (pnpm build).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MethodParams } from '../packages/sdk/src/index.ts';
import { createNodeFileSource, loadTemplates } from '../packages/monkscript/src/index.ts';
import { removePeerContainers } from '../apps/monkd/test/harness.ts';
import { createNetworkNamespace, type NetworkNamespace } from '../apps/monkd/test/netns.ts';
import { startClusterPeer, stateSeenBy, type ClusterPeer } from '../apps/monkd/test/cluster-peer.ts';
import { sleep, until } from './poll.ts';

const partitionMs = 30_000;
const changesPerSide = 100;
const rounds = 3;
const targetMs = 2_000;

type Peer = ClusterPeer;

const greetingOf = async (peer: Peer): Promise<string | undefined> =>
  (await peer.client.describe({ path: 'heal/hello' })).deployment?.variables['greeting'];

async function records(scratch: string, file: string, lines: readonly string[]) {
  const path = join(scratch, file);
  writeFileSync(path, [...lines, ''].join('\n'));
  const { templates } = await loadTemplates({ entries: [path], files: createNodeFileSource() });
  return templates as unknown as MethodParams<'templates.put'>['templates'];
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('partition heal: skipped (needs root for a network namespace and iptables)');
    return;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'monk-partition-bench-'));
  const peers: Peer[] = [];
  let host: NetworkNamespace | undefined;
  try {
    host = await createNetworkNamespace();
    peers.push(await startClusterPeer('major-1', host.outerAddress));
    peers.push(await startClusterPeer('major-2', host.outerAddress));
    peers.push(await startClusterPeer('minor', host.innerAddress, host.command));
    const [first, second, isolated] = peers as [Peer, Peer, Peer];
    await first.client.call('cluster.new', { name: 'heal' });
    for (const peer of [second, isolated]) {
      const { token } = (await first.client.call('cluster.joinToken', {})) as { token: string };
      await peer.client.call('cluster.join', { token });
    }
    for (const observer of peers)
      for (const subject of peers)
        await until(
          async () => (await stateSeenBy(observer, subject)) === 'alive',
          `${observer.name} → ${subject.name} alive`,
        );
    const hello = await records(scratch, 'hello.yaml', [
      'namespace: heal',
      'hello:',
      '  defines: runnable',
      '  variables:',
      '    greeting: { type: string, env: GREETING, value: first }',
      '  containers:',
      '    main: { image: monk-local/busybox, image-tag: latest, bash: exec sleep 3600 }',
    ]);
    await first.client.putTemplates({ templates: hello });
    await first.client.run({ path: 'heal/hello', variables: { greeting: 'first' }, wait: false });
    for (const peer of peers)
      await until(async () => (await greetingOf(peer)) === 'first', `${peer.name} to run heal/hello`);

    const heals: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const names = (side: string): string[] =>
        Array.from({ length: changesPerSide }, (_, i) => `r${round}-${side}-${i}`);
      const change = async (peer: Peer, name: string): Promise<void> => {
        await peer.client.putTemplates({
          templates: await records(scratch, `${name}.yaml`, [
            'namespace: heal',
            `${name}:`,
            '  defines: runnable',
            '  containers:',
            '    c: { image: monk-local/busybox, bash: exec sleep 3600 }',
          ]),
        });
      };
      const writes = async (peer: Peer, side: string, update: { atMs: number; greeting: string }) => {
        const spacing = (partitionMs - 8_000) / changesPerSide;
        for (const [i, name] of names(side).entries()) {
          if (i * spacing >= update.atMs && i * spacing < update.atMs + spacing)
            await peer.client.update({
              path: 'heal/hello',
              variables: { greeting: update.greeting },
              wait: false,
            });
          await change(peer, name);
          await sleep(spacing);
        }
      };
      await host.isolate();
      const isolatedAt = performance.now();
      await until(
        async () => (await stateSeenBy(first, isolated)) === 'dead',
        'the majority to see the partition',
      );
      await until(
        async () => (await stateSeenBy(isolated, first)) === 'dead',
        'the minority to see the partition',
      );
      await Promise.all([
        writes(first, 'major', { atMs: 2_000, greeting: `major-${round}` }),
        writes(isolated, 'minor', { atMs: 6_000, greeting: `minor-${round}` }),
      ]);
      await sleep(Math.max(0, partitionMs - (performance.now() - isolatedAt)));
      const all = [...names('major'), ...names('minor')].map((n) => `heal/${n}`);
      await host.restore();
      const healedAt = performance.now();
      await until(async () => {
        for (const peer of peers) {
          if ((await greetingOf(peer)) !== `minor-${round}`) return false;
          const listed = new Set((await peer.client.listTemplates()).map((t) => t.path));
          if (!all.every((path) => listed.has(path))) return false;
        }
        return true;
      }, 'every peer to agree after the heal');
      const healMs = performance.now() - healedAt;
      heals.push(healMs);
      console.log(
        `round ${round}: partition ${((healedAt - isolatedAt) / 1000).toFixed(1)} s, ${changesPerSide} changes + 1 update on each side → ` +
          `every peer agrees ${healMs.toFixed(0)} ms after the network returns`,
      );
      // Let membership settle before the next partition.
      for (const observer of peers)
        for (const subject of peers)
          await until(
            async () => (await stateSeenBy(observer, subject)) === 'alive',
            `${observer.name} → ${subject.name} alive`,
          );
    }
    const sorted = [...heals].sort((a, b) => a - b);
    console.log(
      `partition heal (30 s partition, ${changesPerSide} changes on each side, ${rounds} rounds): ` +
        `median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms ` +
        `(target ≤ ${targetMs} ms) ${(sorted.at(-1) ?? Infinity) <= targetMs ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    await host?.restore().catch(() => undefined);
    for (const peer of peers) {
      await peer.monkd.kill('SIGKILL');
      await removePeerContainers(peer.id).catch(() => undefined);
      rmSync(peer.monkd.dataDir, { recursive: true, force: true });
    }
    await host?.remove();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
