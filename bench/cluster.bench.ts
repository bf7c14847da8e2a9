// Issue "masterless cluster" figures, with real processes on loopback, side by side with Serf:
// - time for one desired-state change (a `templates.put`) to reach every peer, for 5 and 20 monkd processes
//   (p50, p99; target p99 < 500 ms at 20), against a Serf user event reaching 5 and 20 agents;
// - time until every survivor has marked a `kill -9`ed peer dead, against Serf's `member-failed`;
// - a peer that missed 1,000 changes: time, bytes received and on-disk growth to catch up after a restart;
// - resident memory of one monkd in the 20-peer cluster; false suspicions along the way.
// Observation loads neither system: monk's arrivals are read from each peer's graph log (inotify) and its
// membership changes from its log; Serf's from an event handler that timestamps each event. Document growth
// after 100,000 observed-status updates and in-process catch-up bytes: packages/graph/bench/graph.bench.ts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
// The root has no dependency on workspace packages: read them from source, as `--conditions=@monk/source` does.
import {
  createMonkClient,
  createUnixSocketTransport,
  type MethodParams,
  type MonkClient,
  type PeerEntry,
} from '../packages/sdk/src/index.ts';
import {
  createNodeFileSource,
  loadTemplates,
  type TemplateRecord,
} from '../packages/monkscript/src/index.ts';

const root = join(import.meta.dirname, '..');
const monkdBin = join(root, 'bin/monkd');
const sizes = [5, 20] as const;
type Size = (typeof sizes)[number];
const disseminationRounds: Record<Size, number> = { 5: 100, 20: 100 };
const detectionRounds = 3;
const missed = 1_000;
const missedBatch = 10;
const logPollMs = 20;
const benchDeadlineMs = 15 * 60_000;
const seed = Math.floor(Math.random() * 2 ** 31);

const scratch = mkdtempSync(join(tmpdir(), 'monk-cluster-bench-'));
const children = new Set<ChildProcess>();
const run = promisify(execFile);

