import { join } from 'node:path';
import { MonkError, toMonkError } from '@monk/model';
import type { CloudProvider, HostRecord, HostRequest, HostStatus, LocalHostFacts } from './cloud-provider.ts';
import type { HostSystem } from './host-system.ts';
import {
  allocateAddresses,
  bridgeAddress,
  chooseHostNames,
  conflictingRoutes,
  defaultBridge,
  defaultSubnet,
  forwardRule,
  hostPaths,
  localHostFacts,
  markerFile,
  namespacePrefix,
  parseSubnet,
  planBridge,
  planCreateHost,
  planRemoveBridge,
  planRemoveHost,
  type BridgeFacts,
  type HostAction,
  type HostMarker,
  type HostStep,
  type LocalLayout,
} from './local-plan.ts';

/** Where local hosts go and what they run. */
export interface LocalProviderOptions {
  /** Directory for the hosts' data (engine data root, monkd data dir, logs): `<data dir>/local-hosts`. */
  readonly hostsDir: string;
  /** How to start monkd, e.g. `[process.execPath, '/…/apps/monkd/dist/main.js']`. */
  readonly monkdCommand: readonly string[];
  /** The pid and data dir of the monkd that grows the hosts (the sweeper removes hosts whose owner died). */
  readonly ownerPid: number;
  readonly ownerDataDir: string;
  /** Underlay subnet (default 10.213.0.0/24); the bridge takes its first address. */
  readonly subnet?: string | undefined;
  /** Bridge name in the root namespace (default `monk-local`). */
  readonly bridge?: string | undefined;
  /** Runtime directory root for sockets and pid files (default `/run/monk-h`). */
  readonly runRoot?: string | undefined;
  /** Cluster port of each host's monkd (default 44001). */
  readonly p2pPort?: number | undefined;
}

/** The local provider, plus what only it can do. */
export interface LocalProvider extends CloudProvider {
  /** The bridge's address: where the growing monkd's own listener must be reachable by the hosts. */
  readonly gateway: string;
  /** Records that this monkd (pid `ownerPid`) now owns these hosts, after a restart. */
  adoptHosts(hosts: readonly HostRecord[]): Promise<void>;
  /**
   * Brings back what is missing of a recorded host: its network after a reboot, its engine, its monkd (with
   * the data they had). Resolves `running` when nothing was missing, `revived` otherwise; throws
   * `PROVIDER_ERROR` naming the step that failed (and removes nothing: the host's data stays).
   */
  reviveHost(host: HostRecord): Promise<'running' | 'revived'>;
}

/** The default root of hosts' run directories. */
export const defaultRunRoot = '/run/monk-h';

/**
 * A {@link CloudProvider} whose hosts are network namespaces of this machine, each with its own Docker
 * engine and monkd, on a bridge in the root namespace. Needs root. Every change to the machine goes through
 * `system`, as the steps of `local-plan.ts`. Throws `INVALID_REQUEST` for a subnet that is not IPv4 /16–/29.
 *
 * @example
 * const provider = createLocalProvider(
 *   { hostsDir: join(dataDir, 'local-hosts'), monkdCommand: [process.execPath, mainJs], ownerPid: process.pid, ownerDataDir: dataDir },
 *   { system: createHostSystem() },
 * );
 * const hosts = await provider.createHosts({ count: 3, tags: [] });
 */
