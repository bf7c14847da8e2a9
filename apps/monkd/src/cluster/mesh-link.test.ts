import { describe, expect, it } from 'vitest';
import type { PeerRecord } from '@monk/model';
import { wireguardInterfaceName, type Command, type CommandRunner } from '@monk/network';
import { createLogger } from '../logger.ts';
import { createMeshLink } from './mesh-link.ts';

/** `ip` and `wg` of one host, in memory (no kernel module: wireguard-go makes the interface). */
function createFakeHost(initialLinks: readonly string[] = []) {
  const commands: string[] = [];
  const links = new Set(['lo', 'eth0', ...initialLinks]);
  const peers = new Map<string, { endpoint: string; allowed: string }>();
  const routes = new Set<string>();
  const runner: CommandRunner = {
    async run({ file, args }: Command) {
      const line = [file, ...args].join(' ');
      commands.push(line);
      if (line === 'ip -o link show') return [...links].map((l, i) => `${i + 1}: ${l}: <UP>`).join('\n');
      if (line === 'ip -o address show') return '2: eth0    inet 192.168.50.16/24 scope global eth0\\';
      if (line === 'ip -o link show dev eth0') return '2: eth0: <UP> mtu 1400 qdisc noqueue';
      if (line.includes('type wireguard')) throw new Error('Error: Unknown device type.');
      if (args.includes('wireguard-go')) links.add(args.at(-1) ?? '');
      else if (file === 'ip' && args[0] === 'link' && args[1] === 'del') {
        links.delete(args[3] ?? '');
        peers.clear();
        routes.clear();
      } else if (file === 'ip' && args[0] === '-o' && args[2] === 'route')
        return [...routes].map((r) => `${r} scope link\n`).join('');
      else if (file === 'ip' && args[0] === 'route' && args[1] === 'replace') routes.add(args[2] ?? '');
      else if (file === 'ip' && args[0] === 'route' && args[1] === 'del') routes.delete(args[2] ?? '');
      else if (file === 'wg' && args[0] === 'show') {
        const field = args[2];
        return [...peers]
          .map(([key, p]) =>
            field === 'allowed-ips'
              ? `${key}\t${p.allowed.replace(',', ' ')}`
              : field === 'endpoints'
                ? `${key}\t${p.endpoint}`
                : field === 'persistent-keepalive'
                  ? `${key}\t25`
                  : `${key}\t0\t0`,
          )
          .join('\n');
      } else if (file === 'wg' && args[2] === 'peer' && args[4] === 'remove') peers.delete(args[3] ?? '');
      else if (file === 'wg' && args[2] === 'peer')
        peers.set(args[3] ?? '', { endpoint: args[5] ?? '', allowed: args[7] ?? '' });
      return '';
    },
  };
  return { runner, commands, links, peers, routes };
}

const record = (id: string, slot: number | undefined): PeerRecord => ({
  id,
  name: id,
  role: 'peer',
  tags: [],
  addresses: [],
  joinedAt: '2026-12-02T10:00:00.000Z',
  ...(slot === undefined
    ? {}
    : {
        wireguard: {
          publicKey: `${id}-key`,
          endpoint: `192.168.50.${slot}:51820`,
          overlayAddress: `10.240.0.${slot}`,
          subnet: `10.240.${slot}.0/24`,
        },
      }),
});

const logger = createLogger({ level: 'error', write: () => undefined });

describe('createMeshLink', () => {
  it('follows the peer records: up with our overlay address, a tunnel per peer, gone when a peer or we go', async () => {
    const host = createFakeHost();
    let records = [record('a', 16), record('b', 17), record('c', 18)];
    const link = createMeshLink(
      { peerId: 'a', dataDir: '/var/lib/monk', listenPort: 51820 },
      { listPeers: () => records, runner: host.runner, logger },
    );
    const name = wireguardInterfaceName('a');
    link.update();
    await link.settled();
    expect(host.commands).toContain(`env -u LOG_LEVEL wireguard-go ${name}`);
    expect(host.commands).toContain(
      `wg set ${name} private-key /var/lib/monk/wireguard.key listen-port 51820`,
    );
    expect(host.commands).toContain(`ip address replace 10.240.0.16/32 dev ${name}`);
    // Our endpoint's interface has an MTU of 1400: the tunnel gets 1400 - 80.
    expect(host.commands).toContain(`ip link set dev ${name} mtu 1320 up`);
    expect([...host.peers.keys()].sort()).toEqual(['b-key', 'c-key']);
    expect([...host.routes].sort()).toEqual([
      '10.240.0.17/32',
      '10.240.0.18/32',
      '10.240.17.0/24',
      '10.240.18.0/24',
    ]);

    // c is removed from the cluster: its record goes, and with it its tunnel and routes.
    records = records.filter((r) => r.id !== 'c');
    link.update();
    await link.settled();
    expect([...host.peers.keys()]).toEqual(['b-key']);
    expect([...host.routes].sort()).toEqual(['10.240.0.17/32', '10.240.17.0/24']);

    // We are removed: our record goes, and so does the interface.
    records = records.filter((r) => r.id !== 'a');
    link.update();
    await link.settled();
    expect(host.links.has(name)).toBe(false);
  });

  it('removes an interface a crashed run left when this peer is no longer in the mesh', async () => {
    const name = wireguardInterfaceName('a');
    const host = createFakeHost([name]);
    const link = createMeshLink(
      { peerId: 'a', dataDir: '/d', listenPort: 51820 },
      { listPeers: () => [record('a', undefined)], runner: host.runner, logger },
    );
    link.update();
    await link.settled();
    expect(host.commands).toContain(`ip link del dev ${name}`);
    expect(host.links.has(name)).toBe(false);
  });

  it('collapses a burst of changes into one pass after the running one', async () => {
    const host = createFakeHost();
    const link = createMeshLink(
      { peerId: 'a', dataDir: '/d', listenPort: 51820 },
      { listPeers: () => [record('a', 16), record('b', 17)], runner: host.runner, logger },
    );
    for (let i = 0; i < 10; i += 1) link.update();
    await link.settled();
    expect(host.commands.filter((c) => c.startsWith('wg show') && c.endsWith('allowed-ips'))).toHaveLength(1);
  });

  it('allows forwarding between the interface and the bridge, and removes it with the interface', async () => {
    const name = wireguardInterfaceName('a');
    const host = createFakeHost();
    let records = [record('a', 16), record('b', 17)];
    const link = createMeshLink(
      { peerId: 'a', dataDir: '/d', listenPort: 51820, bridge: 'monk-mesh' },
      { listPeers: () => records, runner: host.runner, logger },
    );
    link.update();
    await link.settled();
    expect(host.commands).toContain(`iptables -w -t filter -A MONK-MESH -i ${name} -o monk-mesh -j ACCEPT`);
    expect(host.commands).toContain(`iptables -w -t filter -A MONK-MESH -i monk-mesh -o ${name} -j ACCEPT`);
    expect(host.commands).toContain(`iptables -w -t nat -A MONK-MESH -o ${name} -j ACCEPT`);
    records = [record('a', undefined), record('b', 17)];
    link.update();
    await link.settled();
    expect(host.commands).toContain('iptables -w -t filter -D FORWARD -j MONK-MESH');
    expect(host.commands).toContain('iptables -w -t nat -D POSTROUTING -j MONK-MESH');
    expect(host.commands).toContain('iptables -w -t filter -X MONK-MESH');
    expect(host.commands).toContain('iptables -w -t nat -X MONK-MESH');
  });
});
