import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MonkError } from '@monk/model';
import type { LocalHostFacts } from './cloud-provider.ts';

/**
 * The local provider's plans: what to run to make or remove a host, as data. Pure: the facts of the machine
 * come in (which bridge exists, which names and addresses are taken), steps come out, and
 * `local-provider.ts` applies them with a {@link HostSystem}. `monk cluster grow` shows each step's title.
 */

/** Prefix of every network namespace the local provider makes; the sweeper looks for it. */
export const namespacePrefix = 'monk-h-';
/** Default underlay subnet of local hosts. */
export const defaultSubnet = '10.213.0.0/24';
/** Default bridge in the root namespace that local hosts hang on. */
export const defaultBridge = 'monk-local';
/** The file in a host's run dir that says who owns it (see {@link HostMarker}). */
export const markerFile = 'host.json';

/** Host names: DNS-label-like, short enough for the paths and interface names built from them. */
const hostNamePattern = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** One action on the machine. */
export type HostAction =
  | { readonly kind: 'run'; readonly argv: readonly string[] }
  | {
      readonly kind: 'start';
      readonly argv: readonly string[];
      readonly logFile: string;
      /** Where to write the started process's pid. */
      readonly pidFile: string;
    }
  /**
   * Wait until the unix socket accepts connections; fail at once, with the end of `logFile`, when the
   * process in `pidFile` that should open it has died.
   */
  | {
      readonly kind: 'wait-socket';
      readonly path: string;
      readonly timeoutMs: number;
      readonly pidFile: string;
      readonly logFile: string;
    }
  | { readonly kind: 'make-dir'; readonly path: string }
  | { readonly kind: 'write-file'; readonly path: string; readonly text: string }
  /**
   * SIGTERM the pid in `pidFile`, wait up to `graceMs`, then SIGKILL; nothing when it is not running, or
   * when its command line lacks `match` (the pid was reused by another program).
   */
  | {
      readonly kind: 'stop-pid-file';
      readonly pidFile: string;
      readonly match: string;
      readonly graceMs: number;
    }
  /** SIGKILL every process in the network namespace and every descendant of one (containers). */
  | { readonly kind: 'stop-namespace'; readonly namespace: string }
  /** Unmount every mount point under these directories, deepest first. */
  | { readonly kind: 'unmount-under'; readonly paths: readonly string[] }
  | { readonly kind: 'remove-dir'; readonly path: string };

/** One step of a plan: a title for people and the action. A `tolerant` step's failure is logged, not fatal. */
export interface HostStep {
  readonly title: string;
  readonly action: HostAction;
  readonly tolerant?: boolean;
}

/** What a host's run dir records about it, so that any monk on the machine can find and remove it. */
export interface HostMarker extends LocalHostFacts {
  readonly name: string;
  readonly address: string;
  /** The pid of the monkd that grew the host; the sweeper removes hosts whose owner is gone. */
  readonly ownerPid: number;
  /** The data dir of that monkd, which keeps the host's record. */
  readonly ownerDataDir: string;
}

/** Where the local provider puts things and what it starts. */
export interface LocalLayout {
  readonly bridge: string;
  readonly subnet: string;
  /** Hosts' directories go under here (`<peer data dir>/local-hosts`). */
  readonly hostsDir: string;
  /** Hosts' run directories go under here (default `/run/monk-h`): short paths for unix sockets. */
  readonly runRoot: string;
  /** How to start monkd, e.g. `[process.execPath, '/…/apps/monkd/dist/main.js']`. */
  readonly monkdCommand: readonly string[];
  /** The cluster port each host's monkd listens on, on its own address. */
  readonly p2pPort: number;
  readonly ownerPid: number;
  readonly ownerDataDir: string;
}

/** A parsed IPv4 subnet. */
export interface Subnet {
  readonly network: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n` (IPv4, /16 to /29); `INVALID_REQUEST` otherwise. */
export function parseSubnet(cidr: string): Subnet {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (match === null || octets.some((o) => o > 255) || prefix < 16 || prefix > 29) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${cidr} is not an IPv4 subnet from /16 to /29 (for example ${defaultSubnet})`,
    );
  }
  const [a = 0, b = 0, c = 0, d = 0] = octets;
  const address = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (address & mask) >>> 0, prefix };
}

function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => String((value >>> shift) & 255)).join('.');
}

/** The `index`-th address of a subnet (1 is the bridge, hosts from 2). */
export function addressAt(subnet: Subnet, index: number): string {
  return formatAddress((subnet.network + index) >>> 0);
}

/** The bridge's own address in the subnet: the first one. */
export function bridgeAddress(cidr: string): string {
  return addressAt(parseSubnet(cidr), 1);
}

