import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  createExecFileRunner,
  createWireguardInterface,
  loadOrCreateWireguardKey,
  wireguardInterfaceName,
  type MeshPeer,
  type WireguardInterface,
} from '@monk/network';

const run = promisify(execFile);

/** One end of the pair: a network namespace with a veth into the other and a WireGuard interface. */
export interface TestHost {
  readonly netns: string;
  readonly nsPath: string;
  readonly veth: string;
  readonly underlayAddress: string;
  readonly wireguard: WireguardInterface;
  /** This host as a mesh peer of the other. */
  readonly peer: MeshPeer;
  /** An address inside this host's container subnet (on its loopback), to reach through the tunnel. */
  readonly subnetAddress: string;
  /** Runs a program inside the namespace. */
  exec(file: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  /** Starts a long-running program inside the namespace; it is killed on dispose. */
  spawn(file: string, args: readonly string[]): ChildProcess;
}

export interface NamespacePair extends AsyncDisposable {
  readonly a: TestHost;
  readonly b: TestHost;
}

/**
 * Two network namespaces joined by a veth pair (192.168.243.1 and .2, MTU 1500), each with a real WireGuard
 * interface up (wireguard-go here) and the other as its only peer. Needs root. Everything — processes
 * started in the namespaces, interfaces, namespaces, key files — goes on dispose, also when setup failed
 * half-way.
 */
export async function createNamespacePair(label: string): Promise<NamespacePair> {
  const tag = `${label}${process.pid % 100_000}`;
  const dir = await mkdtemp(join(tmpdir(), 'monk-mesh-'));
  const runner = createExecFileRunner();
  const children: ChildProcess[] = [];
  const names = { a: `mn-${tag}-a`, b: `mn-${tag}-b` };
  const veths = { a: `mva${tag}`.slice(0, 15), b: `mvb${tag}`.slice(0, 15) };
  const created: TestHost[] = [];

  const dispose = async (): Promise<void> => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    for (const host of created) await host.wireguard.destroy().catch(() => undefined);
    for (const netns of Object.values(names)) {
      // Whatever still runs in the namespace was started by this fixture (wireguard-go, a server).
      const pids = await run('ip', ['netns', 'pids', netns]).catch(() => ({ stdout: '' }));
      for (const pid of pids.stdout.split('\n').filter((p) => p !== '')) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await run('ip', ['netns', 'del', netns]).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (const netns of Object.values(names)) {
      await run('ip', ['netns', 'del', netns]).catch(() => undefined);
      await run('ip', ['netns', 'add', netns]);
      await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
      // IPv4 only: no link-local chatter on the underlay for a packet capture to explain away.
      await run('nsenter', [
        `--net=/var/run/netns/${netns}`,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
      ]);
      await run('nsenter', [
        `--net=/var/run/netns/${netns}`,
        'sysctl',
        '-qw',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
    }
    await run('ip', [
      'link',
      'add',
      veths.a,
      'netns',
      names.a,
      'type',
      'veth',
      'peer',
      veths.b,
      'netns',
      names.b,
    ]);
    const sides = [
      { key: 'a', netns: names.a, veth: veths.a, underlay: '192.168.243.1', slot: 16 },
      { key: 'b', netns: names.b, veth: veths.b, underlay: '192.168.243.2', slot: 17 },
    ] as const;
    for (const side of sides) {
      await run('ip', ['-n', side.netns, 'address', 'add', `${side.underlay}/24`, 'dev', side.veth]);
      await run('ip', ['-n', side.netns, 'link', 'set', side.veth, 'mtu', '1500', 'up']);
      const key = await loadOrCreateWireguardKey({ file: join(dir, `${side.key}.key`) });
      const overlayAddress = `10.240.0.${side.slot}`;
      const subnetAddress = `10.240.${side.slot}.1`;
      await run('ip', ['-n', side.netns, 'address', 'add', `${subnetAddress}/32`, 'dev', 'lo']);
      const wireguard = createWireguardInterface(
        {
          name: wireguardInterfaceName(`${tag}-${side.key}`),
          netns: side.netns,
          privateKeyFile: key.privateKeyFile,
          listenPort: 51820,
          overlayAddress,
        },
        { runner },
      );
      const nsPath = `/var/run/netns/${side.netns}`;
      const host: TestHost = {
        netns: side.netns,
        nsPath,
        veth: side.veth,
        underlayAddress: side.underlay,
        wireguard,
        subnetAddress,
        peer: {
          publicKey: key.publicKey,
          endpoint: `${side.underlay}:51820`,
          subnet: `10.240.${side.slot}.0/24`,
          overlayAddress,
        },
        exec: (file, args) => run('nsenter', [`--net=${nsPath}`, file, ...args]),
        spawn: (file, args) => {
          const child = spawn('nsenter', [`--net=${nsPath}`, file, ...args], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          children.push(child);
          return child;
        },
      };
      created.push(host);
      await wireguard.up();
    }
    const [a, b] = created as [TestHost, TestHost];
    await a.wireguard.syncPeers([b.peer]);
    await b.wireguard.syncPeers([a.peer]);
    return { a, b, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Polls `check` until it resolves true or the deadline passes; returns the last answer. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
