import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHostFacts } from '@monk/providers';
import type { GrownHost, PeerEntry, PsEntry } from '@monk/sdk';
import { eventually, repoRoot } from '../harness.ts';
import {
  recordedHosts,
  startLocalHosts,
  tracesOf,
  type LocalHost,
  type LocalHostsFixture,
} from '../local-hosts.ts';

const isRoot = process.getuid?.() === 0;
const run = promisify(execFile);

describe.runIf(isRoot)(
  'local hosts: monk cluster grow -p local (needs root, Docker, iproute2, iptables)',
  () => {
    let fixture: LocalHostsFixture;
    let first: LocalHost;
    let second: LocalHost;

    beforeAll(async () => {
      fixture = await startLocalHosts({ count: 2, loadImage: true });
      [first, second] = fixture.hosts as [LocalHost, LocalHost];
    });
    afterAll(async () => {
      await fixture?.[Symbol.asyncDispose]();
    });

    const alivePeers = async (monk: LocalHost['monk']): Promise<string[] | undefined> => {
      const result = await monk(['cluster', 'peers', '--json']);
      if (result.code !== 0) return undefined;
      const peers = JSON.parse(result.stdout) as PeerEntry[];
      const alive = peers.filter((p) => p.state === 'alive').map((p) => p.name);
      return alive.length === 3 ? alive.sort() : undefined;
    };

    it('grows two hosts, tagged provider=local, alive in monk cluster peers from every peer', async () => {
      expect(first.tags).toContain('provider=local');
      expect(first.address).not.toBe(second.address);
      const names = ['root', first.name, second.name].sort();
      for (const monk of [fixture.root.monk, first.monk, second.monk]) {
        expect(
          await eventually(() => alivePeers(monk), { what: 'three peers alive', timeoutMs: 30_000 }),
        ).toEqual(names);
      }
    });

    it('runs examples/web with --peer on the second host: its own engine has the container', async () => {
      expect((await fixture.root.monk(['load', join(repoRoot, 'examples/app.yaml')])).code).toBe(0);
      const ran = await fixture.root.monk(['run', 'examples/web', '--peer', second.name], {
        timeoutMs: 120_000,
      });
      expect(ran.stderr + ran.stdout).toContain('examples/web is ready.');
      const ps = await fixture.root.monkJson<PsEntry[]>(['ps']);
      expect(ps.map((row) => [row.runnable, row.peer, row.ready])).toEqual([
        ['examples/web', second.peerId, true],
      ]);
      expect(await second.docker(['ps', '--format', '{{.Names}}'])).toContain('examples-web-web');
      expect(await first.docker(['ps', '-q'])).toBe('');
    });

    it('refuses a peer that does not exist, listing the peers', async () => {
      const refused = await fixture.root.monk(['run', 'examples/web', '--peer', 'no-such-host']);
      expect(refused.code).toBe(4);
      expect(refused.stderr).toContain('Error [PEER_NOT_FOUND]: no peer is named no-such-host');
      expect(refused.stderr).toContain(`${second.name} (${second.peerId})`);
    });

    it('a grow that fails half-way removes what it made and names the step', async () => {
      // A link already named like the new host's veth makes the grow fail after the namespace exists.
      const name = `${first.name}-x`;
      const facts = localHostFacts({
        name,
        layout: {
          bridge: 'monk-local',
          subnet: '10.231.0.0/24',
          hostsDir: join(fixture.root.dataDir, 'local-hosts'),
          runRoot: '/run/monk-h',
          monkdCommand: [],
          p2pPort: 44001,
          ownerPid: 0,
          ownerDataDir: fixture.root.dataDir,
        },
      });
      await run('ip', ['link', 'add', facts.veth, 'type', 'bridge']);
      const failed = await fixture.root.monk([
        'cluster',
        'grow',
        '-p',
        'local',
        '--name',
        name,
        '--subnet',
        '10.231.0.0/24',
      ]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(
        `Error [PROVIDER_ERROR]: creating local host ${name} failed at step "create veth pair ${facts.veth}"`,
      );
      expect(failed.stderr).toContain('removed the 1 host(s) this grow had made');
      expect(await tracesOf(facts)).toEqual([]);
      expect((await recordedHosts(fixture.root.dataDir)).map((h) => h.name).sort()).toEqual(
        [first.name, second.name].sort(),
      );
    });

    it('keeps the hosts when the root monkd restarts, and brings back a host monkd that died', async () => {
      const dead = Number(await readFile(join(first.runDir, 'monkd.pid'), 'utf8'));
      process.kill(dead, 'SIGKILL');
      await fixture.root.restart();
      expect((await recordedHosts(fixture.root.dataDir)).map((h) => h.name).sort()).toEqual(
        [first.name, second.name].sort(),
      );
      expect(Number(await readFile(join(first.runDir, 'monkd.pid'), 'utf8'))).not.toBe(dead);
      for (const monk of [fixture.root.monk, first.monk]) {
        await eventually(() => alivePeers(monk), { what: 'three peers alive after the restart' });
      }
      expect(await second.docker(['ps', '--format', '{{.Names}}'])).toContain('examples-web-web');
    });

    it('peer-remove of a host leaves nothing of it in ip netns, ip link, the process list or mount', async () => {
      expect(await tracesOf(first)).not.toEqual([]);
      const removed = await fixture.root.monk(['cluster', 'peer-remove', first.name]);
      expect(removed.code).toBe(0);
      expect(await tracesOf(first)).toEqual([]);
      expect((await recordedHosts(fixture.root.dataDir)).map((h) => h.name)).toEqual([second.name]);
    });

    it('shrink removes a local host whose monkd died, and everything of it', async () => {
      const grown = await fixture.root.monkJson<{ hosts: GrownHost[] }>([
        'cluster',
        'grow',
        '-p',
        'local',
        '--name',
        `${first.name}-s`,
        '--subnet',
        '10.231.0.0/24',
      ]);
      const [record] = (await recordedHosts(fixture.root.dataDir)).filter(
        (h) => h.name === grown.hosts[0]?.name,
      );
      if (record?.local === undefined) throw new Error('the grown host is not recorded');
      process.kill(Number(await readFile(join(record.local.runDir, 'monkd.pid'), 'utf8')), 'SIGKILL');
      await eventually(
        async () => {
          const peers = await fixture.root.monkJson<PeerEntry[]>(['cluster', 'peers']);
          return peers.find((p) => p.name === record.name)?.state === 'dead' ? true : undefined;
        },
        { what: `${record.name} dead`, timeoutMs: 30_000 },
      );
      const shrunk = await fixture.root.monkJson<{ removed: string[] }>(['cluster', 'shrink']);
      expect(shrunk.removed).toEqual([grown.hosts[0]?.peerId]);
      expect(await tracesOf(record.local)).toEqual([]);
    });

    it('destroy removes the rest, its running container included', async () => {
      const destroyed = await fixture.root.monk(['cluster', 'destroy', '--force']);
      expect(destroyed.code).toBe(0);
      expect(await tracesOf(second)).toEqual([]);
      expect(await recordedHosts(fixture.root.dataDir)).toEqual([]);
    });
  },
);