export function createLocalProvider(
  options: LocalProviderOptions,
  components: { system: HostSystem; onProblem?: (message: string) => void },
): LocalProvider {
  const { system } = components;
  const layout: LocalLayout = {
    bridge: options.bridge ?? defaultBridge,
    subnet: options.subnet ?? defaultSubnet,
    hostsDir: options.hostsDir,
    runRoot: options.runRoot ?? defaultRunRoot,
    monkdCommand: options.monkdCommand,
    p2pPort: options.p2pPort ?? 44001,
    ownerPid: options.ownerPid,
    ownerDataDir: options.ownerDataDir,
  };
  // A bad --subnet is refused here, as INVALID_REQUEST, before any grow starts.
  parseSubnet(layout.subnet);

  async function observeBridge(): Promise<BridgeFacts> {
    let addresses: string[];
    try {
      const parsed = JSON.parse(
        await system.run(['ip', '-j', 'addr', 'show', 'dev', layout.bridge]),
      ) as Array<{
        addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
      }>;
      addresses = parsed
        .flatMap((link) => link.addr_info ?? [])
        .filter((a) => a.family === 'inet')
        .map((a) => `${a.local ?? ''}/${String(a.prefixlen ?? '')}`);
    } catch {
      return { exists: false, addresses: [], forwardRule: await hasForwardRule() };
    }
    return { exists: true, addresses, forwardRule: await hasForwardRule() };
  }

  async function hasForwardRule(): Promise<boolean> {
    return system.run(['iptables', '-C', ...forwardRule(layout.bridge)]).then(
      () => true,
      () => false,
    );
  }

  async function preflight(): Promise<void> {
    if (!system.isPrivileged()) {
      throw new MonkError(
        'PERMISSION_DENIED',
        'local hosts need root: monkd creates network namespaces, a bridge, veth pairs, iptables rules and Docker engines for them. Run monkd as root (for example sudo monkd), then grow again',
      );
    }
    const tools: Array<{ argv: string[]; from: string }> = [
      { argv: ['ip', '-V'], from: 'iproute2' },
      { argv: ['nsenter', '--version'], from: 'util-linux' },
      { argv: ['iptables', '--version'], from: 'iptables' },
      { argv: ['dockerd', '--version'], from: 'docker.io' },
    ];
    for (const tool of tools) {
      await system.run(tool.argv).catch((error: unknown) => {
        throw new MonkError(
          'PROVIDER_ERROR',
          `local hosts need ${tool.argv[0] ?? ''} (apt-get install -y ${tool.from}): ${toMonkError(error).message}`,
          { cause: error },
        );
      });
    }
  }

  async function readMarkers(): Promise<HostMarker[]> {
    return readHostMarkers({ runRoot: layout.runRoot }, { system });
  }

  async function apply(steps: readonly HostStep[], onStep?: (step: HostStep) => void): Promise<void> {
    for (const step of steps) {
      onStep?.(step);
      try {
        await execute(step.action, system);
      } catch (error) {
        if (step.tolerant === true) {
          components.onProblem?.(`${step.title}: ${toMonkError(error).message}`);
          continue;
        }
        throw new StepFailure(step, error);
      }
    }
  }

  async function removeFacts(facts: LocalHostFacts): Promise<void> {
    await apply(planRemoveHost(facts));
    await removeBridgeWhenUnused(facts.bridge);
  }

  async function removeBridgeWhenUnused(bridge: string): Promise<void> {
    let members: string[] = [];
    let exists = true;
    try {
      const parsed = JSON.parse(await system.run(['ip', '-j', 'link', 'show', 'master', bridge])) as Array<{
        ifname?: string;
      }>;
      members = parsed.map((link) => link.ifname ?? '');
    } catch {
      exists = false;
    }
    await apply(planRemoveBridge({ bridge, exists, members }));
  }

  /**
   * Holds the machine-wide grow lock (`<run root>/grow.lock`, naming its holder's pid): monkds growing at
   * once would pick the same free names and addresses. A lock whose holder is gone is taken over.
   */
  async function lockMachine(): Promise<() => Promise<void>> {
    const path = join(layout.runRoot, 'grow.lock');
    for (let attempt = 0; attempt < 1200; attempt++) {
      if (await system.createExclusive(path, `${String(layout.ownerPid)}\n`)) {
        return () => system.removeFile(path);
      }
      const holder = Number((await system.readText(path))?.trim() ?? '');
      if (!Number.isInteger(holder) || holder <= 0 || (await system.commandLine(holder)) === undefined) {
        await system.removeFile(path);
        continue;
      }
      await system.sleep(100);
    }
    throw new MonkError('TIMEOUT', `another grow has held ${path} for two minutes`);
  }

  async function createLocked(request: HostRequest): Promise<HostRecord[]> {
    const markers = await readMarkers();
    const namespaces = (await system.run(['ip', 'netns', 'list']))
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((ns) => ns.startsWith(namespacePrefix))
      .map((ns) => ns.slice(namespacePrefix.length));
    const names = chooseHostNames({
      count: request.count,
      name: request.name,
      taken: new Set([...markers.map((m) => m.name), ...namespaces]),
    });
    const addresses = allocateAddresses({
      subnet: layout.subnet,
      taken: markers.map((m) => m.address),
      count: names.length,
    });
    const routes = JSON.parse(
      await system.run(['ip', '-j', '-4', 'route', 'show']).catch(() => '[]'),
    ) as Array<{
      dst?: string;
      dev?: string;
    }>;
    const conflicts = conflictingRoutes({
      subnet: layout.subnet,
      bridge: layout.bridge,
      routes: routes.map((r) => ({ dst: r.dst ?? '', dev: r.dev ?? '' })),
    });
    if (conflicts.length > 0) {
      throw new MonkError(
        'PROVIDER_ERROR',
        `the local hosts' subnet ${layout.subnet} overlaps ${conflicts.map((r) => `${r.dst} on ${r.dev}`).join(', ')}: packets for the hosts would go there. Choose another subnet with --subnet`,
        { details: { subnet: layout.subnet, conflicts: conflicts.map((r) => `${r.dst} dev ${r.dev}`) } },
      );
    }
    const tags = [...new Set([...request.tags, 'provider=local'])].sort();
    const created: LocalHostFacts[] = [];
    let current = 'the bridge';
    try {
      await apply(planBridge({ facts: await observeBridge(), layout }), (step) =>
        request.onProgress?.({ host: layout.bridge, step: step.title }),
      );
      const records: HostRecord[] = [];
      for (const [index, name] of names.entries()) {
        current = name;
        const address = addresses[index] ?? '';
        const facts = localHostFacts({ name, layout });
        created.push(facts);
        await apply(planCreateHost({ name, address, facts, layout }), (step) =>
          request.onProgress?.({ host: name, step: step.title }),
        );
        const marker: HostMarker = {
          ...facts,
          name,
          address,
          ownerPid: layout.ownerPid,
          ownerDataDir: layout.ownerDataDir,
        };
        records.push(recordOf(marker, tags, new Date().toISOString()));
      }
      return records;
    } catch (error) {
      for (const facts of created.reverse()) await removeFacts(facts);
      if (created.length === 0) await removeBridgeWhenUnused(layout.bridge);
      const failure = error instanceof StepFailure ? error : undefined;
      const cause = toMonkError(failure?.cause ?? error);
      const where = failure === undefined ? '' : ` at step "${failure.step.title}"`;
      throw new MonkError(
        cause.code === 'PERMISSION_DENIED' ? cause.code : 'PROVIDER_ERROR',
        `creating local host ${current} failed${where}: ${cause.message}; removed the ${String(created.length)} host(s) this grow had made`,
        {
          cause,
          details: { host: current, ...(failure === undefined ? {} : { step: failure.step.title }) },
        },
      );
    }
  }

  function recordOf(marker: HostMarker, tags: readonly string[], createdAt: string): HostRecord {
    const paths = hostPaths(marker);
    const { name, address, ownerPid: _pid, ownerDataDir: _dir, ...facts } = marker;
    return {
      name,
      provider: 'local',
      address,
      p2pPort: layout.p2pPort,
      apiSocket: paths.apiSocket,
      dockerSocket: paths.dockerSocket,
      tags,
      createdAt,
      local: facts,
    };
  }

  const provider: LocalProvider = {
    name: 'local',
    gateway: bridgeAddress(layout.subnet),
    async createHosts(request) {
      if (!Number.isInteger(request.count) || request.count < 1) {
        throw new MonkError('INVALID_REQUEST', 'grow at least one host');
      }
      await preflight();
      await system.makeDir(layout.runRoot);
      const release = await lockMachine();
      try {
        return await createLocked(request);
      } finally {
        await release();
      }
    },
    async removeHost(host) {
      const facts = host.local;
      if (facts === undefined) {
        throw new MonkError(
          'INVALID_REQUEST',
          `${host.name} is not a local host (provider ${host.provider})`,
        );
      }
      await removeFacts(facts);
    },
    async listHosts(hosts) {
      const statuses: HostStatus[] = [];
      for (const host of hosts) {
        const facts = host.local;
        const engine = await system.waitForSocket(host.dockerSocket, 200).then(
          () => true,
          () => false,
        );
        const pid = Number(
          (await system.readText(hostPaths({ runDir: facts?.runDir ?? '' }).monkdPidFile)) ?? '',
        );
        const monkd =
          facts !== undefined &&
          Number.isInteger(pid) &&
          pid > 0 &&
          ((await system.commandLine(pid)) ?? '').includes(facts.runDir);
        statuses.push({ host, engine, monkd });
      }
      return statuses;
    },
    async reviveHost(host) {
      const facts = host.local;
      if (facts === undefined) {
        throw new MonkError(
          'INVALID_REQUEST',
          `${host.name} is not a local host (provider ${host.provider})`,
        );
      }
      const namespaces = (await system.run(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0]);
      const network = !namespaces.includes(facts.namespace);
      const [status] = await provider.listHosts([host]);
      const engine = network || status?.engine !== true;
      const monkd = network || status?.monkd !== true;
      if (!engine && !monkd) return 'running';
      // Daemons left in a namespace whose mount is gone would hold the old engine's files: stop them first.
      const stale = network
        ? planRemoveHost(facts).filter((step) => step.action.kind === 'stop-pid-file')
        : [];
      const steps = [
        ...stale,
        ...(network
          ? planBridge({
              facts: await observeBridge(),
              layout: { ...layout, bridge: facts.bridge, subnet: facts.subnet },
            })
          : []),
        ...planCreateHost({
          name: host.name,
          address: host.address,
          facts,
          layout,
          parts: { network, engine, monkd },
        }),
      ];
      try {
        await apply(steps);
      } catch (error) {
        const failure = error instanceof StepFailure ? error : undefined;
        const cause = toMonkError(failure?.cause ?? error);
        throw new MonkError(
          'PROVIDER_ERROR',
          `bringing back local host ${host.name} failed${failure === undefined ? '' : ` at step "${failure.step.title}"`}: ${cause.message}`,
          {
            cause,
            details: { host: host.name, ...(failure === undefined ? {} : { step: failure.step.title }) },
          },
        );
      }
      return 'revived';
    },
    async adoptHosts(hosts) {
      for (const host of hosts) {
        const facts = host.local;
        if (facts === undefined) continue;
        const path = join(facts.runDir, markerFile);
        const marker: HostMarker = {
          ...facts,
          name: host.name,
          address: host.address,
          ownerPid: layout.ownerPid,
          ownerDataDir: layout.ownerDataDir,
        };
        await system.writeText(path, `${JSON.stringify(marker)}\n`).catch((error: unknown) => {
          components.onProblem?.(`could not record the owner of ${host.name}: ${toMonkError(error).message}`);
        });
      }
    },
  };
  return provider;
}