// Deterministic choice of writers and victims for a printed seed (mulberry32).
let state = seed;
function random(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

const ms = (value: number): string => `${value.toFixed(0)} ms`;
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

function spawnTracked(command: string, args: readonly string[], logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(command, [...args], { stdio: ['ignore', out, out] });
  closeSync(out);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Polls `check(item)` for every item concurrently until each returned a number (a time) once, and returns
 * those. A check that throws counts as not yet (a restarting peer). Throws after `timeoutMs`.
 */
async function untilEach<T>(
  items: readonly T[],
  check: (item: T) => Promise<number | undefined>,
  options: { intervalMs: number; timeoutMs: number; what: string },
): Promise<number[]> {
  const deadline = performance.now() + options.timeoutMs;
  return Promise.all(
    items.map(async (item) => {
      for (;;) {
        const at = await check(item).catch(() => undefined);
        if (at !== undefined) return at;
        if (performance.now() > deadline) {
          throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
        }
        await sleep(options.intervalMs);
      }
    }),
  );
}

/** Resolves like `promise`, or throws once `ms` have passed. */
async function within<T>(promise: Promise<T> | undefined, bound: { ms: number; what: string }): Promise<T> {
  if (promise === undefined) throw new Error(`nothing to wait for: ${bound.what}`);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${bound.ms} ms waiting for ${bound.what}`)),
      bound.ms,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A loopback port free for both TCP and UDP right now, other than those in `avoid`. */
async function freePort(avoid: ReadonlySet<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    // Serf binds the same port for TCP and UDP.
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree && !avoid.has(port)) return port;
  }
}

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

function dirBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += dirBytes(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

/** Bytes received so far on each open TCP connection of process `pid` (from `ss -tinp`). */
async function tcpBytesReceived(pid: number | undefined): Promise<number[]> {
  const { stdout } = await run('ss', ['-tinpH']);
  const connections: number[] = [];
  let ours = false;
  for (const line of stdout.split('\n')) {
    if (!/^\s/.test(line)) ours = line.includes(`pid=${pid},`);
    else if (ours) connections.push(Number(/bytes_received:(\d+)/.exec(line)?.[1] ?? 0));
  }
  return connections;
}

/** Reads what was appended to `file` since the last call (from its current end on the first). */
function createTail(file: string, options: { fromStart: boolean }): () => Buffer {
  let offset = options.fromStart || !existsSync(file) ? 0 : statSync(file).size;
  return () => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return Buffer.alloc(0);
    }
    if (size < offset) offset = 0; // truncated (compaction)
    if (size === offset) return Buffer.alloc(0);
    const chunk = Buffer.alloc(size - offset);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, chunk, 0, chunk.length, offset);
    } finally {
      closeSync(fd);
    }
    offset = size;
    return chunk;
  };
}

// ---------------------------------------------------------------------------------------------------------
// monk

interface MonkPeer {
  readonly name: string;
  readonly dataDir: string;
  readonly log: string;
  readonly client: MonkClient;
  child: ChildProcess;
  id: string;
}

async function launchMonkd(peer: Omit<MonkPeer, 'child' | 'id'>): Promise<ChildProcess> {
  const child = spawnTracked(
    monkdBin,
    [
      ...['--data-dir', peer.dataDir, '--name', peer.name, '--no-mesh'],
      ...['--p2p-host', '127.0.0.1', '--p2p-port', '0'],
      // info: membership changes are logged ("peer NAME is dead"), with a timestamp
      ...['--log-level', 'info'],
    ],
    peer.log,
  );
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (
      await peer.client.info().then(
        () => true,
        () => false,
      )
    )
      return child;
    await sleep(100);
  }
  throw new Error(`monkd ${peer.name} did not start:\n${readFileSync(peer.log, 'utf8')}`);
}

async function startMonkd(name: string): Promise<MonkPeer> {
  const dataDir = join(scratch, name);
  mkdirSync(dataDir);
  const client = createMonkClient({
    transport: createUnixSocketTransport({ path: join(dataDir, 'monkd.sock') }),
  });
  const base = { name, dataDir, log: join(dataDir, 'monkd.log'), client };
  const child = await launchMonkd(base);
  return { ...base, child, id: (await client.info()).peerId };
}

const peersOf = (peer: MonkPeer): Promise<PeerEntry[]> =>
  peer.client.call('cluster.peers', {}) as Promise<PeerEntry[]>;

const allAlive =
  (size: number) =>
  async (peer: MonkPeer): Promise<number | undefined> => {
    const list = await peersOf(peer);
    return list.length === size && list.every((p) => p.state === 'alive') ? performance.now() : undefined;
  };

async function formMonkCluster(size: number): Promise<MonkPeer[]> {
  const peers: MonkPeer[] = [];
  // Five at a time: booting Node is CPU-bound, and two cores are all there is.
  for (let i = 0; i < size; i += 5) {
    const names = Array.from({ length: Math.min(5, size - i) }, (_, j) => `m${size}-${i + j}`);
    peers.push(...(await Promise.all(names.map(startMonkd))));
  }
  const [first, ...rest] = peers as [MonkPeer, ...MonkPeer[]];
  await first.client.call('cluster.new', { name: `bench${size}` });
  // Each newcomer joins with a token from the peer that joined before it, as the e2e test does.
  let issuer = first;
  for (const peer of rest) {
    const { token } = (await issuer.client.call('cluster.joinToken', { ttlSeconds: 600, role: 'peer' })) as {
      token: string;
    };
    await peer.client.call('cluster.join', { token });
    issuer = peer;
  }
  await untilEach(peers, allAlive(size), {
    intervalMs: 250,
    timeoutMs: 120_000,
    what: `every peer to see ${size} alive`,
  });
  return peers;
}

async function putTemplates(peer: MonkPeer, records: readonly TemplateRecord[]): Promise<void> {
  await peer.client.putTemplates({
    templates: records as unknown as MethodParams<'templates.put'>['templates'],
  });
}

/** Template records `bench/{name}` for each name, loaded through MonkScript as `monk load` does. */
async function templateRecords(names: readonly string[]): Promise<TemplateRecord[]> {
  const lines = ['namespace: bench', ''];
  for (const name of names) {
    lines.push(`${name}:`, '  defines: runnable', '  containers:', '    c:');
    lines.push('      image: monk-local/busybox', '      bash: exec sleep 3600', '');
  }
  const file = join(scratch, `${names[0] ?? 'none'}.yaml`);
  writeFileSync(file, lines.join('\n'));
  const { templates } = await loadTemplates({ entries: [file], files: createNodeFileSource() });
  return templates;
}

/**
 * Watches a peer's graph log (inotify, plus a slow re-scan in case an event is missed) and notes when
 * each marker (a template name, which Yjs keeps as UTF-8 in the update) first appears in it: the moment
 * the peer applied and stored the change, observed without asking the peer anything.
 */
interface GraphWatch {
  when(marker: string): Promise<number>;
  close(): void;
}

function watchGraph(dataDir: string, markers: readonly string[]): GraphWatch {
  const dir = join(dataDir, 'graph');
  const logTail = createTail(join(dir, 'graph.log'), { fromStart: false });
  const seenAt = new Map<string, number>();
  const waiting = new Map<string, Array<(at: number) => void>>();
  let overlap = '';
  const found = (text: string, at: number): void => {
    for (const marker of markers) {
      if (seenAt.has(marker) || !text.includes(marker)) continue;
      seenAt.set(marker, at);
      for (const resolve of waiting.get(marker) ?? []) resolve(at);
      waiting.delete(marker);
    }
  };
  const scan = (): void => {
    const at = performance.now();
    const chunk = logTail();
    if (chunk.length === 0) return;
    const text = overlap + chunk.toString('latin1');
    overlap = text.slice(-64);
    found(text, at);
    // A compaction may have moved a marker from the log into the snapshot between two scans.
    const snapshot = join(dir, 'graph.snapshot');
    if (existsSync(snapshot)) found(readFileSync(snapshot).toString('latin1'), at);
  };
  const watcher = watch(dir, scan);
  const timer = setInterval(scan, 100);
  return {
    when: (marker) => {
      const at = seenAt.get(marker);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve) => waiting.set(marker, [...(waiting.get(marker) ?? []), resolve]));
    },
    close: () => {
      watcher.close();
      clearInterval(timer);
    },
  };
}

interface MembershipChange {
  readonly atMs: number;
  readonly observer: string;
  readonly subject: string;
  readonly state: string;
}

/** The membership changes a peer logged (`peer NAME is STATE`), with their wall-clock times. */
function membershipChanges(peer: MonkPeer, text: string): MembershipChange[] {
  const changes: MembershipChange[] = [];
  for (const line of text.split('\n')) {
    const match = /"time":"([^"]+)".*"message":"peer (\S+) is (\w+)"/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined) continue;
    changes.push({ atMs: Date.parse(match[1]), observer: peer.name, subject: match[2], state: match[3] });
  }
  return changes;
}

/** A peer taken down on purpose, from then until every peer saw it alive again. */
interface Outage {
  readonly name: string;
  readonly fromMs: number;
  toMs: number;
}

interface DisseminationFigures {
  /** Until the change was in every peer's graph log. */
  readonly stored: number[];
  /** Until every peer listed it (one templates.list sent to each peer as soon as its log had it). */
  readonly listed: number[];
}

async function monkDissemination(peers: readonly MonkPeer[]): Promise<DisseminationFigures> {
  const size = peers.length as Size;
  const names = Array.from(
    { length: disseminationRounds[size] },
    (_, round) => `d${size}r${String(round).padStart(4, '0')}`,
  );
  const records = await templateRecords(names);
  const watches = peers.map((peer) => watchGraph(peer.dataDir, names));
  const stored: number[] = [];
  const listed: number[] = [];
  try {
    for (const [round, record] of records.entries()) {
      const name = names[round] ?? '';
      const writer = peers[Math.floor(random() * peers.length)];
      if (writer === undefined) throw new Error('no writer');
      const started = performance.now();
      await putTemplates(writer, [record]);
      const arrivals = await Promise.all(
        peers.map(async (peer, i) => {
          const storedAt = await within(watches[i]?.when(name), {
            ms: 30_000,
            what: `${name} in ${peer.name}'s graph log`,
          });
          const [listedAt] = await untilEach(
            [peer],
            async (p) =>
              (await p.client.listTemplates()).some((t) => t.path === record.path)
                ? performance.now()
                : undefined,
            { intervalMs: 10, timeoutMs: 30_000, what: `${peer.name} to list ${record.path}` },
          );
          return { storedAt: storedAt ?? Number.NaN, listedAt: listedAt ?? Number.NaN };
        }),
      );
      stored.push(Math.max(...arrivals.map((a) => a.storedAt)) - started);
      listed.push(Math.max(...arrivals.map((a) => a.listedAt)) - started);
      await sleep(100 + random() * 100);
    }
  } finally {
    for (const w of watches) w.close();
  }
  return { stored, listed };
}

