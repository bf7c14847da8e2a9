// `pnpm bench cli.bench`: issue 12 ("a CLI that answers at once") figures, with the built bin/monk against
// a real bin/monkd, side by side in one run (each round runs every command once, in turn, so load changes hit them alike):
// - `monk ps` and `monk cluster peers`, median of 20 wall times, against `docker ps` (target: within 2.5×)
//   and against `node -e 0` plus the request's own time (target: within 1.5×); the request's own time is a
//   raw control-socket call (one `ps` / `cluster.peers` frame) made from this process, so without start-up;
// - `monk info` (a command that still goes through oclif), for comparison;
// - `monk ps` with 20 monkd running on this machine (target: under 500 ms).
// Start-up phases (where the time goes) are in docs/cli.md, "Start-up".
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './poll.ts';

const root = join(import.meta.dirname, '..');
const monkBin = join(root, 'bin/monk');
const monkdBin = join(root, 'bin/monkd');
const runs = 20;
const crowd = 20;
const scratch = mkdtempSync(join(tmpdir(), 'monk-cli-bench-'));
const daemons: ChildProcess[] = [];

/** Wall time of one run of a program, in ms; throws when it fails. */
function timeRun(command: string, args: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr.toString()}`);
  return elapsed;
}

/** One raw control call over the unix socket: write the request frame, read until the result frame. */
function rawCall(socketPath: string, method: string, params: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ path: socketPath });
    let text = '';
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      text += chunk.toString();
      for (const line of text.split('\n').slice(0, -1)) {
        const frame = JSON.parse(line) as Record<string, unknown>;
        if ('result' in frame || 'error' in frame) {
          socket.destroy();
          if ('error' in frame) reject(new Error(`${method}: ${JSON.stringify(frame['error'])}`));
          else resolve(performance.now() - started);
          return;
        }
      }
    });
    socket.write(`${JSON.stringify({ v: 1, method, params })}\n`);
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function startMonkd(name: string): Promise<string> {
  const dataDir = join(scratch, name);
  const socketPath = join(dataDir, 'monkd.sock');
  const args = ['--data-dir', dataDir, '--name', name, '--p2p-host', '127.0.0.1', '--p2p-port', '0'];
  const child = spawn(monkdBin, [...args, '--log-level', 'error'], { stdio: 'ignore' });
  daemons.push(child);
  await until(() => rawCall(socketPath, 'info', {}), `${name} to answer`, { intervalMs: 100 });
  return socketPath;
}

const ms = (value: number): string => `${value.toFixed(0)} ms`.padStart(7);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

try {
  const socketPath = await startMonkd('cli-bench');
  const env = { ...process.env, MONK_SOCKET: socketPath, MONK_HOME: scratch, NO_COLOR: '1' };
  timeRun(monkBin, ['cluster', 'new', '--name', 'cli-bench'], env);

  const programs = {
    'node -e 0': () => timeRun(process.execPath, ['-e', '0'], env),
    'docker ps': () => timeRun('docker', ['ps'], env),
    'monk ps': () => timeRun(monkBin, ['ps'], env),
    'monk ps --json': () => timeRun(monkBin, ['ps', '--json'], env),
    'monk cluster peers': () => timeRun(monkBin, ['cluster', 'peers'], env),
    'monk info (oclif)': () => timeRun(monkBin, ['info'], env),
  };
  const requests = {
    'ps request': () => rawCall(socketPath, 'ps', { all: false }),
    'cluster.peers request': () => rawCall(socketPath, 'cluster.peers', {}),
  };
  const times: Record<string, number[]> = {};
  // One warm-up round fills Node's compile cache and the page cache.
  for (const program of Object.values(programs)) program();
  for (let round = 0; round < runs; round++) {
    for (const [label, program] of Object.entries(programs)) (times[label] ??= []).push(program());
    for (const [label, request] of Object.entries(requests)) (times[label] ??= []).push(await request());
  }
  const m = (label: string): number => median(times[label] ?? []);
  console.log(`median of ${runs}, run side by side (load average ${load()}):`);
  for (const label of Object.keys(times)) console.log(`  ${label.padEnd(24)} ${ms(m(label))}`);
  for (const [command, request] of [
    ['monk ps', 'ps request'],
    ['monk cluster peers', 'cluster.peers request'],
  ] as const) {
    const docker = m(command) / m('docker ps');
    const bare = m(command) / (m('node -e 0') + m(request));
    console.log(
      `  ${command}: ${docker.toFixed(2)}× docker ps (target ≤ 2.5×), ` +
        `${bare.toFixed(2)}× node -e 0 + ${request} (target ≤ 1.5×)`,
    );
  }

  for (let i = 1; i < crowd; i++) await startMonkd(`crowd-${String(i)}`);
  const crowded: number[] = [];
  for (let round = 0; round < runs; round++) crowded.push(timeRun(monkBin, ['ps'], env));
  console.log(
    `monk ps with ${crowd} monkd running: ${ms(median(crowded))} median of ${runs} (target < 500 ms; load average ${load()})`,
  );
} finally {
  for (const child of daemons) child.kill('SIGTERM');
  await Promise.all(
    daemons
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map((child) => new Promise((resolve) => child.once('exit', resolve))),
  );
  rmSync(scratch, { recursive: true, force: true });
}
