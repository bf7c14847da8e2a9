// Issue 2 figures, side by side on this host's Docker engine:
// - time from `monk run` to all-ready for 20 single-container runnables, against creating and starting the
//   same 20 containers through the Docker API directly, and with `docker run` (target: monk ≤ 1.3× API);
// - `monk ps` latency against `docker ps` (target: ≤ 2×).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const count = 20;
const rounds = 3;
const image = 'monk-local/busybox:latest';
const dir = mkdtempSync(join(tmpdir(), 'monk-bench-'));
const socket = join(dir, 'monkd.sock');
const env = { ...process.env, MONK_SOCKET: socket };

function monk(args: string[]): void {
  const result = spawnSync(join(root, 'bin/monk'), args, { env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`monk ${args.join(' ')}: ${result.stderr}`);
}

function docker(path: string, method: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: '/var/run/docker.sock',
        path: `/v1.41${path}`,
        method,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function cleanupLabel(label: string): void {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${label}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
}

async function bareApi(parallel: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const created = await docker(`/containers/create?name=bench-api-${i}`, 'POST', {
        Image: image,
        Cmd: ['sleep', '3600'],
        Labels: { 'monk.bench': 'api' },
        HostConfig: { Init: true },
      });
      const { Id } = JSON.parse(created.body) as { Id: string };
      await docker(`/containers/${Id}/start`, 'POST');
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const elapsed = performance.now() - started;
  cleanupLabel('monk.bench=api');
  return elapsed;
}

function dockerRun(): number {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    execFileSync(
      'docker',
      [
        'run',
        '-d',
        '--init',
        '--name',
        `bench-run-${i}`,
        '--label',
        'monk.bench=run',
        image,
        'sleep',
        '3600',
      ],
      {
        stdio: 'ignore',
      },
    );
  }
  const elapsed = performance.now() - started;
  cleanupLabel('monk.bench=run');
  return elapsed;
}

function timeCommand(command: string, args: string[], times: number): number {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    const result = spawnSync(command, args, { env, stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed`);
    samples.push(performance.now() - started);
  }
  return median(samples);
}

const lines = ['namespace: bench', ''];
for (let i = 0; i < count; i++) {
  lines.push(
    `n${i}:`,
    '  defines: runnable',
    '  containers:',
    `    c:`,
    '      image: monk-local/busybox',
    '      image-tag: latest',
    '      bash: exec sleep 3600',
    '',
  );
}
lines.push(
  'all:',
  '  defines: process-group',
  '  runnable-list:',
  ...Array.from({ length: count }, (_, i) => `    - bench/n${i}`),
  '',
);
writeFileSync(join(dir, 'bench.yaml'), lines.join('\n'));

const daemon = spawn(join(root, 'bin/monkd'), ['--data-dir', dir, '--log-level', 'warn', '--no-mesh'], {
  stdio: 'ignore',
});
try {
  for (let i = 0; i < 100; i++) {
    if (spawnSync(join(root, 'bin/monk'), ['info'], { env }).status === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  monk(['load', join(dir, 'bench.yaml')]);

  const monkTimes: number[] = [];
  const apiTimes: number[] = [];
  const api8Times: number[] = [];
  const runTimes: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    monk(['run', 'bench/all']);
    monkTimes.push(performance.now() - started);
    if (round === rounds - 1) {
      const monkPs = timeCommand(join(root, 'bin/monk'), ['ps'], 10);
      const dockerPs = timeCommand('docker', ['ps'], 10);
      console.log(`monk ps (20 instances):   ${monkPs.toFixed(0)} ms median of 10`);
      console.log(`docker ps (same engine):  ${dockerPs.toFixed(0)} ms median of 10`);
      console.log(`ratio monk ps / docker ps: ${(monkPs / dockerPs).toFixed(2)}× (target ≤ 2×)`);
    }
    monk(['purge', 'bench/all']);
    apiTimes.push(await bareApi(1));
    api8Times.push(await bareApi(8));
    runTimes.push(dockerRun());
  }
  const m = median(monkTimes);
  const a = median(apiTimes);
  const a8 = median(api8Times);
  const r = median(runTimes);
  console.log(`\n${count} containers, median of ${rounds} rounds:`);
  console.log(`  monk run → all ready (incl. CLI start):   ${m.toFixed(0)} ms`);
  console.log(
    `  Docker API create+start, one at a time:   ${a.toFixed(0)} ms   (monk ${(m / a).toFixed(2)}×; target ≤ 1.3×)`,
  );
  console.log(
    `  Docker API create+start, 8 at a time:     ${a8.toFixed(0)} ms   (monk ${(m / a8).toFixed(2)}×)`,
  );
  console.log(
    `  docker run -d, one at a time:             ${r.toFixed(0)} ms   (monk ${(m / r).toFixed(2)}×)`,
  );
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  cleanupLabel('monk.bench');
  cleanupLabel('monk.deployment=bench/all');
  rmSync(dir, { recursive: true, force: true });
}