async function monkDetection(peers: MonkPeer[], outages: Outage[]): Promise<number[]> {
  const samples: number[] = [];
  const offset = Math.floor(random() * (peers.length - 1));
  for (let round = 0; round < detectionRounds; round++) {
    // Never the first peer (restarted peers rejoin through the ones they know); a new victim each round.
    const victim = peers[1 + ((offset + round) % (peers.length - 1))];
    if (victim === undefined) throw new Error('no victim');
    const survivors = peers.filter((p) => p !== victim);
    const tails = new Map(survivors.map((p) => [p, createTail(p.log, { fromStart: false })]));
    const logged = new Map<MonkPeer, string>();
    const outage: Outage = { name: victim.name, fromMs: Date.now(), toMs: Number.POSITIVE_INFINITY };
    outages.push(outage);
    await stop(victim.child, 'SIGKILL');
    const deadAt = await untilEach(
      survivors,
      async (peer) => {
        logged.set(peer, (logged.get(peer) ?? '') + (tails.get(peer)?.().toString('utf8') ?? ''));
        return membershipChanges(peer, logged.get(peer) ?? '').find(
          (c) => c.subject === victim.name && c.state === 'dead',
        )?.atMs;
      },
      { intervalMs: logPollMs, timeoutMs: 60_000, what: `every survivor to log ${victim.name} dead` },
    );
    samples.push(Math.max(...deadAt) - outage.fromMs);
    // What the log said is what the API says.
    for (const peer of survivors) {
      const entry = (await peersOf(peer)).find((p) => p.id === victim.id);
      if (entry?.state !== 'dead') throw new Error(`${peer.name} lists ${victim.name} as ${entry?.state}`);
    }
    victim.child = await launchMonkd(victim);
    await untilEach(peers, allAlive(peers.length), {
      intervalMs: 250,
      timeoutMs: 120_000,
      what: `${victim.name} alive again everywhere`,
    });
    outage.toMs = Date.now();
  }
  return samples;
}

interface CatchUpFigures {
  readonly writeMs: number;
  readonly fromSpawnMs: number;
  readonly fromApiMs: number;
  readonly diskBytes: number;
  readonly tcpBytes: number[];
  readonly quietTcpBytes: number[];
}

