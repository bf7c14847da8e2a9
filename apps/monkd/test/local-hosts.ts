import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHostSystem, sweepLocalHosts, type HostRecord } from '@monk/providers';
import type { GrownHost } from '@monk/sdk';
import { readDataJson } from '../src/data-file.ts';
import { repoRoot, startMonkd, type CliResult, type MonkdProcess } from './harness.ts';

const run = promisify(execFile);
const monkBin = join(repoRoot, 'bin/monk');
/** Set on the root monkd of a fixture: the pid of the test process that owns it (see `sweepLeftovers`). */
const runnerVariable = 'MONK_FIXTURE_RUNNER';

/** One host of the fixture: a namespace with its own engine and monkd, a peer of the root's cluster. */
export interface LocalHost extends GrownHost {
  readonly apiSocket: string;
  readonly dockerSocket: string;
  /** Namespace, veth, directories: what must be gone once the host is removed. */
  readonly namespace: string;
  readonly veth: string;
  readonly dir: string;
  readonly runDir: string;
  /** Runs bin/monk against this host's monkd. Never throws on a non-zero exit. */
  monk(args: readonly string[]): Promise<CliResult>;
  /** Runs the docker CLI against this host's own engine. */
  docker(args: readonly string[]): Promise<string>;
}

/** A root monkd (in a temp data dir, listening on every address, the bridge's included) and its local hosts. */
export interface LocalHostsFixture extends AsyncDisposable {
  readonly root: MonkdProcess;
  readonly hosts: readonly LocalHost[];
}

/**
 * Starts a root monkd, makes it a cluster and grows it with `count` local hosts (`monk cluster grow -p local`),
 * loading the local busybox image into each host's engine when `loadImage` is set (until peers exchange
 * images). Removes the leftovers of a killed earlier run first. Disposing destroys the cluster, which removes
 * the hosts, then stops the root; whatever a failure left behind is swept. Needs root.
 *
 * @example
 * await using cluster = await startLocalHosts({ count: 2, loadImage: true });
 * await cluster.hosts[1].docker(['ps']);
 */
export async function startLocalHosts(options: {
  readonly count: number;
  readonly loadImage?: boolean;
  /**
   * Underlay subnet (default 10.231.0.0/24): not the product's default, so that tests neither meet a
   * developer's own local hosts nor a Docker network that took 10.213.0.0/24 on a shared machine.
   */
  readonly subnet?: string;
}): Promise<LocalHostsFixture> {
  await sweepLeftovers();
  // Inherited by the root monkd: a later run finds and sweeps it if this test process is killed.
  process.env[runnerVariable] = String(process.pid);
  const root = await startMonkd({ extraArgs: ['--name', 'root', '--p2p-port', '0'] });
  const dispose = async (): Promise<void> => {
    await root.monk(['cluster', 'destroy', '--force'], { timeoutMs: 120_000 });
    await root[Symbol.asyncDispose]();
    await sweepLeftovers();
  };
  try {
    const created = await root.monk(['cluster', 'new', '--name', 'local-hosts-e2e']);
    if (created.code !== 0) throw new Error(`cluster new failed: ${created.stderr}`);
    const prefix = `t${randomBytes(2).toString('hex')}`;
    const grown = await root.monk(
      [
        'cluster',
        'grow',
        '-p',
        'local',
        '-m',
        String(options.count),
        '--name',
        prefix,
        '--subnet',
        options.subnet ?? '10.231.0.0/24',
        '--json',
      ],
      { timeoutMs: 180_000 },
    );
    if (grown.code !== 0) throw new Error(`cluster grow failed: ${grown.stderr}${grown.stdout}`);
    const records = await recordedHosts(root.dataDir);
    const hosts = (JSON.parse(grown.stdout) as { hosts: GrownHost[] }).hosts.map((host) => {
      const record = records.find((r) => r.name === host.name);
      if (record?.local === undefined) throw new Error(`${host.name} is not recorded by the root monkd`);
      const apiSocket = record.apiSocket;
      const dockerSocket = record.dockerSocket;
      return {
        ...host,
        apiSocket,
        dockerSocket,
        namespace: record.local.namespace,
        veth: record.local.veth,
        dir: record.local.dir,
        runDir: record.local.runDir,
        monk: (args: readonly string[]) => monkAtSocket(apiSocket, args),
        docker: async (args: readonly string[]) =>
          (await run('docker', ['-H', `unix://${dockerSocket}`, ...args])).stdout,
      };
    });
    if (options.loadImage === true) {
      for (const host of hosts) {
        await run('sh', [
          '-c',
          `docker save monk-local/busybox:latest | docker -H unix://${host.dockerSocket} load`,
        ]);
      }
    }
    return { root, hosts, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** The hosts a monkd recorded in its data dir. */
export async function recordedHosts(dataDir: string): Promise<HostRecord[]> {
  const record = (await readDataJson(join(dataDir, 'local-hosts.json'))) as
    { hosts: HostRecord[] } | undefined;
  return record?.hosts ?? [];
}

/**
 * Removes what killed runs left: a fixture's root monkd whose test process is gone is killed, then every
 * local host whose owning monkd is gone is removed (namespace, veth, engine, monkd, mounts, directories).
 */
export async function sweepLeftovers(): Promise<string[]> {
  const system = createHostSystem();
  return sweepLocalHosts(
    {
      isStale: async (marker) => {
        const runner = Number(await system.environment(marker.ownerPid, runnerVariable));
        if (!Number.isInteger(runner) || runner <= 0 || runner === process.pid) return false;
        if ((await system.commandLine(runner)) !== undefined) return false;
        system.signal(marker.ownerPid, 'SIGKILL');
        return true;
      },
    },
    { system },
  );
}

/** What of a host is still on the machine: namespaces, links, processes and mounts that name it. */
export async function tracesOf(
  host: Pick<LocalHost, 'namespace' | 'veth' | 'dir' | 'runDir'>,
): Promise<string[]> {
  const traces: string[] = [];
  const namespaces = (await run('ip', ['netns', 'list'])).stdout;
  if (namespaces.split('\n').some((line) => line.split(' ')[0] === host.namespace)) {
    traces.push(`namespace ${host.namespace}`);
  }
  const links = (await run('ip', ['-o', 'link'])).stdout;
  if (links.includes(`${host.veth}@`) || links.includes(`${host.veth}:`)) traces.push(`link ${host.veth}`);
  const processes = (await run('ps', ['-eo', 'pid,args'])).stdout
    .split('\n')
    .filter((line) => line.includes(host.runDir) || line.includes(host.dir));
  traces.push(...processes.map((line) => `process ${line.trim()}`));
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter(
      (point) =>
        point.startsWith(host.dir) || point.startsWith(host.runDir) || point.endsWith(`/${host.namespace}`),
    );
  traces.push(...mounts.map((point) => `mount ${point}`));
  return traces;
}

async function monkAtSocket(socket: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const proc = spawn(monkBin, [...args], {
      env: { ...process.env, MONK_SOCKET: socket, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