/** The lowest `count` free host addresses of the subnet; `PROVIDER_ERROR` when it is full. */
export function allocateAddresses(options: {
  readonly subnet: string;
  readonly taken: readonly string[];
  readonly count: number;
}): string[] {
  const subnet = parseSubnet(options.subnet);
  const taken = new Set(options.taken);
  const last = 2 ** (32 - subnet.prefix) - 2;
  const chosen: string[] = [];
  for (let index = 2; index <= last && chosen.length < options.count; index++) {
    const address = addressAt(subnet, index);
    if (!taken.has(address)) chosen.push(address);
  }
  if (chosen.length < options.count) {
    throw new MonkError(
      'PROVIDER_ERROR',
      `subnet ${options.subnet} has room for ${String(chosen.length)} more host(s), not ${String(options.count)}; choose a larger one with --subnet`,
    );
  }
  return chosen;
}

/**
 * Names for `count` new hosts: `name` itself for one host, `name-1`, `name-2`… for several, and without a
 * name the lowest free `local-N`. `INVALID_REQUEST` for a bad or taken name.
 */
export function chooseHostNames(options: {
  readonly count: number;
  readonly name?: string | undefined;
  readonly taken: ReadonlySet<string>;
}): string[] {
  const { count, name, taken } = options;
  let names: string[];
  if (name !== undefined) {
    names = count === 1 ? [name] : Array.from({ length: count }, (_, i) => `${name}-${String(i + 1)}`);
  } else {
    names = [];
    for (let index = 1; names.length < count; index++) {
      const candidate = `local-${String(index)}`;
      if (!taken.has(candidate)) names.push(candidate);
    }
  }
  for (const candidate of names) {
    if (!hostNamePattern.test(candidate)) {
      throw new MonkError(
        'INVALID_REQUEST',
        `${candidate} is not a valid host name: lowercase letters, digits and '-', at most 32 characters`,
      );
    }
    if (taken.has(candidate)) {
      throw new MonkError(
        'INVALID_REQUEST',
        `a local host named ${candidate} already exists on this machine`,
      );
    }
  }
  return names;
}

/** The facts of a new host named `name`: its namespace, veth, and directories. */
export function localHostFacts(options: {
  readonly name: string;
  readonly layout: LocalLayout;
}): LocalHostFacts {
  const { name, layout } = options;
  const namespace = `${namespacePrefix}${name}`;
  // Interface names are at most 15 bytes: a hash of the namespace keeps them short and unique.
  const hash = createHash('sha256').update(namespace).digest('hex').slice(0, 10);
  return {
    namespace,
    bridge: layout.bridge,
    veth: `mh${hash}`,
    subnet: layout.subnet,
    dir: join(layout.hostsDir, name),
    runDir: join(layout.runRoot, name),
  };
}

/** A route of the root namespace: its destination (`a.b.c.d/n`, `a.b.c.d` or `default`) and device. */
export interface RouteFact {
  readonly dst: string;
  readonly dev: string;
}

function parseDestination(dst: string): { network: number; prefix: number } | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(dst);
  if (match === null) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = match.slice(1, 5).map(Number);
  const prefix = match[5] === undefined ? 32 : Number(match[5]);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: ((((a << 24) | (b << 16) | (c << 8) | d) >>> 0) & mask) >>> 0, prefix };
}

/**
 * The routes of other devices that overlap the hosts' subnet: packets for the hosts would go there (another
 * Docker network, a VPN). The default route does not count. Pure.
 */
export function conflictingRoutes(options: {
  readonly subnet: string;
  readonly bridge: string;
  readonly routes: readonly RouteFact[];
}): RouteFact[] {
  const subnet = parseSubnet(options.subnet);
  return options.routes.filter((route) => {
    if (route.dev === options.bridge) return false;
    const dst = parseDestination(route.dst);
    if (dst === undefined) return false;
    const prefix = Math.min(dst.prefix, subnet.prefix);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return prefix > 0 && (dst.network & mask) >>> 0 === (subnet.network & mask) >>> 0;
  });
}

/** What the machine's bridge looks like now. */
export interface BridgeFacts {
  readonly exists: boolean;
  /** Its addresses as `a.b.c.d/n`. */
  readonly addresses: readonly string[];
  /** Whether the FORWARD rule that lets hosts talk to each other across the bridge is in place. */
  readonly forwardRule: boolean;
}

/** The iptables rule that accepts traffic between hosts across the bridge (Docker sets FORWARD to DROP). */
export function forwardRule(bridge: string): string[] {
  return ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];
}