/** A step that failed, and why. */
class StepFailure extends Error {
  readonly step: HostStep;
  constructor(step: HostStep, cause: unknown) {
    super(`${step.title}: ${toMonkError(cause).message}`, { cause });
    this.step = step;
  }
}

/** The hosts recorded on this machine (their run dirs' markers), whoever grew them. */
export async function readHostMarkers(
  options: { readonly runRoot?: string | undefined },
  components: { system: HostSystem },
): Promise<HostMarker[]> {
  const { system } = components;
  const runRoot = options.runRoot ?? defaultRunRoot;
  const markers: HostMarker[] = [];
  for (const entry of await system.listDir(runRoot)) {
    const text = await system.readText(join(runRoot, entry, markerFile));
    if (text === undefined) continue;
    try {
      const parsed = JSON.parse(text) as Partial<HostMarker>;
      if (typeof parsed.name === 'string' && typeof parsed.namespace === 'string') {
        markers.push(parsed as HostMarker);
      }
    } catch {
      // A marker cut short by a crash mid-write: its host is found by name and swept like any other.
      markers.push(markerFromName(runRoot, entry));
    }
  }
  return markers;
}

/** What can be known of a host from its name alone (no marker): not its data dir. */
function markerFromName(runRoot: string, name: string): HostMarker {
  const facts = localHostFacts({
    name,
    layout: {
      bridge: defaultBridge,
      subnet: defaultSubnet,
      hostsDir: '/nonexistent',
      runRoot,
      monkdCommand: [],
      p2pPort: 0,
      ownerPid: 0,
      ownerDataDir: '',
    },
  });
  return { ...facts, dir: '', name, address: '', ownerPid: 0, ownerDataDir: '' };
}

