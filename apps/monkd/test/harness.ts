import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '../../..');
const monkBin = join(repoRoot, 'bin/monk');
const monkdBin = join(repoRoot, 'bin/monkd');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A monkd started from bin/monkd as a user would, with its own data dir and socket. */
export interface MonkdProcess extends AsyncDisposable {
  readonly dataDir: string;
  readonly socket: string;
  /** Runs bin/monk against this daemon. Never throws on a non-zero exit: check `code`. */
  monk(args: readonly string[], options?: { timeoutMs?: number; input?: string }): Promise<CliResult>;
  /** Runs bin/monk with --json and parses stdout (throws with stderr when the command failed). */
  monkJson<T>(args: readonly string[]): Promise<T>;
  peerId(): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  log(): Promise<string>;
}

export async function startMonkd(
  options: {
    dockerSocket?: string;
    extraArgs?: readonly string[];
    dataDir?: string;
    /** Runs monkd through this prefix, e.g. `nsenter --net=…` to start it in a network namespace. */
    prefix?: readonly string[];
    /** Runs monkd inside this network namespace (a name under /var/run/netns), through `nsenter`. */
    netns?: string;
    /** How long monkd may take to answer `monk info` (default 30 s; a loaded machine needs more). */
    startTimeoutMs?: number;
  } = {},
): Promise<MonkdProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'monk-e2e-')));
  const socket = join(dataDir, 'monkd.sock');
  const logFile = join(dataDir, 'monkd.log');
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const { openSync } = await import('node:fs');
    const out = openSync(logFile, 'a');
    // nsenter without --fork execs monkd in place: the child's pid is monkd's.
    const netns = options.netns === undefined ? [] : ['nsenter', `--net=/var/run/netns/${options.netns}`];
    const [command = monkdBin, ...prefixArgs] = [...(options.prefix ?? []), ...netns, monkdBin];
    child = spawn(
      command,
      [
        ...prefixArgs,
        '--data-dir',
        dataDir,
        '--resync-seconds',
        '2',
        ...(options.dockerSocket === undefined ? [] : ['--docker-socket', options.dockerSocket]),
        // Several test monkd share this machine's engine and network namespace: no mesh unless a test asks.
        ...(options.extraArgs?.some((a) => a.startsWith('--mesh')) === true ? [] : ['--no-mesh']),
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', out, out] },
    );
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      const info = await monk(['info']);
      if (info.code === 0) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`monkd did not start:\n${await readFile(logFile, 'utf8').catch(() => '')}`);
  };

  const monk = async (
    args: readonly string[],
    cliOptions: { timeoutMs?: number; input?: string } = {},
  ): Promise<CliResult> => {
    return new Promise((resolvePromise) => {
      const proc = spawn(monkBin, [...args], {
        env: { ...process.env, MONK_SOCKET: socket, NO_COLOR: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => proc.kill('SIGKILL'), cliOptions.timeoutMs ?? 120_000);
      proc.on('close', (code) => {
        clearTimeout(timer);
        resolvePromise({ code: code ?? -1, stdout, stderr });
      });
      proc.stdin.end(cliOptions.input ?? '');
    });
  };

  const monkJson = async <T>(args: readonly string[]): Promise<T> => {
    const result = await monk([...args, '--json']);
    if (result.code !== 0)
      throw new Error(`monk ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
    return JSON.parse(result.stdout) as T;
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((r) => {
      proc.once('exit', () => r());
      proc.kill(signal);
    });
  };

  await launch();
  const peerId = async (): Promise<string> => (await monkJson<{ peerId: string }>(['info'])).peerId;
  const id = await peerId();

  return {
    dataDir,
    socket,
    monk,
    monkJson,
    peerId,
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    log: () => readFile(logFile, 'utf8'),
    async [Symbol.asyncDispose]() {
      await kill('SIGKILL');
      await removePeerContainers(id);
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every container a peer created on this host's engine (label monk.peer). */
export async function peerContainers(
  peerId: string,
): Promise<Array<{ id: string; name: string; state: string }>> {
  const { stdout } = await run('docker', [
    'ps',
    '-a',
    '--filter',
    `label=monk.peer=${peerId}`,
    '--format',
    '{{.ID}} {{.Names}} {{.State}}',
  ]);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', name = '', state = ''] = line.split(' ');
      return { id, name, state };
    });
}

export async function removePeerContainers(peerId: string): Promise<void> {
  const containers = await peerContainers(peerId);
  if (containers.length > 0) await run('docker', ['rm', '-f', ...containers.map((c) => c.id)]);
}

export async function docker(args: readonly string[]): Promise<string> {
  const { stdout } = await run('docker', [...args]);
  return stdout;
}

/** Polls until `check` returns a value (not undefined), or fails after the deadline with the last state. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const reason = last instanceof Error ? `: ${last.message}` : '';
  throw new Error(`timed out waiting for ${options.what}${reason}`);
}

/**
 * Runs bin/monk as a machine without a local monkd would: no `MONK_SOCKET`, and `MONK_HOME` set to `home`
 * (where operator contexts live). Never throws on a non-zero exit: check `code`.
 */
export async function monkAt(
  args: readonly string[],
  options: { home: string; timeoutMs?: number; input?: string },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, MONK_HOME: options.home, NO_COLOR: '1' };
  delete env['MONK_SOCKET'];
  return new Promise((resolvePromise) => {
    const proc = spawn(monkBin, [...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    proc.stdin.end(options.input ?? '');
  });
}