/** Steps that make the bridge ready for hosts in `layout.subnet`: only what is missing. */
export function planBridge(options: {
  readonly facts: BridgeFacts;
  readonly layout: LocalLayout;
}): HostStep[] {
  const { facts, layout } = options;
  const { bridge, subnet } = layout;
  const gateway = `${bridgeAddress(subnet)}/${String(parseSubnet(subnet).prefix)}`;
  const steps: HostStep[] = [];
  if (!facts.exists) {
    steps.push(
      { title: `create bridge ${bridge}`, action: run('ip', 'link', 'add', bridge, 'type', 'bridge') },
      { title: `bring bridge ${bridge} up`, action: run('ip', 'link', 'set', bridge, 'up') },
    );
  }
  if (!facts.addresses.includes(gateway)) {
    steps.push({
      title: `address bridge ${bridge} as ${gateway}`,
      action: run('ip', 'addr', 'add', gateway, 'dev', bridge),
    });
  }
  if (!facts.forwardRule) {
    steps.push({
      title: `let hosts talk across ${bridge}`,
      action: run('iptables', '-I', ...forwardRule(bridge)),
    });
  }
  return steps;
}

/**
 * Steps that create one host and start its engine and monkd; the last waits for monkd's socket. `parts`
 * (default: all) brings back only what is missing of a recorded host: its network (namespace, veth, address,
 * route, after a reboot), its engine, its monkd. The directories and the marker are always (re)made.
 */
export function planCreateHost(options: {
  readonly name: string;
  readonly address: string;
  readonly facts: LocalHostFacts;
  readonly layout: LocalLayout;
  readonly parts?: { readonly network: boolean; readonly engine: boolean; readonly monkd: boolean };
}): HostStep[] {
  const parts = options.parts ?? { network: true, engine: true, monkd: true };
  const { name, address, facts, layout } = options;
  const { namespace, veth, dir, runDir, bridge } = facts;
  const inner = `mp${veth.slice(2)}`;
  const prefix = parseSubnet(facts.subnet).prefix;
  const netns = `--net=/var/run/netns/${namespace}`;
  const paths = hostPaths(facts);
  const marker: HostMarker = {
    ...facts,
    name,
    address,
    ownerPid: layout.ownerPid,
    ownerDataDir: layout.ownerDataDir,
  };
  const files: HostStep[] = [
    { title: `create ${dir}`, action: { kind: 'make-dir', path: dir } },
    { title: `create ${runDir}`, action: { kind: 'make-dir', path: runDir } },
    {
      title: `record the host in ${paths.marker}`,
      action: { kind: 'write-file', path: paths.marker, text: `${JSON.stringify(marker)}\n` },
    },
  ];
  const network: HostStep[] = [
    { title: `create network namespace ${namespace}`, action: run('ip', 'netns', 'add', namespace) },
    {
      title: `create veth pair ${veth}`,
      action: run('ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', inner, 'netns', namespace),
    },
    {
      title: `attach ${veth} to ${bridge}`,
      action: run('ip', 'link', 'set', 'dev', veth, 'master', bridge, 'up'),
    },
    {
      title: `name the host's interface eth0`,
      action: run('ip', '-n', namespace, 'link', 'set', inner, 'name', 'eth0'),
    },
    {
      title: `address the host as ${address}/${String(prefix)}`,
      action: run('ip', '-n', namespace, 'addr', 'add', `${address}/${String(prefix)}`, 'dev', 'eth0'),
    },
    { title: 'bring eth0 up', action: run('ip', '-n', namespace, 'link', 'set', 'eth0', 'up') },
    { title: 'bring lo up', action: run('ip', '-n', namespace, 'link', 'set', 'lo', 'up') },
    {
      title: `route through ${bridgeAddress(facts.subnet)}`,
      action: run('ip', '-n', namespace, 'route', 'add', 'default', 'via', bridgeAddress(facts.subnet)),
    },
  ];
  const engine: HostStep[] = [
    {
      title: 'start the Docker engine',
      action: {
        kind: 'start',
        argv: [
          'nsenter',
          netns,
          'dockerd',
          '--data-root',
          join(dir, 'docker'),
          '--exec-root',
          join(runDir, 'docker'),
          '--pidfile',
          join(runDir, 'dockerd.pid'),
          '-H',
          `unix://${paths.dockerSocket}`,
        ],
        logFile: join(dir, 'dockerd.log'),
        pidFile: paths.enginePidFile,
      },
    },
    {
      title: 'wait for the Docker engine',
      action: {
        kind: 'wait-socket',
        path: paths.dockerSocket,
        timeoutMs: 60_000,
        pidFile: paths.enginePidFile,
        logFile: join(dir, 'dockerd.log'),
      },
    },
  ];
  const monkd: HostStep[] = [
    {
      title: 'start monkd',
      action: {
        kind: 'start',
        argv: [
          'nsenter',
          netns,
          ...layout.monkdCommand,
          '--data-dir',
          join(dir, 'monkd'),
          '--api-socket',
          paths.apiSocket,
          '--docker-socket',
          paths.dockerSocket,
          '--name',
          name,
          '--p2p-host',
          address,
          '--p2p-port',
          String(layout.p2pPort),
          // In the WireGuard mesh, reached at its underlay address: its containers talk to the other hosts'.
          '--mesh',
          '--mesh-tunnels',
          '--mesh-endpoint',
          address,
        ],
        logFile: join(dir, 'monkd.log'),
        pidFile: paths.monkdPidFile,
      },
    },
    {
      title: 'wait for monkd',
      action: {
        kind: 'wait-socket',
        path: paths.apiSocket,
        timeoutMs: 60_000,
        pidFile: paths.monkdPidFile,
        logFile: join(dir, 'monkd.log'),
      },
    },
  ];
  return [
    ...files,
    ...(parts.network ? network : []),
    ...(parts.engine ? engine : []),
    ...(parts.monkd ? monkd : []),
  ];
}