/**
 * Removes the local hosts left behind by a monkd that is gone (killed, or a test run that was killed): every
 * host whose marker names an owner pid that no longer runs, or that `isStale` calls stale. Resolves with
 * the names of the hosts removed.
 */
export async function sweepLocalHosts(
  options: {
    readonly runRoot?: string | undefined;
    readonly isStale?: (marker: HostMarker) => Promise<boolean>;
  },
  components: { system: HostSystem; onProblem?: (message: string) => void },
): Promise<string[]> {
  const { system } = components;
  const removed: string[] = [];
  const markers = await readHostMarkers(options, components);
  // A namespace with monk's prefix and no marker lost its run dir (markers are written before, and removed
  // after, the namespace): nobody owns it.
  const orphans = (await system.run(['ip', 'netns', 'list']).catch(() => ''))
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((ns) => ns.startsWith(namespacePrefix) && !markers.some((m) => m.namespace === ns))
    .map((ns) => markerFromName(options.runRoot ?? defaultRunRoot, ns.slice(namespacePrefix.length)));
  for (const marker of [...markers, ...orphans]) {
    const ownerAlive = marker.ownerPid > 0 && (await system.commandLine(marker.ownerPid)) !== undefined;
    const stale = !ownerAlive || (options.isStale !== undefined && (await options.isStale(marker)));
    if (!stale) continue;
    const provider = createLocalProvider(
      {
        hostsDir: marker.dir === '' ? '/nonexistent' : join(marker.dir, '..'),
        monkdCommand: [],
        ownerPid: 0,
        ownerDataDir: marker.ownerDataDir,
        runRoot: options.runRoot,
        bridge: marker.bridge,
        subnet: marker.subnet,
      },
      components,
    );
    const { name, address, ownerPid: _pid, ownerDataDir: _dir, ...facts } = marker;
    await provider.removeHost({
      name,
      provider: 'local',
      address,
      p2pPort: 0,
      apiSocket: '',
      dockerSocket: '',
      tags: [],
      createdAt: '',
      local: facts,
    });
    removed.push(name);
  }
  return removed;
}

