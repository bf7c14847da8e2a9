import { createHash } from 'node:crypto';
import { MonkError } from '@monk/model';
import type { Command, CommandRunner } from './command-runner.ts';
import { planPeerSync, type InstalledPeer, type MeshPeer, type PeerSyncStep } from './peer-sync-plan.ts';

/**
 * Bytes WireGuard adds to each packet: outer IPv6 header (40; IPv4 is 20, the larger is assumed so one MTU
 * fits both underlays), UDP (8), WireGuard data header (16) and authentication tag (16).
 */
export const wireguardOverhead = 80;

/** The MTU of a WireGuard interface on an underlay of `underlayMtu`, such that nothing fragments. */
export function wireguardMtu(underlayMtu: number): number {
  return underlayMtu - wireguardOverhead;
}

/** The prefix of every interface name this package makes (what {@link destroyWireguardInterfaces} looks for). */
export const interfaceNamePrefix = 'mwg';

/**
 * The interface name of a peer: `mwg` and 12 hex digits of its id's hash (15 characters, the kernel's limit).
 * Unique per peer, so several peers on one host, each in its own network namespace, never share a
 * wireguard-go control socket (`/var/run/wireguard/<name>.sock` is host-wide).
 */
export function wireguardInterfaceName(peerId: string): string {
  return `${interfaceNamePrefix}${createHash('sha256').update(peerId).digest('hex').slice(0, 12)}`;
}

export interface WireguardInterfaceOptions {
  /** At most 15 characters of `[A-Za-z0-9_.-]`, unique on the host across network namespaces. */
  readonly name: string;
  /**
   * The network namespace to work in: a name under /var/run/netns or an absolute path
   * (`/proc/<pid>/ns/net`). Omitted: the caller's own namespace.
   */
  readonly netns?: string | undefined;
  /** The file holding the private key (see `loadOrCreateWireguardKey`); only its path is passed to `wg`. */
  readonly privateKeyFile: string;
  /** UDP port WireGuard listens on, on every underlay address of the namespace. */
  readonly listenPort: number;
  /** This peer's overlay address (from the address plan); set as a /32 and used as the source of its routes. */
  readonly overlayAddress: string;
  /** The interface MTU; {@link wireguardMtu} of the underlay MTU (default 1420 for a 1500 underlay). */
  readonly mtu?: number | undefined;
  /** `kernel` needs the WireGuard module; `userspace` runs wireguard-go; `auto` tries the kernel first. */
  readonly implementation?: 'auto' | 'kernel' | 'userspace' | undefined;
}

/** A peer as `wg` reports it, with its traffic. */
export interface WireguardPeerStatus extends InstalledPeer {
  /** Unix seconds of the last handshake, 0 when none yet. */
  readonly latestHandshake: number;
  readonly receivedBytes: number;
  readonly sentBytes: number;
}

/**
 * One WireGuard interface of this host, driven through `ip` and `wg` (and `wireguard-go` when the kernel
 * has no WireGuard): every method is idempotent and safe to call again after a crash.
 */
export interface WireguardInterface {
  readonly name: string;
  /** Creates the interface if missing, then sets key, listen port, overlay address and MTU, and brings it up. */
  up(): Promise<void>;
  /**
   * Makes the interface's peers and routes exactly `desired`: adds and updates peers (allowed IPs = the
   * peer's subnet and overlay address, endpoint, keepalive), removes the others, and keeps one route per
   * allowed IP through the interface. Returns the steps it applied (none when nothing differed).
   *
   * @throws MonkError `NETWORK_ERROR` when a command fails (the interface is then partly synced; call again).
   */
  syncPeers(desired: readonly MeshPeer[]): Promise<PeerSyncStep[]>;
  /** The peers the interface has now. */
  listPeers(): Promise<WireguardPeerStatus[]>;
  /** The routes through the interface now (destinations, `a.b.c.d/n`). */
  listRoutes(): Promise<string[]>;
  /** Whether the interface exists. */
  exists(): Promise<boolean>;
  /** Removes the interface, its peers and routes (wireguard-go exits with it). No-op when it does not exist. */
  destroy(): Promise<void>;
}

