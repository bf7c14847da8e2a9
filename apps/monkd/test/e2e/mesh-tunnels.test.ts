import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerEntry } from '@monk/sdk';
import { eventually, startMonkd, type MonkdProcess } from '../harness.ts';

const run = promisify(execFile);
const root = process.getuid?.() === 0;
const tag = process.pid % 100_000;
const hosts = [
  { netns: `mt-${tag}-a`, veth: `mta${tag}`, underlay: '192.168.244.1' },
  { netns: `mt-${tag}-b`, veth: `mtb${tag}`, underlay: '192.168.244.2' },
] as const;

const inNetns = (netns: string, file: string, args: readonly string[]) =>
  run('nsenter', [`--net=/var/run/netns/${netns}`, file, ...args]);
const pings = (netns: string, to: string): Promise<boolean> =>
  inNetns(netns, 'ping', ['-c', '1', '-W', '1', to]).then(
    () => true,
    () => false,
  );

async function removeHosts(): Promise<void> {
  for (const host of hosts) {
    // What still runs in the namespace was started here (wireguard-go of a killed monkd).
    const { stdout } = await run('ip', ['netns', 'pids', host.netns]).catch(() => ({ stdout: '' }));
    for (const pid of stdout.split('\n').filter((p) => p !== '')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', host.netns]).catch(() => undefined);
  }
}

describe.skipIf(!root)(
  'monkd --mesh-tunnels on two hosts (network namespaces; needs root, wireguard-go, Docker)',
  () => {
    const daemons: MonkdProcess[] = [];

    beforeAll(async () => {
      await removeHosts();
      for (const host of hosts) {
        await run('ip', ['netns', 'add', host.netns]);
        await run('ip', ['-n', host.netns, 'link', 'set', 'lo', 'up']);
      }
      const [a, b] = hosts;
      await run('ip', [
        'link',
        'add',
        a.veth,
        'netns',
        a.netns,
        'type',
        'veth',
        'peer',
        b.veth,
        'netns',
        b.netns,
      ]);
      for (const host of hosts) {
        await run('ip', ['-n', host.netns, 'address', 'add', `${host.underlay}/24`, 'dev', host.veth]);
        await run('ip', ['-n', host.netns, 'link', 'set', host.veth, 'up']);
        daemons.push(
          await startMonkd({
            netns: host.netns,
            extraArgs: [
              '--name',
              host.netns,
              '--p2p-host',
              host.underlay,
              '--p2p-port',
              '0',
              '--mesh',
              '--mesh-tunnels',
            ],
          }),
        );
      }
    });
    afterAll(async () => {
      for (const daemon of daemons) await daemon[Symbol.asyncDispose]();
      await removeHosts();
      // Both monkd share this machine's engine, where in the cluster they made their `monk-mesh` network.
      await run('docker', ['network', 'rm', 'monk-mesh']).catch(() => undefined);
    });

    it('a joining peer is reachable over the mesh, also while its monkd restarts; a removed one loses its tunnel on both sides', async () => {
      const links = async (netns: string): Promise<string> =>
        (await inNetns(netns, 'ip', ['-o', 'link', 'show'])).stdout;
      const [a, b] = daemons as [MonkdProcess, MonkdProcess];
      const [hostA, hostB] = hosts;
      expect((await a.monk(['cluster', 'new', '--name', 'lan', '--mesh-cidr', '10.78.0.0/16'])).code).toBe(0);
      const token = (await a.monk(['cluster', 'join-token'])).stdout.trim();
      const joined = await b.monk(['cluster', 'join', token]);
      expect(joined.code, joined.stderr).toBe(0);
      const joinedAt = Date.now();

      const peers = await eventually(
        async () => {
          const list = await a.monkJson<PeerEntry[]>(['cluster', 'peers']);
          return list.length === 2 && list.every((p) => p.mesh !== undefined) ? list : undefined;
        },
        { timeoutMs: 15_000, what: 'both peers with mesh records' },
      );
      const overlayOf = (netns: string): string =>
        peers.find((p) => p.name === netns)?.mesh?.overlayAddress ?? '';
      expect(peers.find((p) => p.name === hostB.netns)?.mesh?.endpoint).toBe(`${hostB.underlay}:51820`);
      await eventually(async () => ((await pings(hostA.netns, overlayOf(hostB.netns))) ? true : undefined), {
        timeoutMs: 15_000,
        what: 'A reaching B over the mesh',
      });
      await eventually(async () => ((await pings(hostB.netns, overlayOf(hostA.netns))) ? true : undefined), {
        timeoutMs: 15_000,
        what: 'B reaching A over the mesh',
      });
      console.log(`B reachable from A over the mesh ${Date.now() - joinedAt} ms after join returned`);

      // Restarting B's monkd keeps the LAN: the interface outlives it, and the new monkd adopts it.
      await b.kill('SIGTERM');
      expect(await pings(hostA.netns, overlayOf(hostB.netns))).toBe(true);
      await b.restart();
      expect(await pings(hostA.netns, overlayOf(hostB.netns))).toBe(true);
      expect((await links(hostB.netns)).match(/mwg/g)).toHaveLength(1);

      const idB = await b.peerId();
      expect((await a.monk(['cluster', 'peer-remove', idB])).code).toBe(0);
      await eventually(
        async () => {
          const { stdout } = await inNetns(hostA.netns, 'ip', ['route', 'show']);
          return stdout.includes('10.78.') ? undefined : true;
        },
        { timeoutMs: 15_000, what: "B's routes gone from A" },
      );
      expect(await pings(hostA.netns, overlayOf(hostB.netns))).toBe(false);
      await eventually(async () => ((await links(hostB.netns)).includes('mwg') ? undefined : true), {
        timeoutMs: 15_000,
        what: "B's interface gone after its removal",
      });
      expect(await links(hostA.netns)).toContain('mwg');
    });
  },
);