async function monkCatchUp(peers: readonly MonkPeer[], outages: Outage[]): Promise<CatchUpFigures> {
  const [, writer, witness, , laggard] = peers;
  if (writer === undefined || witness === undefined || laggard === undefined) throw new Error('need 5 peers');
  const names = Array.from({ length: missed }, (_, i) => `away${String(i).padStart(4, '0')}`);
  const records = await templateRecords(names);
  const paths = new Set(records.map((r) => r.path));
  const hasAll = async (peer: MonkPeer): Promise<number | undefined> =>
    (await peer.client.listTemplates()).filter((t) => paths.has(t.path)).length === paths.size
      ? performance.now()
      : undefined;
  const outage: Outage = { name: laggard.name, fromMs: Date.now(), toMs: Number.POSITIVE_INFINITY };
  outages.push(outage);

  await stop(laggard.child, 'SIGTERM');
  const graphDir = join(laggard.dataDir, 'graph');
  const diskBefore = dirBytes(graphDir);
  const writeStarted = performance.now();
  for (let i = 0; i < records.length; i += missedBatch) {
    await putTemplates(writer, records.slice(i, i + missedBatch));
  }
  const writeMs = performance.now() - writeStarted;
  await untilEach([witness], hasAll, { intervalMs: 100, timeoutMs: 120_000, what: 'a witness to list all' });

  const spawned = performance.now();
  laggard.child = await launchMonkd(laggard);
  const apiUp = performance.now();
  const [caughtUp = Number.NaN] = await untilEach([laggard], hasAll, {
    intervalMs: 10,
    timeoutMs: 120_000,
    what: 'the restarted peer to list all it missed',
  });
  const tcpBytes = await tcpBytesReceived(laggard.child.pid);
  const diskBytes = dirBytes(graphDir) - diskBefore;

  // Baseline: the same restart with nothing missed, bytes sampled the same time after spawning.
  await stop(laggard.child, 'SIGTERM');
  const quietSpawned = performance.now();
  laggard.child = await launchMonkd(laggard);
  await sleep(Math.max(0, caughtUp - spawned - (performance.now() - quietSpawned)));
  const quietTcpBytes = await tcpBytesReceived(laggard.child.pid);
  await untilEach(peers, allAlive(peers.length), {
    intervalMs: 250,
    timeoutMs: 120_000,
    what: `${laggard.name} alive again everywhere`,
  });
  outage.toMs = Date.now();
  return {
    writeMs,
    fromSpawnMs: caughtUp - spawned,
    fromApiMs: caughtUp - apiUp,
    diskBytes,
    tcpBytes,
    quietTcpBytes,
  };
}

/** A stretch of a cluster's life (formed, dissemination, detection...), from `fromMs` to the next one. */
interface Phase {
  readonly label: string;
  readonly fromMs: number;
}

/**
 * Summarises verdicts (`suspect`, `dead`, `failed`) about members that were up, by members that were up (a
 * member taken down on purpose is excused as subject and as observer from its stop until every member saw
 * it alive again), per phase.
 */