/** Runs one action on the machine. */
async function execute(action: HostAction, system: HostSystem): Promise<void> {
  switch (action.kind) {
    case 'run':
      await system.run(action.argv);
      return;
    case 'start': {
      const pid = await system.start(action.argv, { logFile: action.logFile });
      await system.writeText(action.pidFile, `${String(pid)}\n`);
      return;
    }
    case 'wait-socket': {
      const pid = Number((await system.readText(action.pidFile))?.trim() ?? '');
      for (let waited = 0; waited < action.timeoutMs; waited += 250) {
        try {
          await system.waitForSocket(action.path, 250);
          return;
        } catch {
          // Not yet: still starting, or dead (then there is nothing to wait for).
        }
        if (Number.isInteger(pid) && pid > 0 && (await system.commandLine(pid)) === undefined) {
          const log = (await system.readText(action.logFile)) ?? '';
          const tail = log.trim().split('\n').slice(-5).join('\n');
          throw new MonkError(
            'PROVIDER_ERROR',
            `it exited before opening ${action.path}; the end of ${action.logFile}:\n${tail}`,
          );
        }
      }
      throw new MonkError(
        'TIMEOUT',
        `${action.path} did not accept connections within ${String(action.timeoutMs)} ms`,
      );
    }
    case 'make-dir':
      await system.makeDir(action.path);
      return;
    case 'write-file':
      await system.writeText(action.path, action.text);
      return;
    case 'remove-dir':
      if (action.path !== '') await system.removeDir(action.path);
      return;
    case 'stop-pid-file': {
      const pid = Number((await system.readText(action.pidFile))?.trim() ?? '');
      if (!Number.isInteger(pid) || pid <= 1) return;
      const matches = async (): Promise<boolean> =>
        ((await system.commandLine(pid)) ?? '').includes(action.match);
      if (!(await matches())) return;
      system.signal(pid, 'SIGTERM');
      if (await waitUntil(async () => !(await matches()), { system, timeoutMs: action.graceMs })) return;
      system.signal(pid, 'SIGKILL');
      await waitUntil(async () => !(await matches()), { system, timeoutMs: 5_000 });
      return;
    }
    case 'stop-namespace': {
      const inside = (await system.run(['ip', 'netns', 'pids', action.namespace]).catch(() => ''))
        .split('\n')
        .map(Number)
        .filter((pid) => Number.isInteger(pid) && pid > 1);
      if (inside.length === 0) return;
      // Containers live in namespaces of their own: find them as descendants of what runs in the host's.
      const table = await system.processes();
      const doomed = new Set(inside);
      let grew = true;
      while (grew) {
        grew = false;
        for (const { pid, ppid } of table) {
          if (doomed.has(ppid) && !doomed.has(pid)) {
            doomed.add(pid);
            grew = true;
          }
        }
      }
      for (const pid of doomed) system.signal(pid, 'SIGKILL');
      await waitUntil(
        async () => {
          for (const pid of doomed) if ((await system.commandLine(pid)) !== undefined) return false;
          return true;
        },
        { system, timeoutMs: 5_000 },
      );
      return;
    }
    case 'unmount-under': {
      const roots = action.paths.filter((p) => p !== '');
      const points = (await system.mountPoints())
        .filter((point) => roots.some((root) => point === root || point.startsWith(`${root}/`)))
        .sort((a, b) => b.length - a.length);
      for (const point of [...new Set(points)]) {
        await system.run(['umount', point]).catch(() => system.run(['umount', '-l', point]));
      }
      return;
    }
    default: {
      const unknown: never = action;
      throw new MonkError('INTERNAL', `unknown host action ${JSON.stringify(unknown)}`);
    }
  }
}

async function waitUntil(
  condition: () => Promise<boolean>,
  options: { system: HostSystem; timeoutMs: number },
): Promise<boolean> {
  // Counted in polls, not by the clock: the system's sleep is the only time that passes.
  for (let waited = 0; waited < options.timeoutMs; waited += 100) {
    if (await condition()) return true;
    await options.system.sleep(100);
  }
  return condition();
}
