// Issue 7 (hardening) figure: how long a peer whose graph log was damaged takes to be whole again from its
// neighbours, against the same peer restarting with an intact log, with real bin/monkd processes on
// loopback. The peer's log holds 1,000 template records; one byte near its start is flipped, so the salvage
// keeps almost nothing and the rest comes back over graph sync. "Whole" is what an operator sees: `monk info`
// no longer lists a problem, and `monk list` has every template.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMonkClient,
  createUnixSocketTransport,
  type InfoResult,
  type MonkClient,
} from '../packages/sdk/src/index.ts';
import { createNodeFileSource, loadTemplates } from '../packages/monkscript/src/index.ts';
import { until } from './poll.ts';

const root = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'monk-bench-damaged-'));
const templates = 1_000;
const rounds = 3;

interface Peer {
  readonly dir: string;
  readonly client: MonkClient;
  child?: ChildProcess;
}

function start(peer: Peer, name: string): void {
  peer.child = spawn(
    join(root, 'bin/monkd'),
    [
      '--no-mesh',
      '--data-dir',
      peer.dir,
      '--name',
      name,
      '--p2p-host',
      '127.0.0.1',
      '--p2p-port',
      '0',
      '--log-level',
      'warn',
    ],
    { stdio: 'ignore' },
  );
}

async function stop(peer: Peer): Promise<void> {
  const child = peer.child;
  if (child === undefined || child.exitCode !== null) return;
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

function makePeer(name: string): Peer {
  const dir = join(scratch, name);
  const client = createMonkClient({
    transport: createUnixSocketTransport({ path: join(dir, 'monkd.sock') }),
  });
  const peer: Peer = { dir, client };
  start(peer, name);
  return peer;
}

/** Restarts `peer` (after `damage`, if any) and returns ms until it has no problem and lists every template. */
async function timeToWhole(peer: Peer, damage: boolean): Promise<number> {
  await stop(peer);
  if (damage) {
    const log = join(peer.dir, 'graph', 'graph.log');
    const bytes = readFileSync(log);
    bytes[20] = (bytes[20] ?? 0) ^ 0x5a;
    writeFileSync(log, bytes);
  }
  const started = performance.now();
  start(peer, 'a');
  await until(async () => {
    const info = await peer.client.info();
    if (info.problems.length > 0) return undefined;
    return (await peer.client.listTemplates()).length >= templates ? true : undefined;
  }, 'the peer to be whole');
  return performance.now() - started;
}

const a = makePeer('a');
const b = makePeer('b');
try {
  await until(() => a.client.info(), 'a to start');
  await until(() => b.client.info(), 'b to start');
  await a.client.call('cluster.new', { name: 'bench' });
  const { token } = (await a.client.call('cluster.joinToken', { ttlSeconds: 600, role: 'peer' })) as {
    token: string;
  };
  await b.client.call('cluster.join', { token });
  // A thousand small records, written one call at a time as a busy cluster would.
  const lines = ['namespace: bench', ''];
  for (let i = 0; i < templates; i++) {
    lines.push(
      `t${i}:`,
      '  defines: runnable',
      '  containers:',
      '    c:',
      '      image: monk-local/busybox',
      '',
    );
  }
  const file = join(scratch, 'bench.yaml');
  writeFileSync(file, lines.join('\n'));
  const loaded = await loadTemplates({ entries: [file], files: createNodeFileSource() });
  for (let i = 0; i < loaded.templates.length; i += 10) {
    await a.client.putTemplates({
      templates: loaded.templates.slice(i, i + 10),
    });
  }
  await until(
    async () => ((await b.client.listTemplates()).length >= templates ? true : undefined),
    'b to hold every template',
  );

  const intact: number[] = [];
  const damaged: number[] = [];
  for (let round = 0; round < rounds; round++) {
    intact.push(await timeToWhole(a, false));
    damaged.push(await timeToWhole(a, true));
  }
  const median = (values: number[]): number =>
    [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? NaN;
  const info: InfoResult = await a.client.info();
  console.log(`graph of ${templates} templates; median of ${rounds} restarts of one of two peers`);
  console.log(`restart with an intact log, until whole:        ${median(intact).toFixed(0)} ms`);
  console.log(
    `restart with a damaged log, until whole again:  ${median(damaged).toFixed(0)} ms (${(median(damaged) / median(intact)).toFixed(2)}× the intact restart; recovered from peer b)`,
  );
  console.log(`problems afterwards: ${info.problems.length === 0 ? 'none' : JSON.stringify(info.problems)}`);
} finally {
  await stop(a);
  await stop(b);
  rmSync(scratch, { recursive: true, force: true });
}
