// Issue 7 (hardening) figures for the control socket, against a real bin/monkd:
// - `monk info` latency idle, then while 4,000 connections each hold half a request frame
//   (target: under 1 s), and whether monkd survives a 600 MiB frame with no newline.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'monk-bench-socket-'));
const socketPath = join(dir, 'monkd.sock');
const env = { ...process.env, MONK_SOCKET: socketPath };

function timeInfo(runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(join(root, 'bin/monk'), ['info'], { env });
    if (result.status !== 0) throw new Error(`monk info failed: ${result.stderr.toString()}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

function openOnce(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Opens a connection, retrying while the accept queue is full (EAGAIN), as a patient client would. */
async function open(): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await openOnce();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt > 100) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const daemon = spawn(join(root, 'bin/monkd'), ['--data-dir', dir, '--log-level', 'error', '--no-mesh'], {
  stdio: 'ignore',
});
let exited = false;
daemon.once('exit', () => (exited = true));
const held: Socket[] = [];
try {
  for (let i = 0; i < 100; i++) {
    if (spawnSync(join(root, 'bin/monk'), ['info'], { env }).status === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const idle = timeInfo(10);
  for (let i = 0; i < 4000; i++) {
    const socket = await open();
    socket.on('error', () => undefined);
    socket.write('{"v":1,"method":"in');
    held.push(socket);
  }
  const busy = timeInfo(10);
  console.log(`monk info, idle:                            ${idle.toFixed(0)} ms median of 10`);
  console.log(
    `monk info, 4,000 half-frames held:          ${busy.toFixed(0)} ms median of 10 (target < 1000 ms; ${(busy / idle).toFixed(2)}× idle)`,
  );
  for (const socket of held.splice(0)) socket.destroy();

  const flooder = await open();
  flooder.on('error', () => undefined);
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  flooder.write('{');
  let sent = 0;
  const started = performance.now();
  while (sent < 600 * 1024 * 1024 && !flooder.destroyed) {
    if (!flooder.write(chunk)) {
      const drained = await Promise.race([
        new Promise<boolean>((r) => flooder.once('drain', () => r(true))),
        new Promise<boolean>((r) => flooder.once('close', () => r(false))),
      ]);
      if (!drained) break;
    }
    sent += chunk.length;
  }
  const cut = performance.now() - started;
  flooder.destroy();
  const after = timeInfo(3);
  console.log(
    `600 MiB frame without a newline: cut off after ${(sent / 1024 / 1024).toFixed(0)} MiB in ${cut.toFixed(0)} ms; monkd ${exited ? 'DIED' : 'alive'}, monk info then ${after.toFixed(0)} ms`,
  );
} finally {
  for (const socket of held) socket.destroy();
  daemon.kill('SIGTERM');
  if (!exited) await new Promise((r) => daemon.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
