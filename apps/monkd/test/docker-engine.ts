import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A second Docker engine on this host, with its own state, for tests of peers that do not share one. */
export interface DockerEngine extends AsyncDisposable {
  /** The engine's unix socket (give it to monkd as `--docker-socket`). */
  readonly socket: string;
  /** Runs the docker CLI against this engine; resolves with its stdout, rejects on a non-zero exit. */
  docker(args: readonly string[]): Promise<string>;
}

/**
 * Starts a dockerd in the root network namespace beside the host's own: its own data-root, exec-root, pidfile
 * and socket, a default bridge of its own (the `.255.1/24` of `addressPool`'s first /16) and no iptables
 * rules (so it touches nothing of the host's engine), and user-defined networks from `addressPool` (so they
 * never overlap the host engine's). Needs root. Disposing
 * it removes its containers, stops it (SIGKILL after 20 s), unmounts what it left mounted and deletes its
 * directory; call it in `afterAll` even when the test failed.
 *
 * @example
 * await using engine = await startDockerEngine({ addressPool: '10.221.0.0/16' });
 * await engine.docker(['images']);
 */
export async function startDockerEngine(options: { addressPool: string }): Promise<DockerEngine> {
  // Short: a unix socket path must fit in 108 bytes.
  const dir = await mkdtemp('/tmp/monk-dockerd-');
  const socket = join(dir, 'docker.sock');
  const bridge = `mkx${randomBytes(4).toString('hex')}`;
  const [a = '10', b = '213'] = options.addressPool.split('.');
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${a}.${b}.255.1/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  const logFile = join(dir, 'dockerd.log');
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'docker.pid'),
      '-H',
      `unix://${socket}`,
      // Not --bridge=none: a dockerd started so deletes the host engine's docker0 (libnetwork removes the
      // default bridge interface when the bridge is disabled). It gets a bridge of its own instead.
      `--bridge=${bridge}`,
      '--iptables=false',
      '--default-address-pool',
      `base=${options.addressPool},size=24`,
    ],
    { stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const docker = async (args: readonly string[]): Promise<string> =>
    (await run('docker', ['-H', `unix://${socket}`, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;

  const dispose = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const containers = (await docker(['ps', '-aq']).catch(() => '')).split('\n').filter((id) => id !== '');
      if (containers.length > 0) await docker(['rm', '-f', ...containers]).catch(() => undefined);
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killer);
    }
    const mounts = (await readFile('/proc/mounts', 'utf8'))
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((target) => target.startsWith(`${dir}/`))
      .reverse();
    for (const target of mounts) await run('umount', ['-l', target]).catch(() => undefined);
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await docker(['version']);
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        await dispose();
        throw new Error(`dockerd did not start: ${String(error)}\n${log.slice(-2000)}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return { socket, docker, [Symbol.asyncDispose]: dispose };
}