function falseVerdicts(
  verdicts: readonly MembershipChange[],
  context: { phases: readonly Phase[]; outages: readonly Outage[] },
): string {
  const down = (name: string, atMs: number): boolean =>
    context.outages.some((o) => o.name === name && atMs >= o.fromMs && atMs <= o.toMs);
  const counts = new Map<string, number>();
  const subjects = new Map<string, number>();
  for (const v of verdicts) {
    if (v.state === 'alive' || v.state === 'left') continue;
    const phase = context.phases.findLast((p) => p.fromMs <= v.atMs);
    if (phase === undefined || down(v.subject, v.atMs) || down(v.observer, v.atMs)) continue;
    const key = `${phase.label} ${v.state}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (v.state !== 'suspect')
      subjects.set(`${v.subject} ${v.state}`, (subjects.get(`${v.subject} ${v.state}`) ?? 0) + 1);
  }
  if (counts.size === 0) return 'none';
  const byPhase = [...counts].map(([key, n]) => `${key} ×${n}`).join(', ');
  const about = [...subjects].map(([key, n]) => `${key} by ${n}`).join(', ');
  return about === '' ? byPhase : `${byPhase} (${about})`;
}

// Serf

interface SerfAgent {
  readonly name: string;
  readonly bind: number;
  readonly rpc: number;
  readonly events: string;
  child: ChildProcess;
}

// Each agent's handler appends "<unix ns> <event> <user event name | member name>" to its own file.
const handler = join(scratch, 'serf-handler.sh');
writeFileSync(
  handler,
  [
    '#!/bin/sh',
    't=$(date +%s%N)',
    'if [ "$SERF_EVENT" = user ]; then',
    '  cat >/dev/null',
    '  echo "$t user $SERF_USER_EVENT" >> "$1"',
    'else',
    '  while read -r name rest; do echo "$t $SERF_EVENT $name" >> "$1"; done',
    'fi',
    '',
  ].join('\n'),
);

interface SerfEventLine {
  readonly atMs: number;
  readonly event: string;
  readonly subject: string;
}

function serfEvents(agent: SerfAgent): SerfEventLine[] {
  let text: string;
  try {
    text = readFileSync(agent.events, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [ns = '0', event = '', subject = ''] = line.split(' ');
      return { atMs: Number(BigInt(ns) / 1000n) / 1000, event, subject };
    });
}

function launchSerf(agent: Omit<SerfAgent, 'child'>, joinPort?: number): ChildProcess {
  return spawnTracked(
    'serf',
    [
      'agent',
      `-node=${agent.name}`,
      `-bind=127.0.0.1:${agent.bind}`,
      `-rpc-addr=127.0.0.1:${agent.rpc}`,
      `-event-handler=sh ${handler} ${agent.events}`,
      '-log-level=warn',
      ...(joinPort === undefined ? [] : [`-join=127.0.0.1:${joinPort}`]),
    ],
    `${agent.events}.log`,
  );
}

async function serfAlive(agent: SerfAgent): Promise<Set<string>> {
  const { stdout } = await run('serf', ['members', `-rpc-addr=127.0.0.1:${agent.rpc}`, '-status=alive']);
  return new Set(
    stdout
      .split('\n')
      .map((line) => line.split(/\s+/)[0] ?? '')
      .filter((n) => n !== ''),
  );
}

async function waitSerfUp(agent: SerfAgent): Promise<void> {
  await untilEach([agent], async (a) => ((await serfAlive(a)).has(a.name) ? 0 : undefined), {
    intervalMs: 100,
    timeoutMs: 30_000,
    what: `serf agent ${agent.name} to answer`,
  });
}

async function formSerfCluster(size: number): Promise<SerfAgent[]> {
  const agents: SerfAgent[] = [];
  for (let i = 0; i < size; i++) {
    const bind = await freePort(new Set());
    const base = {
      name: `s${size}-${i}`,
      bind,
      rpc: await freePort(new Set([bind])),
      events: join(scratch, `s${size}-${i}.events`),
    };
    const agent = { ...base, child: launchSerf(base, agents[0]?.bind) };
    agents.push(agent);
    await waitSerfUp(agent);
  }
  await untilEach(agents, async (a) => ((await serfAlive(a)).size === size ? 0 : undefined), {
    intervalMs: 250,
    timeoutMs: 60_000,
    what: `every serf agent to see ${size} alive`,
  });
  return agents;
}

// Serf's RPC protocol is msgpack over TCP: a header map, then a body map. Only what `event` needs is here.
function encodeMsgpack(value: unknown, out: number[]): void {
  if (typeof value === 'boolean') out.push(value ? 0xc3 : 0xc2);
  else if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new Error(`cannot encode ${value}`);
    if (value < 0x80) out.push(value);
    else out.push(0xce, (value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
  } else if (typeof value === 'string') {
    const bytes = Buffer.from(value);
    if (bytes.length < 32) out.push(0xa0 | bytes.length);
    else if (bytes.length < 256) out.push(0xd9, bytes.length);
    else throw new Error('string too long');
    out.push(...bytes);
  } else if (value instanceof Uint8Array) {
    if (value.length >= 256) throw new Error('bytes too long');
    out.push(0xc4, value.length, ...value);
  } else if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length >= 16) throw new Error('map too large');
    out.push(0x80 | entries.length);
    for (const [k, v] of entries) {
      encodeMsgpack(k, out);
      encodeMsgpack(v, out);
    }
  } else throw new Error(`cannot encode ${typeof value}`);
}

class Incomplete extends Error {}

/** Decodes one msgpack value at `pos` (maps, strings, integers, nil, booleans: what response headers hold). */
function decodeMsgpack(buf: Buffer, pos: number): { value: unknown; pos: number } {
  const need = (n: number): void => {
    if (pos + n > buf.length) throw new Incomplete();
  };
  need(1);
  const byte = buf[pos++] ?? 0;
  const str = (length: number): { value: string; pos: number } => {
    need(length);
    return { value: buf.toString('utf8', pos, pos + length), pos: pos + length };
  };
  const map = (count: number): { value: Record<string, unknown>; pos: number } => {
    const result: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const key = decodeMsgpack(buf, pos);
      const value = decodeMsgpack(buf, key.pos);
      result[String(key.value)] = value.value;
      pos = value.pos;
    }
    return { value: result, pos };
  };
  if (byte < 0x80) return { value: byte, pos };
  if (byte >= 0x80 && byte <= 0x8f) return map(byte & 0x0f);
  if (byte >= 0xa0 && byte <= 0xbf) return str(byte & 0x1f);
  if (byte >= 0xe0) return { value: byte - 0x100, pos };
  switch (byte) {
    case 0xc0:
      return { value: null, pos };
    case 0xc2:
      return { value: false, pos };
    case 0xc3:
      return { value: true, pos };
    case 0xcc:
      need(1);
      return { value: buf.readUInt8(pos), pos: pos + 1 };
    case 0xcd:
      need(2);
      return { value: buf.readUInt16BE(pos), pos: pos + 2 };
    case 0xce:
      need(4);
      return { value: buf.readUInt32BE(pos), pos: pos + 4 };
    case 0xcf:
      need(8);
      return { value: Number(buf.readBigUInt64BE(pos)), pos: pos + 8 };
    case 0xd9:
      need(1);
      pos += 1;
      return str(buf.readUInt8(pos - 1));
    case 0xda:
      need(2);
      pos += 2;
      return str(buf.readUInt16BE(pos - 2));
    case 0xde:
      need(2);
      pos += 2;
      return map(buf.readUInt16BE(pos - 2));
    default:
      throw new Error(`unexpected msgpack byte 0x${byte.toString(16)} in a serf response`);
  }
}

interface SerfRpc {
  event(name: string): Promise<void>;
  close(): void;
}

async function connectSerfRpc(port: number): Promise<SerfRpc> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  let buffer = Buffer.alloc(0);
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      let decoded: { value: unknown; pos: number };
      try {
        decoded = decodeMsgpack(buffer, 0);
      } catch (error) {
        if (error instanceof Incomplete) return;
        throw error;
      }
      buffer = buffer.subarray(decoded.pos);
      const header = decoded.value as { Seq?: number; Error?: string };
      const pending = waiting.get(header.Seq ?? -1);
      waiting.delete(header.Seq ?? -1);
      if (header.Error !== undefined && header.Error !== '')
        pending?.reject(new Error(`serf rpc: ${header.Error}`));
      else pending?.resolve();
    }
  });
  let seq = 0;
  const request = (command: string, body: object): Promise<void> =>
    new Promise((resolve, reject) => {
      const out: number[] = [];
      const id = seq++;
      encodeMsgpack({ Command: command, Seq: id }, out);
      encodeMsgpack(body, out);
      waiting.set(id, { resolve, reject });
      socket.write(Buffer.from(out));
    });
  await request('handshake', { Version: 1 });
  return {
    event: (name) => request('event', { Name: name, Payload: new Uint8Array(0), Coalesce: false }),
    close: () => socket.destroy(),
  };
}

interface SerfSpread {
  readonly samples: number[];
  /** Rounds where the last agent got the event more than a second after the others' median. */
  readonly stragglers: string[];
}

async function serfDissemination(agents: readonly SerfAgent[]): Promise<SerfSpread> {
  const size = agents.length as Size;
  const rpcs = await Promise.all(agents.map((a) => connectSerfRpc(a.rpc)));
  const samples: number[] = [];
  const stragglers: string[] = [];
  try {
    for (let round = 0; round < disseminationRounds[size]; round++) {
      const name = `d${size}r${round}`;
      const origin = Math.floor(random() * rpcs.length);
      const started = Date.now();
      await rpcs[origin]?.event(name);
      // The handler's own timestamp, so reading the files adds nothing. Serf repairs a lost gossip message
      // by its 30 s push-pull, hence the long bound.
      const arrivals = await untilEach(
        agents,
        async (a) => serfEvents(a).find((e) => e.event === 'user' && e.subject === name)?.atMs,
        { intervalMs: 5, timeoutMs: 60_000, what: `serf event ${name} on every agent` },
      );
      const last = Math.max(...arrivals);
      samples.push(last - started);
      if (last - percentile(arrivals, 0.5) > 1_000) {
        const who = agents[arrivals.indexOf(last)]?.name ?? '?';
        stragglers.push(`${name} from ${agents[origin]?.name ?? '?'}: ${who} after ${ms(last - started)}`);
      }
      await sleep(100 + random() * 100);
    }
  } finally {
    for (const rpc of rpcs) rpc.close();
  }
  return { samples, stragglers };
}

/** The agents' own warnings and errors (they run with -log-level=warn). */
function serfWarnings(agents: readonly SerfAgent[]): string[] {
  return agents.flatMap((a) => {
    try {
      return readFileSync(`${a.events}.log`, 'utf8')
        .split('\n')
        .filter((line) => /\[(WARN|ERR)\]/.test(line))
        .map((line) => `${a.name}: ${line.trim()}`);
    } catch {
      return [];
    }
  });
}

async function serfDetection(agents: SerfAgent[], outages: Outage[]): Promise<number[]> {
  const samples: number[] = [];
  const offset = Math.floor(random() * (agents.length - 1));
  for (let round = 0; round < detectionRounds; round++) {
    const victim = agents[1 + ((offset + round) % (agents.length - 1))];
    if (victim === undefined) throw new Error('no victim');
    const survivors = agents.filter((a) => a !== victim);
    const outage: Outage = { name: victim.name, fromMs: Date.now(), toMs: Number.POSITIVE_INFINITY };
    outages.push(outage);
    await stop(victim.child, 'SIGKILL');
    const failedAt = await untilEach(
      survivors,
      async (a) =>
        serfEvents(a).find(
          (e) => e.event === 'member-failed' && e.subject === victim.name && e.atMs >= outage.fromMs,
        )?.atMs,
      { intervalMs: logPollMs, timeoutMs: 60_000, what: `every serf agent to see ${victim.name} failed` },
    );
    samples.push(Math.max(...failedAt) - outage.fromMs);
    victim.child = launchSerf(victim, agents[0]?.bind);
    await untilEach(agents, async (a) => ((await serfAlive(a)).size === agents.length ? 0 : undefined), {
      intervalMs: 250,
      timeoutMs: 60_000,
      what: `${victim.name} alive again on every agent`,
    });
    outage.toMs = Date.now();
  }
  return samples;
}

/** Every member-failed event the agents logged, as verdicts. */
function serfVerdicts(agents: readonly SerfAgent[]): MembershipChange[] {
  return agents.flatMap((a) =>
    serfEvents(a)
      .filter((e) => e.event === 'member-failed')
      .map((e) => ({ atMs: e.atMs, observer: a.name, subject: e.subject, state: 'failed' })),
  );
}

// ---------------------------------------------------------------------------------------------------------

const cleanUpNow = (): void => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
};
const watchdog = setTimeout(() => {
  console.error(`cluster bench: still running after ${benchDeadlineMs / 60_000} min; giving up`);
  cleanUpNow();
  process.exit(1);
}, benchDeadlineMs);
const interrupted = (): void => {
  cleanUpNow();
  process.exit(130);
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);

const row = (label: string, values: readonly number[]): string =>
  `  ${label.padEnd(46)} p50 ${ms(percentile(values, 0.5)).padStart(7)}   p99 ${ms(percentile(values, 0.99)).padStart(7)}   max ${ms(Math.max(...values)).padStart(7)}   (n=${values.length})`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface Figures {
  readonly dissemination: number[];
  readonly detection: number[];
  /** monk only: until every peer's API listed the change. */
  readonly listed?: number[];
}

/** CPU the processes used over `windowMs` while left alone: percent of one core, median per process and sum. */
async function idleCpu(pids: ReadonlyArray<number | undefined>, windowMs: number): Promise<string> {
  const ticksPerSecond = Number((await run('getconf', ['CLK_TCK'])).stdout.trim());
  const ticks = (pid: number | undefined): number => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  };
  const before = pids.map(ticks);
  await sleep(windowMs);
  const percent = pids.map(
    (pid, i) => ((ticks(pid) - (before[i] ?? 0)) / ticksPerSecond / (windowMs / 1000)) * 100,
  );
  return `${percentile(percent, 0.5).toFixed(1)} % of a core each (median), ${sum(percent).toFixed(0)} % in all`;
}

const idleWindowMs = 5_000;

async function benchMonk(size: Size): Promise<Figures> {
  const formStarted = performance.now();
  const peers = await formMonkCluster(size);
  console.log(
    `monk, ${size} peers: cluster formed in ${ms(performance.now() - formStarted)} (load ${load()})`,
  );
  const phases: Phase[] = [{ label: 'idle', fromMs: Date.now() }];
  const outages: Outage[] = [];
  try {
    console.log(
      `  CPU while idle for ${idleWindowMs / 1000} s:  ${await idleCpu(
        peers.map((p) => p.child.pid),
        idleWindowMs,
      )}`,
    );
    if (size === 20) {
      const rss = peers.map((p) => rssMiB(p.child.pid));
      console.log(
        `  RSS of one monkd:                ${percentile(rss, 0.5).toFixed(0)} MiB median, ${Math.max(...rss).toFixed(0)} MiB max (VmRSS)`,
      );
    }
    phases.push({ label: 'dissemination', fromMs: Date.now() });
    const spread = await monkDissemination(peers);
    console.log(row(`one change stored by all ${size} peers`, spread.stored));
    console.log(row(`one change listed by all ${size} peers`, spread.listed));
    console.log(
      "    (from the putTemplates call on a random peer to: the change in the last peer's graph log, seen\n" +
        '     through inotify; the last peer listing it, one templates.list sent to each peer when its log had it)',
    );
    phases.push({ label: 'detection', fromMs: Date.now() });
    const detection = await monkDetection(peers, outages);
    console.log(row(`kill -9 → dead on all ${size - 1} survivors`, detection));
    console.log(
      `    (to the last survivor's log line \`peer NAME is dead\`, checked against cluster.peers; killed ${outages.map((o) => o.name).join(', ')})`,
    );
    if (size === 5) {
      phases.push({ label: 'catch-up', fromMs: Date.now() });
      const c = await monkCatchUp(peers, outages);
      console.log(
        `  a peer that missed ${missed} changes (written in ${ms(c.writeMs)}, ${missed / missedBatch} putTemplates of ${missedBatch}):\n` +
          `    restart → lists all ${missed}:             ${ms(c.fromSpawnMs)} (${ms(c.fromApiMs)} after its API answered)\n` +
          `    TCP bytes received by then:             ${kib(sum(c.tcpBytes))} over ${c.tcpBytes.length} connections (ss), ` +
          `per connection ${c.tcpBytes.map((b) => kib(b)).join(', ')}\n` +
          `      same restart with nothing missed:     ${kib(sum(c.quietTcpBytes))} in the same time\n` +
          `    its graph directory grew by:            ${kib(c.diskBytes)}`,
      );
    }
    const verdicts = peers.flatMap((p) => membershipChanges(p, readFileSync(p.log, 'utf8')));
    console.log(`  false verdicts about peers that were up: ${falseVerdicts(verdicts, { phases, outages })}`);
    return { dissemination: spread.stored, detection, listed: spread.listed };
  } finally {
    await Promise.all(peers.map((p) => stop(p.child, 'SIGKILL')));
  }
}

