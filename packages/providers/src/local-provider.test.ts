import { describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import type { HostSystem } from './host-system.ts';
import { createLocalProvider, sweepLocalHosts } from './local-provider.ts';

/**
 * A machine that records what it is asked to do: commands that touch the network are logged and succeed
 * (or fail where `fail` says), files live in a map, and no process ever runs.
 */
function fakeSystem(
  options: {
    privileged?: boolean;
    fail?: (argv: readonly string[]) => boolean;
    alive?: number[];
    routes?: Array<{ dst: string; dev: string }>;
  } = {},
) {
  const log: string[] = [];
  const files = new Map<string, string>();
  const system: HostSystem = {
    isPrivileged: () => options.privileged ?? true,
    async run(argv) {
      log.push(argv.join(' '));
      if (options.fail?.(argv) === true) throw new MonkError('PROVIDER_ERROR', `${argv.join(' ')}: refused`);
      if (argv.join(' ') === 'ip netns list') return '';
      if (argv.join(' ') === 'ip -j -4 route show') return JSON.stringify(options.routes ?? []);
      if (argv[0] === 'ip' && argv[1] === '-j')
        throw new MonkError('PROVIDER_ERROR', 'Device does not exist');
      if (argv[0] === 'iptables' && argv[1] === '-C') throw new MonkError('PROVIDER_ERROR', 'no such rule');
      return '';
    },
    async start(argv) {
      log.push(`start ${argv.slice(0, 3).join(' ')}`);
      return 1000 + log.length;
    },
    async waitForSocket(path) {
      log.push(`wait ${path}`);
    },
    commandLine: async (pid) => ((options.alive ?? []).includes(pid) ? 'monkd' : undefined),
    environment: async () => undefined,
    processes: async () => [],
    signal: (pid, signal) => void log.push(`kill -${signal} ${String(pid)}`),
    mountPoints: async () => [],
    readText: async (path) => files.get(path),
    writeText: async (path, text) => void files.set(path, text),
    createExclusive: async (path, text) => {
      if (files.has(path)) return false;
      files.set(path, text);
      return true;
    },
    removeFile: async (path) => void files.delete(path),
    makeDir: async (path) => void log.push(`mkdir ${path}`),
    removeDir: async (path) => {
      log.push(`rm ${path}`);
      for (const key of [...files.keys()]) if (key.startsWith(`${path}/`)) files.delete(key);
    },
    listDir: async (path) => [
      ...new Set(
        [...files.keys()]
          .filter((k) => k.startsWith(`${path}/`))
          .map((k) => k.slice(path.length + 1).split('/')[0] ?? ''),
      ),
    ],
    sleep: async () => undefined,
  };
  return { system, log, files };
}

const options = {
  hostsDir: '/data/local-hosts',
  monkdCommand: ['node', 'monkd.js'],
  ownerPid: 4242,
  ownerDataDir: '/data',
};

describe('the local provider', () => {
  it('refuses without root, before touching anything, saying what it needs', async () => {
    const { system, log } = fakeSystem({ privileged: false });
    const provider = createLocalProvider(options, { system });
    const failure = provider.createHosts({ count: 1, tags: [] });
    await expect(failure).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(failure).rejects.toThrow(/local hosts need root/);
    expect(log).toEqual([]);
  });

  it('names a missing tool and the package that has it', async () => {
    const { system } = fakeSystem({ fail: (argv) => argv[0] === 'dockerd' });
    const provider = createLocalProvider(options, { system });
    await expect(provider.createHosts({ count: 1, tags: [] })).rejects.toThrow(
      /local hosts need dockerd \(apt-get install -y docker.io\)/,
    );
  });

  it('refuses a subnet that another device routes, before making anything', async () => {
    const { system, log } = fakeSystem({
      routes: [{ dst: '10.213.0.0/24', dev: 'br-f3f7f340f348' }],
    });
    const failure = createLocalProvider(options, { system }).createHosts({ count: 1, tags: [] });
    await expect(failure).rejects.toThrow(
      "the local hosts' subnet 10.213.0.0/24 overlaps 10.213.0.0/24 on br-f3f7f340f348: packets for the hosts would go there. Choose another subnet with --subnet",
    );
    expect(log.filter((line) => line.startsWith('ip netns add') || line.startsWith('ip link add'))).toEqual(
      [],
    );
  });

  it('creates hosts with their tags and provider=local, one address each', async () => {
    const { system } = fakeSystem();
    const provider = createLocalProvider(options, { system });
    const hosts = await provider.createHosts({ count: 2, tags: ['zone=a'] });
    expect(hosts.map((h) => [h.name, h.address, h.tags, h.apiSocket])).toEqual([
      ['local-1', '10.213.0.2', ['provider=local', 'zone=a'], '/run/monk-h/local-1/monkd.sock'],
      ['local-2', '10.213.0.3', ['provider=local', 'zone=a'], '/run/monk-h/local-2/monkd.sock'],
    ]);
    expect(provider.gateway).toBe('10.213.0.1');
  });

  it('takes the next free names and addresses next to hosts already on the machine', async () => {
    const { system } = fakeSystem();
    await createLocalProvider(options, { system }).createHosts({ count: 1, tags: [] });
    const [second] = await createLocalProvider({ ...options, ownerPid: 7 }, { system }).createHosts({
      count: 1,
      tags: [],
    });
    expect([second?.name, second?.address]).toEqual(['local-2', '10.213.0.3']);
  });

  it('removes everything a failed grow made and names the step that failed', async () => {
    const { system, log } = fakeSystem({
      fail: (argv) =>
        argv.includes('route') &&
        argv.includes('10.213.0.1') &&
        log.filter((l) => l.includes('route add')).length > 1,
    });
    const provider = createLocalProvider(options, { system });
    const failure = provider.createHosts({ count: 2, tags: [] });
    await expect(failure).rejects.toMatchObject({
      code: 'PROVIDER_ERROR',
      details: { host: 'local-2', step: 'route through 10.213.0.1' },
    });
    await expect(failure).rejects.toThrow(
      /creating local host local-2 failed at step "route through 10.213.0.1"/,
    );
    // Both hosts of this grow are gone again: the one that failed and the one made before it.
    for (const name of ['local-1', 'local-2']) {
      expect(log).toContain(`ip netns del monk-h-${name}`);
      expect(log).toContain(`rm /data/local-hosts/${name}`);
      expect(log).toContain(`rm /run/monk-h/${name}`);
    }
    expect(log.indexOf('ip netns del monk-h-local-2')).toBeLessThan(
      log.indexOf('ip netns del monk-h-local-1'),
    );
  });

  it('fails at once, with the end of its log, when the engine dies before opening its socket', async () => {
    const { system, files } = fakeSystem();
    system.waitForSocket = async (path) => {
      throw new MonkError('TIMEOUT', `${path} is not there`);
    };
    files.set('/data/local-hosts/local-1/dockerd.log', 'starting\nfailed to start daemon: pid file found\n');
    const failure = createLocalProvider(options, { system }).createHosts({ count: 1, tags: [] });
    await expect(failure).rejects.toThrow(
      'creating local host local-1 failed at step "wait for the Docker engine": it exited before opening /run/monk-h/local-1/docker.sock; the end of /data/local-hosts/local-1/dockerd.log:\nstarting\nfailed to start daemon: pid file found',
    );
  });

  it("stops a host's monkd and engine by their pid files when removing it", async () => {
    const { system, log, files } = fakeSystem();
    const provider = createLocalProvider(options, { system });
    const [host] = await provider.createHosts({ count: 1, tags: [] });
    const monkdPid = Number(files.get('/run/monk-h/local-1/monkd.pid'));
    const enginePid = Number(files.get('/run/monk-h/local-1/engine.pid'));
    expect(monkdPid).toBeGreaterThan(0);
    expect(enginePid).toBeGreaterThan(0);
    log.length = 0;
    await provider.removeHost(host!);
    expect(log).toContain('ip netns del monk-h-local-1');
    expect(log).toContain(`ip link del ${host!.local!.veth}`);
  });

  it('holds a machine-wide lock while it grows, and takes over one whose holder is gone', async () => {
    const { system, files } = fakeSystem({ alive: [99] });
    files.set('/run/monk-h/grow.lock', '12345\n');
    await createLocalProvider(options, { system }).createHosts({ count: 1, tags: [] });
    expect(files.has('/run/monk-h/grow.lock')).toBe(false);
    files.set('/run/monk-h/grow.lock', '99\n');
    const waiting = createLocalProvider(options, { system }).createHosts({ count: 1, tags: [] });
    await expect(waiting).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('brings back a recorded host whose namespace a reboot took, with its data, and leaves a running one be', async () => {
    const { system, log, files } = fakeSystem();
    const [host] = await createLocalProvider(options, { system }).createHosts({ count: 1, tags: [] });
    const restarted = createLocalProvider({ ...options, ownerPid: 5 }, { system });
    log.length = 0;
    expect(await restarted.reviveHost(host!)).toBe('revived');
    expect(log).toContain('ip netns add monk-h-local-1');
    expect(log).toContain('start nsenter --net=/var/run/netns/monk-h-local-1 dockerd');
    expect(log).not.toContain('rm /data/local-hosts/local-1');

    const monkdPid = Number(files.get('/run/monk-h/local-1/monkd.pid'));
    const { system: up } = fakeSystem({ alive: [monkdPid] });
    up.run = async (argv) => (argv.join(' ') === 'ip netns list' ? 'monk-h-local-1 (id: 3)\n' : '');
    up.readText = system.readText;
    up.commandLine = async (pid) =>
      pid === monkdPid ? 'nsenter … /run/monk-h/local-1/monkd.sock' : undefined;
    expect(await createLocalProvider(options, { system: up }).reviveHost(host!)).toBe('running');
  });

  it('sweeps the hosts whose owning monkd is gone and keeps those of a live one', async () => {
    const { system, log } = fakeSystem({ alive: [7] });
    await createLocalProvider(options, { system }).createHosts({ count: 1, tags: [] });
    await createLocalProvider({ ...options, ownerPid: 7 }, { system }).createHosts({ count: 1, tags: [] });
    log.length = 0;
    expect(await sweepLocalHosts({}, { system })).toEqual(['local-1']);
    expect(log).toContain('ip netns del monk-h-local-1');
    expect(log).not.toContain('ip netns del monk-h-local-2');
  });

  it('sweeps a namespace with monk prefix that has no marker, and leaves other namespaces be', async () => {
    const { system, log } = fakeSystem();
    const run = system.run;
    system.run = async (argv) =>
      argv.join(' ') === 'ip netns list' ? 'monk-h-lost (id: 4)\nsomeone-else (id: 5)\n' : run(argv);
    expect(await sweepLocalHosts({}, { system })).toEqual(['lost']);
    expect(log).toContain('ip netns del monk-h-lost');
    expect(log.some((line) => line.includes('someone-else'))).toBe(false);
    expect(log.filter((line) => line.startsWith('rm '))).toEqual(['rm /run/monk-h/lost']);
  });
});
