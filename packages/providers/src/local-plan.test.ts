import { describe, expect, it } from 'vitest';
import {
  allocateAddresses,
  bridgeAddress,
  chooseHostNames,
  conflictingRoutes,
  describeStep,
  localHostFacts,
  planBridge,
  planCreateHost,
  planRemoveBridge,
  planRemoveHost,
  type LocalLayout,
} from './local-plan.ts';

const layout: LocalLayout = {
  bridge: 'monk-local',
  subnet: '10.213.0.0/24',
  hostsDir: '/data/local-hosts',
  runRoot: '/run/monk-h',
  monkdCommand: ['/usr/bin/node', '/monk/apps/monkd/dist/main.js'],
  p2pPort: 44001,
  ownerPid: 4242,
  ownerDataDir: '/data',
};

describe('addresses', () => {
  it.each([
    { subnet: '10.213.0.0/24', taken: [], count: 2, expected: ['10.213.0.2', '10.213.0.3'] },
    {
      subnet: '10.213.0.0/24',
      taken: ['10.213.0.2', '10.213.0.4'],
      count: 2,
      expected: ['10.213.0.3', '10.213.0.5'],
    },
    {
      subnet: '192.168.7.0/29',
      taken: [],
      count: 5,
      expected: ['.2', '.3', '.4', '.5', '.6'].map((s) => `192.168.7${s}`),
    },
    { subnet: '10.9.1.77/16', taken: [], count: 1, expected: ['10.9.0.2'] },
  ])('allocates $count in $subnet around $taken', ({ subnet, taken, count, expected }) => {
    expect(allocateAddresses({ subnet, taken, count })).toEqual(expected);
  });

  it('says the subnet is full and how to choose another', () => {
    expect(() => allocateAddresses({ subnet: '10.0.0.0/29', taken: [], count: 6 })).toThrow(
      /has room for 5 more host\(s\), not 6; choose a larger one with --subnet/,
    );
  });

  it.each(['10.0.0.0', '10.0.0.0/8', '10.0.0.0/30', '300.1.1.1/24', 'fd00::/64'])(
    'refuses subnet %s',
    (subnet) => {
      expect(() => allocateAddresses({ subnet, taken: [], count: 1 })).toThrow(/not an IPv4 subnet/);
    },
  );

  it('gives the bridge the first address', () => {
    expect(bridgeAddress('10.213.0.0/24')).toBe('10.213.0.1');
  });
});

describe('subnet conflicts', () => {
  it.each([
    { routes: [{ dst: 'default', dev: 'eth0' }], expected: [] },
    { routes: [{ dst: '10.213.0.0/24', dev: 'monk-local' }], expected: [] },
    { routes: [{ dst: '10.213.0.0/24', dev: 'br-f3f7' }], expected: ['10.213.0.0/24'] },
    { routes: [{ dst: '10.213.0.0/16', dev: 'wg0' }], expected: ['10.213.0.0/16'] },
    { routes: [{ dst: '10.213.0.128/25', dev: 'br-1' }], expected: ['10.213.0.128/25'] },
    { routes: [{ dst: '10.213.0.7', dev: 'tun0' }], expected: ['10.213.0.7'] },
    {
      routes: [
        { dst: '10.213.1.0/24', dev: 'br-2' },
        { dst: '172.17.0.0/16', dev: 'docker0' },
      ],
      expected: [],
    },
  ])('10.213.0.0/24 next to $routes', ({ routes, expected }) => {
    expect(
      conflictingRoutes({ subnet: '10.213.0.0/24', bridge: 'monk-local', routes }).map((r) => r.dst),
    ).toEqual(expected);
  });
});

describe('host names', () => {
  it.each([
    { count: 3, name: undefined, taken: [], expected: ['local-1', 'local-2', 'local-3'] },
    { count: 2, name: undefined, taken: ['local-1', 'local-3'], expected: ['local-2', 'local-4'] },
    { count: 1, name: 'db', taken: [], expected: ['db'] },
    { count: 2, name: 'web', taken: [], expected: ['web-1', 'web-2'] },
  ])('$count host(s) named $name next to $taken', ({ count, name, taken, expected }) => {
    expect(chooseHostNames({ count, name, taken: new Set(taken) })).toEqual(expected);
  });

  it.each([
    { name: 'Web', error: /not a valid host name/ },
    { name: 'a'.repeat(40), error: /not a valid host name/ },
    { name: 'db', error: /a local host named db already exists/ },
  ])('refuses $name', ({ name, error }) => {
    expect(() => chooseHostNames({ count: 1, name, taken: new Set(['db']) })).toThrow(error);
  });
});