const namePattern = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * Manages a WireGuard interface. Nothing happens until a method is called.
 *
 * @throws MonkError `INVALID_REQUEST` for an interface name the kernel would refuse.
 * @example
 * const wg = createWireguardInterface(
 *   { name: 'mwg0a1b2c3d4e5f', netns: 'host-b', privateKeyFile: key.privateKeyFile, listenPort: 51820, overlayAddress: '10.240.0.17' },
 *   { runner: createExecFileRunner() },
 * );
 * await wg.up();
 * await wg.syncPeers([{ publicKey, endpoint: '192.168.50.3:51820', subnet: '10.240.18.0/24', overlayAddress: '10.240.0.18' }]);
 */
export function createWireguardInterface(
  options: WireguardInterfaceOptions,
  components: { runner: CommandRunner },
): WireguardInterface {
  const { name } = options;
  if (!namePattern.test(name)) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${JSON.stringify(name)} is not an interface name: 1 to 15 letters, digits, '_', '.' or '-'`,
    );
  }
  const runner = inNamespace(components.runner, options.netns);
  const ip = (...args: string[]): Promise<string> => runner.run({ file: 'ip', args });
  const wg = (...args: string[]): Promise<string> => runner.run({ file: 'wg', args });

  async function exists(): Promise<boolean> {
    return (await listLinks(runner)).includes(name);
  }

  async function create(): Promise<void> {
    const implementation = options.implementation ?? 'auto';
    if (implementation !== 'userspace') {
      try {
        await ip('link', 'add', 'dev', name, 'type', 'wireguard');
        return;
      } catch (error) {
        if (implementation === 'kernel') throw error;
      }
    }
    // wireguard-go daemonizes; with LOG_LEVEL set its daemon would keep our stdout pipe open forever.
    await runner.run({ file: 'env', args: ['-u', 'LOG_LEVEL', 'wireguard-go', name] });
  }

  async function listRoutes(): Promise<string[]> {
    const out = await ip('-o', '-4', 'route', 'show', 'dev', name);
    return out
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter((d) => d !== '')
      .map((d) => (d.includes('/') ? d : `${d}/32`));
  }

  async function listPeers(): Promise<WireguardPeerStatus[]> {
    // Separate `wg show` fields, not `dump`: dump prints the private key, which must not reach this process.
    const [allowed, endpoints, keepalives, handshakes, transfer] = await Promise.all(
      ['allowed-ips', 'endpoints', 'persistent-keepalive', 'latest-handshakes', 'transfer'].map((field) =>
        wg('show', name, field),
      ),
    );
    const table = (text: string | undefined): Map<string, string[]> =>
      new Map(
        (text ?? '')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => {
            const [key, ...rest] = l.trim().split(/\s+/);
            return [key ?? '', rest];
          }),
      );
    const ips = table(allowed);
    const ends = table(endpoints);
    const keeps = table(keepalives);
    const shakes = table(handshakes);
    const bytes = table(transfer);
    return [...ips.keys()].map((publicKey) => {
      const endpoint = ends.get(publicKey)?.[0];
      const keep = keeps.get(publicKey)?.[0];
      const [rx, tx] = bytes.get(publicKey) ?? [];
      return {
        publicKey,
        endpoint: endpoint === undefined || endpoint === '(none)' ? undefined : endpoint,
        allowedIps: (ips.get(publicKey) ?? []).filter((a) => a !== '(none)'),
        keepaliveSeconds: keep === undefined || keep === 'off' ? 0 : Number(keep),
        latestHandshake: Number(shakes.get(publicKey)?.[0] ?? 0),
        receivedBytes: Number(rx ?? 0),
        sentBytes: Number(tx ?? 0),
      };
    });
  }

  async function apply(step: PeerSyncStep): Promise<void> {
    switch (step.kind) {
      case 'remove-peer':
        await wg('set', name, 'peer', step.publicKey, 'remove');
        return;
      case 'delete-route':
        await ip('route', 'del', step.destination, 'dev', name);
        return;
      case 'set-peer':
        await wg(
          'set',
          name,
          'peer',
          step.publicKey,
          ...(step.endpoint === undefined ? [] : ['endpoint', step.endpoint]),
          'allowed-ips',
          step.allowedIps.join(','),
          'persistent-keepalive',
          step.keepaliveSeconds === 0 ? 'off' : String(step.keepaliveSeconds),
        );
        return;
      case 'add-route':
        await ip('route', 'replace', step.destination, 'dev', name, 'src', options.overlayAddress);
        return;
    }
  }

  return {
    name,
    exists,
    async up() {
      if (!(await exists())) await create();
      await wg('set', name, 'private-key', options.privateKeyFile, 'listen-port', String(options.listenPort));
      await ip('address', 'replace', `${options.overlayAddress}/32`, 'dev', name);
      await ip('link', 'set', 'dev', name, 'mtu', String(options.mtu ?? wireguardMtu(1500)), 'up');
    },
    async syncPeers(desired) {
      const [peers, routes] = await Promise.all([listPeers(), listRoutes()]);
      const steps = planPeerSync({ peers, routes }, desired);
      for (const step of steps) await apply(step);
      return steps;
    },
    listPeers,
    listRoutes,
    async destroy() {
      if (await exists()) await ip('link', 'del', 'dev', name);
    },
  };
}

/**
 * Removes every interface whose name starts with `prefix` (default `mwg`) in a namespace: what a crashed
 * monkd or test left behind. Returns the names it removed.
 *
 * @example
 * await destroyWireguardInterfaces({ netns: 'host-b' }, { runner: createExecFileRunner() });
 */
export async function destroyWireguardInterfaces(
  options: { prefix?: string; netns?: string | undefined },
  components: { runner: CommandRunner },
): Promise<string[]> {
  const runner = inNamespace(components.runner, options.netns);
  const prefix = options.prefix ?? interfaceNamePrefix;
  const names = (await listLinks(runner)).filter((n) => n.startsWith(prefix));
  for (const link of names) await runner.run({ file: 'ip', args: ['link', 'del', 'dev', link] });
  return names;
}

/**
 * The MTU of the interface that holds `address` (this host's underlay address, its WireGuard endpoint
 * host), or undefined when no interface holds it. What {@link wireguardMtu} should be given: an underlay
 * of 1400 (some clouds) needs a WireGuard MTU of 1320, not 1420, or packets fragment.
 *
 * @example
 * const mtu = wireguardMtu((await findUnderlayMtu({ address: '192.168.50.2' }, { runner })) ?? 1500);
 */
export async function findUnderlayMtu(
  options: { address: string; netns?: string | undefined },
  components: { runner: CommandRunner },
): Promise<number | undefined> {
  const runner = inNamespace(components.runner, options.netns);
  const addresses = await runner.run({ file: 'ip', args: ['-o', 'address', 'show'] });
  const device = addresses
    .split('\n')
    .map((line) => /^\d+:\s+([^\s@]+)(?:@\S+)?\s+inet6?\s+([^/\s]+)/.exec(line))
    .find((match) => match?.[2] === options.address)?.[1];
  if (device === undefined) return undefined;
  const link = await runner.run({ file: 'ip', args: ['-o', 'link', 'show', 'dev', device] });
  const mtu = /\bmtu (\d+)/.exec(link)?.[1];
  return mtu === undefined ? undefined : Number(mtu);
}

async function listLinks(runner: CommandRunner): Promise<string[]> {
  const out = await runner.run({ file: 'ip', args: ['-o', 'link', 'show'] });
  return out
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** Runs every command inside a network namespace through `nsenter --net=…` (what wireguard-go needs). */
function inNamespace(runner: CommandRunner, netns: string | undefined): CommandRunner {
  if (netns === undefined) return runner;
  const path = netns.startsWith('/') ? netns : `/var/run/netns/${netns}`;
  return {
    run: (command: Command) =>
      runner.run({ file: 'nsenter', args: [`--net=${path}`, command.file, ...command.args] }),
  };
}