async function benchSerf(size: Size): Promise<Figures> {
  const formStarted = performance.now();
  const agents = await formSerfCluster(size);
  console.log(
    `Serf, ${size} agents: cluster formed in ${ms(performance.now() - formStarted)} (load ${load()})`,
  );
  const phases: Phase[] = [{ label: 'idle', fromMs: Date.now() }];
  const outages: Outage[] = [];
  try {
    console.log(
      `  CPU while idle for ${idleWindowMs / 1000} s:  ${await idleCpu(
        agents.map((a) => a.child.pid),
        idleWindowMs,
      )}`,
    );
    if (size === 20) {
      const rss = agents.map((a) => rssMiB(a.child.pid));
      console.log(`  RSS of one serf agent:           ${percentile(rss, 0.5).toFixed(0)} MiB median`);
    }
    phases.push({ label: 'dissemination', fromMs: Date.now() });
    const spread = await serfDissemination(agents);
    console.log(row(`one user event received by all ${size} agents`, spread.samples));
    console.log("    (from the RPC `event` on a random agent to the last agent's event-handler timestamp)");
    if (spread.stragglers.length > 0) {
      console.log(`    late (gossip lost, repaired by push-pull?): ${spread.stragglers.join('; ')}`);
    }
    phases.push({ label: 'detection', fromMs: Date.now() });
    const detection = await serfDetection(agents, outages);
    console.log(row(`kill -9 → member-failed on all ${size - 1} survivors`, detection));
    console.log(
      `    (to the last survivor's event-handler timestamp; killed ${outages.map((o) => o.name).join(', ')})`,
    );
    console.log(
      `  false verdicts about agents that were up: ${falseVerdicts(serfVerdicts(agents), { phases, outages })} (Serf reports no suspicions)`,
    );
    // A restarted agent refuting its own failure is expected; anything else is worth seeing.
    const victims = new Set(outages.map((o) => o.name));
    const warnings = serfWarnings(agents).filter(
      (w) => !(victims.has(w.slice(0, w.indexOf(':'))) && w.includes('Refuting a suspect message')),
    );
    if (warnings.length > 0) {
      console.log(`  agent warnings: ${warnings.length}, e.g.\n    ${warnings.slice(0, 5).join('\n    ')}`);
    }
    return { dissemination: spread.samples, detection };
  } finally {
    await Promise.all(agents.map((a) => stop(a.child, 'SIGKILL')));
  }
}

