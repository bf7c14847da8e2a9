import { describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import type { Command, CommandRunner } from './command-runner.ts';
import { planPeerSync, describePeerSyncStep, type MeshPeer } from './peer-sync-plan.ts';
import {
  createWireguardInterface,
  destroyWireguardInterfaces,
  findUnderlayMtu,
  wireguardInterfaceName,
  wireguardMtu,
} from './wireguard-interface.ts';

/**
 * A host's `ip` and `wg` as far as this package uses them: links, peers and routes in memory. Records every
 * command; `kernel: false` makes `ip link add … type wireguard` fail like a kernel without the module.
 */
function createFakeHost(options: { kernel: boolean }) {
  const commands: string[] = [];
  const links = new Set(['lo', 'eth0']);
  const peers = new Map<string, { endpoint?: string; allowed: string[]; keepalive: string }>();
  const routes = new Set<string>();
  const fail = (message: string): never => {
    throw new MonkError('NETWORK_ERROR', message);
  };
  const runner: CommandRunner = {
    async run(command: Command) {
      commands.push([command.file, ...command.args].join(' '));
      let { file, args } = command;
      if (file === 'nsenter') [file = '', ...args] = args.slice(1);
      if (file === 'env') [file = '', ...args] = args.slice(2);
      const line = args.join(' ');
      if (file === 'ip' && line === '-o link show')
        return [...links].map((l, i) => `${i + 1}: ${l}: <UP> mtu 1500`).join('\n');
      if (file === 'ip' && line.endsWith('type wireguard')) {
        if (!options.kernel) fail('Error: Unknown device type.');
        links.add(args[3] ?? '');
        return '';
      }
      if (file === 'wireguard-go') {
        links.add(args[0] ?? '');
        return '';
      }
      if (file === 'ip' && args[0] === 'link' && args[1] === 'del') {
        links.delete(args[3] ?? '');
        peers.clear();
        routes.clear();
        return '';
      }
      if (file === 'ip' && (args[0] === 'address' || (args[0] === 'link' && args[1] === 'set'))) return '';
      if (file === 'ip' && line.startsWith('-o -4 route show'))
        return [...routes].map((r) => `${r.replace('/32', '')} scope link src 10.240.0.16 \n`).join('');
      if (file === 'ip' && args[1] === 'replace') {
        routes.add(args[2] ?? '');
        return '';
      }
      if (file === 'ip' && args[1] === 'del') {
        routes.delete(args[2] ?? '');
        return '';
      }
      if (file === 'wg' && args[0] === 'show') {
        const field = args[2];
        return [...peers]
          .map(([key, p]) => {
            if (field === 'allowed-ips') return `${key}\t${p.allowed.join(' ')}`;
            if (field === 'endpoints') return `${key}\t${p.endpoint ?? '(none)'}`;
            if (field === 'persistent-keepalive') return `${key}\t${p.keepalive}`;
            if (field === 'latest-handshakes') return `${key}\t0`;
            return `${key}\t0\t0`;
          })
          .join('\n');
      }
      if (file === 'wg' && args[0] === 'set' && args[2] === 'peer') {
        const key = args[3] ?? '';
        if (args[4] === 'remove') {
          peers.delete(key);
          return '';
        }
        const value = (flag: string): string | undefined => {
          const i = args.indexOf(flag);
          return i < 0 ? undefined : args[i + 1];
        };
        const endpoint = value('endpoint') ?? peers.get(key)?.endpoint;
        peers.set(key, {
          ...(endpoint === undefined ? {} : { endpoint }),
          allowed: (value('allowed-ips') ?? '').split(','),
          keepalive: value('persistent-keepalive') ?? 'off',
        });
        return '';
      }
      if (file === 'wg' && args[0] === 'set') return '';
      return fail(`unexpected command ${file} ${line}`);
    },
  };
  return { runner, commands, links, routes };
}

const peerB: MeshPeer = {
  publicKey: 'BBBB',
  endpoint: '192.168.50.3:51820',
  subnet: '10.240.17.0/24',
  overlayAddress: '10.240.0.17',
};
const peerC: MeshPeer = {
  publicKey: 'CCCC',
  endpoint: '192.168.50.4:51820',
  subnet: '10.240.18.0/24',
  overlayAddress: '10.240.0.18',
};
const options = {
  name: 'mwgtest0',
  privateKeyFile: '/var/lib/monk/wireguard.key',
  listenPort: 51820,
  overlayAddress: '10.240.0.16',
};

describe('createWireguardInterface', () => {
  it('falls back to wireguard-go inside the namespace when the kernel has no WireGuard', async () => {
    const host = createFakeHost({ kernel: false });
    const wg = createWireguardInterface({ ...options, netns: 'host-a', mtu: 1380 }, { runner: host.runner });
    await wg.up();
    expect(host.commands).toEqual([
      'nsenter --net=/var/run/netns/host-a ip -o link show',
      'nsenter --net=/var/run/netns/host-a ip link add dev mwgtest0 type wireguard',
      'nsenter --net=/var/run/netns/host-a env -u LOG_LEVEL wireguard-go mwgtest0',
      'nsenter --net=/var/run/netns/host-a wg set mwgtest0 private-key /var/lib/monk/wireguard.key listen-port 51820',
      'nsenter --net=/var/run/netns/host-a ip address replace 10.240.0.16/32 dev mwgtest0',
      'nsenter --net=/var/run/netns/host-a ip link set dev mwgtest0 mtu 1380 up',
    ]);
  });

  it('uses the kernel module when there is one, and does not create an interface twice', async () => {
    const host = createFakeHost({ kernel: true });
    const wg = createWireguardInterface(options, { runner: host.runner });
    await wg.up();
    await wg.up();
    expect(host.commands.filter((c) => c.includes('link add') || c.includes('wireguard-go'))).toEqual([
      'ip link add dev mwgtest0 type wireguard',
    ]);
    expect(host.commands).toContain('ip link set dev mwgtest0 mtu 1420 up');
  });

  it('never puts anything but the key file path on a command line', async () => {
    const host = createFakeHost({ kernel: false });
    const wg = createWireguardInterface(options, { runner: host.runner });
    await wg.up();
    await wg.syncPeers([peerB]);
    expect(host.commands.filter((c) => c.includes('private-key'))).toEqual([
      'wg set mwgtest0 private-key /var/lib/monk/wireguard.key listen-port 51820',
    ]);
    expect(host.commands.some((c) => c.includes(' dump'))).toBe(false);
  });

  it('syncPeers adds peers and routes, is idempotent, and removes a peer with its routes', async () => {
    const host = createFakeHost({ kernel: false });
    const wg = createWireguardInterface(options, { runner: host.runner });
    await wg.up();
    host.commands.length = 0;
    const added = await wg.syncPeers([peerB, peerC]);
    expect(added.map(describePeerSyncStep)).toEqual([
      'set peer BBBB endpoint 192.168.50.3:51820 allowed-ips 10.240.17.0/24,10.240.0.17/32 keepalive 25s',
      'set peer CCCC endpoint 192.168.50.4:51820 allowed-ips 10.240.18.0/24,10.240.0.18/32 keepalive 25s',
      'add route 10.240.0.17/32',
      'add route 10.240.0.18/32',
      'add route 10.240.17.0/24',
      'add route 10.240.18.0/24',
    ]);
    expect(host.commands).toContain(
      'wg set mwgtest0 peer BBBB endpoint 192.168.50.3:51820 allowed-ips 10.240.17.0/24,10.240.0.17/32 persistent-keepalive 25',
    );
    expect(host.commands).toContain('ip route replace 10.240.17.0/24 dev mwgtest0 src 10.240.0.16');

    expect(await wg.syncPeers([peerB, peerC])).toEqual([]);

    const removed = await wg.syncPeers([peerB]);
    expect(removed.map(describePeerSyncStep)).toEqual([
      'remove peer CCCC',
      'delete route 10.240.0.18/32',
      'delete route 10.240.18.0/24',
    ]);
    expect((await wg.listPeers()).map((p) => p.publicKey)).toEqual(['BBBB']);
    expect(await wg.listRoutes()).toEqual(['10.240.0.17/32', '10.240.17.0/24']);
  });

  it('destroy removes the interface and is a no-op when it is gone', async () => {
    const host = createFakeHost({ kernel: false });
    const wg = createWireguardInterface(options, { runner: host.runner });
    await wg.up();
    await wg.destroy();
    await wg.destroy();
    expect(host.commands.filter((c) => c.includes('link del'))).toEqual(['ip link del dev mwgtest0']);
    expect(await wg.exists()).toBe(false);
  });

  it('refuses names the kernel would refuse', () => {
    const host = createFakeHost({ kernel: false });
    for (const name of ['', 'a-name-longer-than-15', 'has space', 'a/b']) {
      expect(() => createWireguardInterface({ ...options, name }, { runner: host.runner })).toThrow(
        expect.objectContaining({ code: 'INVALID_REQUEST' }),
      );
    }
  });
});

describe('destroyWireguardInterfaces', () => {
  it('removes what a crashed run left, by name prefix, and nothing else', async () => {
    const host = createFakeHost({ kernel: false });
    host.links.add('mwgaaaa');
    host.links.add('mwgbbbb');
    host.links.add('veth0');
    const removed = await destroyWireguardInterfaces({ netns: '/proc/42/ns/net' }, { runner: host.runner });
    expect(removed).toEqual(['mwgaaaa', 'mwgbbbb']);
    expect([...host.links]).toEqual(['lo', 'eth0', 'veth0']);
    expect(host.commands[0]).toBe('nsenter --net=/proc/42/ns/net ip -o link show');
  });
});

describe('planPeerSync', () => {
  const installedB = {
    publicKey: 'BBBB',
    endpoint: '192.168.50.3:51820',
    allowedIps: ['10.240.17.0/24', '10.240.0.17/32'],
    keepaliveSeconds: 25,
  };

  it.each([
    ['a new endpoint', { ...peerB, endpoint: '192.168.60.3:51820' }],
    ['a moved subnet', { ...peerB, subnet: '10.240.99.0/24' }],
    ['another keepalive', { ...peerB, keepaliveSeconds: 0 }],
  ])('updates a peer for %s', (_, desired) => {
    const steps = planPeerSync({ peers: [installedB], routes: ['10.240.17.0/24', '10.240.0.17'] }, [desired]);
    expect(steps.filter((s) => s.kind === 'set-peer')).toHaveLength(1);
  });

  it('leaves a peer alone when its endpoint is unknown (it roams; WireGuard learned the current one)', () => {
    const steps = planPeerSync({ peers: [installedB], routes: ['10.240.17.0/24', '10.240.0.17'] }, [
      { ...peerB, endpoint: undefined },
    ]);
    expect(steps).toEqual([]);
  });

  it('removes stray routes through the interface even with no peers', () => {
    expect(planPeerSync({ peers: [], routes: ['10.240.99.0/24'] }, [])).toEqual([
      { kind: 'delete-route', destination: '10.240.99.0/24' },
    ]);
  });
});

describe('findUnderlayMtu', () => {
  const runner = (outputs: Record<string, string>): CommandRunner => ({
    run: async ({ file, args }) => outputs[[file, ...args].join(' ')] ?? '',
  });
  const addresses = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever',
    '7: mvb1@if6    inet 192.168.243.2/24 scope global mvb1\\       valid_lft forever',
  ].join('\n');

  it('reads the MTU of the interface holding the address (1400 here: the mesh then gets 1320)', async () => {
    const host = runner({
      'ip -o address show': addresses,
      'ip -o link show dev eth0': '4: eth0: <BROADCAST,UP> mtu 1400 qdisc pfifo_fast state UP',
      'ip -o link show dev mvb1': '7: mvb1@if6: <BROADCAST,UP> mtu 1500 qdisc noqueue state UP',
    });
    expect(await findUnderlayMtu({ address: '192.0.2.2' }, { runner: host })).toBe(1400);
    expect(await findUnderlayMtu({ address: '192.168.243.2' }, { runner: host })).toBe(1500);
    expect(await findUnderlayMtu({ address: '10.9.9.9' }, { runner: host })).toBeUndefined();
  });
});

describe('names and sizes', () => {
  it('gives each peer a 15-character interface name of its own', () => {
    const a = wireguardInterfaceName('12D3KooWA');
    expect(a).toMatch(/^mwg[0-9a-f]{12}$/);
    expect(a).toHaveLength(15);
    expect(wireguardInterfaceName('12D3KooWB')).not.toBe(a);
  });

  it('leaves room for the WireGuard headers on an IPv6 underlay', () => {
    expect(wireguardMtu(1500)).toBe(1420);
    expect(wireguardMtu(1400)).toBe(1320);
  });
});