/** The files of a host, from its facts. */
export function hostPaths(facts: Pick<LocalHostFacts, 'runDir'>): {
  readonly marker: string;
  readonly dockerSocket: string;
  readonly apiSocket: string;
  readonly enginePidFile: string;
  readonly monkdPidFile: string;
} {
  return {
    marker: join(facts.runDir, markerFile),
    dockerSocket: join(facts.runDir, 'docker.sock'),
    apiSocket: join(facts.runDir, 'monkd.sock'),
    // Written by monk when it starts the engine (nsenter execs dockerd: the same pid); dockerd writes its own
    // --pidfile too, and refuses to start when that one names a live process, so they are two files.
    enginePidFile: join(facts.runDir, 'engine.pid'),
    monkdPidFile: join(facts.runDir, 'monkd.pid'),
  };
}

/**
 * Steps that remove every trace of a host: monkd, the engine (which stops its containers), anything left in
 * the namespace, mounts under its directories, the namespace, the veth, the directories. Every step is
 * tolerant and idempotent: the same plan cleans a half-made host, a whole one, and one already gone.
 */
export function planRemoveHost(facts: LocalHostFacts): HostStep[] {
  const paths = hostPaths(facts);
  const steps: HostStep[] = [
    {
      title: 'stop monkd',
      action: { kind: 'stop-pid-file', pidFile: paths.monkdPidFile, match: facts.runDir, graceMs: 10_000 },
    },
    {
      title: 'stop the Docker engine',
      action: { kind: 'stop-pid-file', pidFile: paths.enginePidFile, match: facts.runDir, graceMs: 20_000 },
    },
    {
      title: `stop what is left in ${facts.namespace}`,
      action: { kind: 'stop-namespace', namespace: facts.namespace },
    },
    {
      title: `unmount what the engine left under ${facts.dir} and ${facts.runDir}`,
      action: { kind: 'unmount-under', paths: [facts.dir, facts.runDir] },
    },
    {
      title: `delete network namespace ${facts.namespace}`,
      action: run('ip', 'netns', 'del', facts.namespace),
    },
    { title: `delete veth ${facts.veth}`, action: run('ip', 'link', 'del', facts.veth) },
    { title: `remove ${facts.dir}`, action: { kind: 'remove-dir', path: facts.dir } },
    { title: `remove ${facts.runDir}`, action: { kind: 'remove-dir', path: facts.runDir } },
  ];
  return steps.map((step) => ({ ...step, tolerant: true }));
}

/** Steps that remove the bridge and its rule once no host hangs on it any more (`members` is empty). */
export function planRemoveBridge(options: {
  readonly bridge: string;
  readonly exists: boolean;
  readonly members: readonly string[];
}): HostStep[] {
  if (!options.exists || options.members.length > 0) return [];
  return [
    {
      title: `remove the FORWARD rule of ${options.bridge}`,
      action: run('iptables', '-D', ...forwardRule(options.bridge)),
      tolerant: true,
    },
    {
      title: `delete bridge ${options.bridge}`,
      action: run('ip', 'link', 'del', options.bridge),
      tolerant: true,
    },
  ];
}

/** One line per step, as a shell would show it, for logs and tests. */
export function describeStep(step: HostStep): string {
  const { action } = step;
  switch (action.kind) {
    case 'run':
      return action.argv.join(' ');
    case 'start':
      return `${action.argv.join(' ')} >>${action.logFile} &`;
    case 'wait-socket':
      return `wait for ${action.path}`;
    case 'make-dir':
      return `mkdir -p ${action.path}`;
    case 'write-file':
      return `write ${action.path}`;
    case 'stop-pid-file':
      return `kill $(cat ${action.pidFile})`;
    case 'stop-namespace':
      return `kill -9 $(ip netns pids ${action.namespace}) and their children`;
    case 'unmount-under':
      return `umount everything under ${action.paths.join(' ')}`;
    case 'remove-dir':
      return `rm -rf ${action.path}`;
    default: {
      const unknown: never = action;
      return String(unknown);
    }
  }
}

function run(...argv: string[]): HostAction {
  return { kind: 'run', argv };
}