try {
  console.log(`machine: ${cpus().length} cores, load average ${load()} at start; seed ${seed}`);
  console.log(
    'caveat: every peer is a process on this one machine; at 20 peers that is 20 Node processes (see their\n' +
      'RSS below) sharing the cores with whatever else runs, so monk figures at 20 include CPU contention that\n' +
      'Serf (20 small Go processes) barely feels. Timings differ by design: monkd probes every 500 ms (250 ms\n' +
      'timeout) with a suspicion timeout of 3×max(1, log10 n) intervals (apps/monkd/src/cluster/cluster.ts);\n' +
      'Serf runs its default LAN profile (probe 1 s, suspicion\n' +
      '4×log10 n intervals, gossip every 200 ms).\n',
  );
  const monk = new Map<Size, Figures>();
  const serf = new Map<Size, Figures>();
  for (const size of sizes) {
    serf.set(size, await benchSerf(size));
    monk.set(size, await benchMonk(size));
    console.log('');
  }
  console.log(
    'monk / Serf, same machine, same number of processes (dissemination: stored in the graph log):',
  );
  for (const size of sizes) {
    const m = monk.get(size);
    const s = serf.get(size);
    if (m === undefined || s === undefined) continue;
    const p = (values: readonly number[], q: number): number => percentile(values, q);
    console.log(
      `  ${String(size).padStart(2)} peers: dissemination p50 ${ratio(p(m.dissemination, 0.5), p(s.dissemination, 0.5))}, ` +
        `p99 ${ratio(p(m.dissemination, 0.99), p(s.dissemination, 0.99))}; ` +
        `failure detection p50 ${ratio(p(m.detection, 0.5), p(s.detection, 0.5))}`,
    );
  }
  const at20 = monk.get(20);
  if (at20 !== undefined) {
    const stored = percentile(at20.dissemination, 0.99);
    const listed = percentile(at20.listed ?? [], 0.99);
    console.log(
      `target: dissemination p99 < 500 ms at 20 peers: stored by all ${ms(stored)} → ${stored < 500 ? 'met' : 'NOT met'}; ` +
        `listed by all ${ms(listed)} → ${listed < 500 ? 'met' : 'NOT met'}`,
    );
  }
  console.log(
    `load average at the end: ${load()}. p99 is the nearest-rank percentile of the rounds.\n` +
      'Document growth after 100,000 observed-status updates, in-process catch-up bytes: packages/graph/bench/graph.bench.ts.',
  );
} finally {
  clearTimeout(watchdog);
  await Promise.all([...children].map((c) => stop(c, 'SIGKILL')));
  rmSync(scratch, { recursive: true, force: true });
}