describe('plans', () => {
  const facts = localHostFacts({ name: 'local-1', layout });

  it('names the namespace with monk prefix and keeps interface names within 15 bytes', () => {
    expect(facts).toMatchObject({
      namespace: 'monk-h-local-1',
      dir: '/data/local-hosts/local-1',
      runDir: '/run/monk-h/local-1',
    });
    expect(facts.veth).toMatch(/^mh[0-9a-f]{10}$/);
  });

  it.each([
    {
      facts: { exists: false, addresses: [], forwardRule: false },
      expected: [
        'ip link add monk-local type bridge',
        'ip link set monk-local up',
        'ip addr add 10.213.0.1/24 dev monk-local',
        'iptables -I FORWARD -i monk-local -o monk-local -j ACCEPT',
      ],
    },
    { facts: { exists: true, addresses: ['10.213.0.1/24'], forwardRule: true }, expected: [] },
    {
      facts: { exists: true, addresses: ['10.99.0.1/24'], forwardRule: true },
      expected: ['ip addr add 10.213.0.1/24 dev monk-local'],
    },
  ])('makes only the missing parts of the bridge: $facts', ({ facts: bridge, expected }) => {
    expect(planBridge({ facts: bridge, layout }).map(describeStep)).toEqual(expected);
  });

  it('creates a host: namespace, veth on the bridge, address, route, engine via nsenter, monkd on its address', () => {
    const inner = `mp${facts.veth.slice(2)}`;
    expect(
      planCreateHost({ name: 'local-1', address: '10.213.0.2', facts, layout }).map(describeStep),
    ).toEqual([
      'mkdir -p /data/local-hosts/local-1',
      'mkdir -p /run/monk-h/local-1',
      'write /run/monk-h/local-1/host.json',
      'ip netns add monk-h-local-1',
      `ip link add ${facts.veth} type veth peer name ${inner} netns monk-h-local-1`,
      `ip link set dev ${facts.veth} master monk-local up`,
      `ip -n monk-h-local-1 link set ${inner} name eth0`,
      'ip -n monk-h-local-1 addr add 10.213.0.2/24 dev eth0',
      'ip -n monk-h-local-1 link set eth0 up',
      'ip -n monk-h-local-1 link set lo up',
      'ip -n monk-h-local-1 route add default via 10.213.0.1',
      'nsenter --net=/var/run/netns/monk-h-local-1 dockerd --data-root /data/local-hosts/local-1/docker --exec-root /run/monk-h/local-1/docker --pidfile /run/monk-h/local-1/dockerd.pid -H unix:///run/monk-h/local-1/docker.sock >>/data/local-hosts/local-1/dockerd.log &',
      'wait for /run/monk-h/local-1/docker.sock',
      'nsenter --net=/var/run/netns/monk-h-local-1 /usr/bin/node /monk/apps/monkd/dist/main.js --data-dir /data/local-hosts/local-1/monkd --api-socket /run/monk-h/local-1/monkd.sock --docker-socket /run/monk-h/local-1/docker.sock --name local-1 --p2p-host 10.213.0.2 --p2p-port 44001 --mesh --mesh-tunnels --mesh-endpoint 10.213.0.2 >>/data/local-hosts/local-1/monkd.log &',
      'wait for /run/monk-h/local-1/monkd.sock',
    ]);
  });

  it('records the owner of the host in its marker, for the sweeper', () => {
    const marker = planCreateHost({ name: 'local-1', address: '10.213.0.2', facts, layout }).find(
      (s) => s.action.kind === 'write-file',
    );
    expect(marker?.action.kind === 'write-file' && JSON.parse(marker.action.text)).toMatchObject({
      name: 'local-1',
      address: '10.213.0.2',
      namespace: 'monk-h-local-1',
      ownerPid: 4242,
      ownerDataDir: '/data',
    });
  });

  it('removes a host in an order that leaves nothing: daemons, leftovers, mounts, namespace, veth, dirs', () => {
    const steps = planRemoveHost(facts);
    expect(steps.every((s) => s.tolerant === true)).toBe(true);
    expect(steps.map(describeStep)).toEqual([
      'kill $(cat /run/monk-h/local-1/monkd.pid)',
      'kill $(cat /run/monk-h/local-1/engine.pid)',
      'kill -9 $(ip netns pids monk-h-local-1) and their children',
      'umount everything under /data/local-hosts/local-1 /run/monk-h/local-1',
      'ip netns del monk-h-local-1',
      `ip link del ${facts.veth}`,
      'rm -rf /data/local-hosts/local-1',
      'rm -rf /run/monk-h/local-1',
    ]);
  });

  it.each([
    {
      exists: true,
      members: [],
      expected: ['iptables -D FORWARD -i monk-local -o monk-local -j ACCEPT', 'ip link del monk-local'],
    },
    { exists: true, members: ['mh0123456789'], expected: [] },
    { exists: false, members: [], expected: [] },
  ])('removes the bridge only when nothing hangs on it: $members', ({ exists, members, expected }) => {
    expect(planRemoveBridge({ bridge: 'monk-local', exists, members }).map(describeStep)).toEqual(expected);
  });
});
