// Issue "real hosts" figure: time from `cluster join` returning to the new peer being reachable over the
// WireGuard mesh from every peer and back (target <= 2 s), with the built monkd, one per network namespace
// (`monkd --mesh --mesh-tunnels`; wireguard-go here), the namespaces joined by a bridge in a switch
// namespace. Needs root. Throughput through the mesh and DNS latency: packages/network/bench/mesh.bench.ts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
// The root has no dependency on workspace packages: read them from source, as `--conditions=@monk/source` does.
import { createMonkClient, createUnixSocketTransport, type PeerEntry } from '../packages/sdk/src/index.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const monkdBin = join(root, 'bin/monkd');
const peers = 4;
const tag = process.pid % 100_000;
const switchNs = `mbsw-${tag}`;
const hostNs = (i: number): string => `mbh-${tag}-${i}`;
const scratch = mkdtempSync(join(tmpdir(), 'monk-mesh-bench-'));
const children: ChildProcess[] = [];

const inNs = (ns: string, file: string, args: readonly string[]) =>
  run('nsenter', [`--net=/var/run/netns/${ns}`, file, ...args]);
const pings = (ns: string, to: string): Promise<boolean> =>
  inNs(ns, 'ping', ['-c', '1', '-W', '0.1', to]).then(
    () => true,
    () => false,
  );

async function cleanup(): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const ns of [...Array.from({ length: peers }, (_, i) => hostNs(i)), switchNs]) {
    const { stdout } = await run('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
    for (const pid of stdout.split('\n').filter((p) => p !== '')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
  rmSync(scratch, { recursive: true, force: true });
}

async function startPeer(i: number) {
  const ns = hostNs(i);
  const dataDir = join(scratch, `p${i}`);
  const socket = join(dataDir, 'monkd.sock');
  const out = openSync(join(scratch, `p${i}.log`), 'a');
  const args = [
    '--data-dir',
    dataDir,
    '--name',
    `h${i}`,
    '--p2p-host',
    `192.168.245.${i + 1}`,
    '--p2p-port',
    '0',
  ];
  const child = spawn(
    'nsenter',
    [`--net=/var/run/netns/${ns}`, monkdBin, ...args, '--mesh', '--mesh-tunnels'],
    {
      stdio: ['ignore', out, out],
    },
  );
  children.push(child);
  const deadline = Date.now() + 30_000;
  while (!existsSync(socket) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const client = createMonkClient({ transport: createUnixSocketTransport({ path: socket }) });
  for (;;) {
    try {
      await client.call('info', {});
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { ns, client };
}

if (process.getuid?.() !== 0) {
  console.log('mesh join → reachable: skipped (needs root for network namespaces)');
} else {
  try {
    await run('ip', ['netns', 'add', switchNs]);
    await inNs(switchNs, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    await inNs(switchNs, 'ip', ['link', 'set', 'br0', 'up']);
    for (let i = 0; i < peers; i += 1) {
      const ns = hostNs(i);
      await run('ip', ['netns', 'add', ns]);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await run('ip', [
        'link',
        'add',
        'eth0',
        'netns',
        ns,
        'type',
        'veth',
        'peer',
        `p${i}`,
        'netns',
        switchNs,
      ]);
      await inNs(switchNs, 'ip', ['link', 'set', `p${i}`, 'master', 'br0', 'up']);
      await run('ip', ['-n', ns, 'address', 'add', `192.168.245.${i + 1}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
    const started = [];
    for (let i = 0; i < peers; i += 1) started.push(await startPeer(i));
    const [first, ...rest] = started as [(typeof started)[number], ...typeof started];
    await first.client.call('cluster.new', { name: 'bench', meshCidr: '10.79.0.0/16' });
    const overlayOf = async (name: string): Promise<string | undefined> =>
      ((await first.client.call('cluster.peers', {})) as PeerEntry[]).find((p) => p.name === name)?.mesh
        ?.overlayAddress;
    const times: number[] = [];
    const members = [first];
    for (const [index, peer] of rest.entries()) {
      const { token } = (await first.client.call('cluster.joinToken', { ttlSeconds: 600, role: 'peer' })) as {
        token: string;
      };
      await peer.client.call('cluster.join', { token });
      const joined = performance.now();
      const deadline = Date.now() + 30_000;
      const name = `h${index + 1}`;
      for (;;) {
        const target = await overlayOf(name);
        const others = await Promise.all(members.map((_, i) => overlayOf(`h${i}`)));
        const reachable =
          target !== undefined &&
          (await Promise.all(members.map((m) => pings(m.ns, target)))).every(Boolean) &&
          (
            await Promise.all(
              others.map((address) =>
                address === undefined ? Promise.resolve(false) : pings(peer.ns, address),
              ),
            )
          ).every(Boolean);
        if (reachable) break;
        if (Date.now() > deadline) throw new Error(`h${index + 1} not reachable over the mesh within 30 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      times.push(performance.now() - joined);
      members.push(peer);
    }
    console.log(`mesh: join returned → reachable from every peer and back (wireguard-go, ${peers} peers):`);
    times.forEach((ms, i) => console.log(`  peer ${i + 2}: ${ms.toFixed(0)} ms (target <= 2000 ms)`));
  } finally {
    await cleanup();
  }
}
