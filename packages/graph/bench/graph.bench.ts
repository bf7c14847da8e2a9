/**
 * Benchmarks of @monk/graph: run `node packages/graph/bench/graph.bench.ts` from the repository root.
 *
 * Prints: document bytes after 100,000 observed-status updates (plain Y.Map vs the graph's registers),
 * catch-up bytes and time for a replica that missed 1,000 updates, remote apply throughput, and file
 * store append throughput. Figures vary with the machine: compare ratios from one run.
 */
import { registerHooks } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ObservedWorkload, Workload } from '@monk/model';

// Read workspace packages from source, as the tests do, so no build is needed first.
registerHooks({
  resolve: (specifier, context, nextResolve) =>
    nextResolve(specifier, { ...context, conditions: [...context.conditions, '@monk/source'] }),
});
const Y = await import('yjs');
const { createGraph, createFileStore } = await import('../src/index.ts');

const updates = 100_000;
const missed = 1_000;
const liveWorkloads = [100, 1_000];
const base = Date.UTC(2025, 0, 1);

function steppingClock(): () => Date {
  let now = base;
  return () => new Date(now++);
}

function observed(peer: string, index: number, round: number): ObservedWorkload {
  return {
    workloadId: `ns/app#c@${index}`,
    peer,
    phase: round % 2 === 0 ? 'running' : 'ready',
    ready: round % 2 === 1,
    containerId: `c${index}`,
    restarts: round % 7,
    updatedAt: new Date(base + round).toISOString(),
  };
}

function workload(index: number, generation: number): Workload {
  return {
    id: `ns/app#c@${index}`,
    deployment: 'ns/app',
    runnable: 'ns/app',
    container: 'c',
    name: `app-c-${index}`,
    aliases: [],
    spec: {
      image: 'busybox',
      environment: { N: String(index) },
      ports: [],
      mounts: [],
      files: [],
      labels: {},
    },
    specHash: '0000000000000000',
    dependsOn: [],
    recovery: { restart: 'always', initialBackoffMs: 1000, maxBackoffMs: 60000 },
    owner: 'peer-a',
    state: 'running',
    generation,
  };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function line(label: string, value: string): void {
  console.log(`${label.padEnd(72)} ${value}`);
}

console.log(`@monk/graph benchmark (node ${process.version})\n`);

console.log(`1. Document size after ${updates.toLocaleString('en')} observed-status updates`);
for (const live of liveWorkloads) {
  const doc = new Y.Doc();
  const map = doc.getMap('observed');
  let start = performance.now();
  for (let i = 0; i < updates; i++) map.set(`p/ns/app#c@${i % live}`, observed('peer-a', i % live, i));
  const plainMs = performance.now() - start;
  const plainBytes = Y.encodeStateAsUpdate(doc).length;

  const graph = await createGraph({ peerId: 'peer-a', clock: steppingClock() });
  start = performance.now();
  for (let i = 0; i < updates; i++) graph.setObserved(observed('peer-a', i % live, i));
  const graphMs = performance.now() - start;
  const graphBytes = graph.encodeUpdateSince().length;
  await graph.close();

  const oneRound = new Y.Doc();
  for (let i = 0; i < live; i++) oneRound.getMap('observed').set(`p/ns/app#c@${i}`, observed('peer-a', i, i));
  const liveBytes = Y.encodeStateAsUpdate(oneRound).length;
  line(
    `   ${live} live workloads, plain Y.Map (live state alone: ${kib(liveBytes)})`,
    `${kib(plainBytes)} (${((plainMs / updates) * 1000).toFixed(1)} µs/update)`,
  );
  line(
    `   ${live} live workloads, graph observed registers`,
    `${kib(graphBytes)} (${((graphMs / updates) * 1000).toFixed(1)} µs/update)`,
  );
}

console.log(
  `\n2. Catch-up of a replica that missed ${missed.toLocaleString('en')} updates to a hot set of 100 of 1,000 workloads`,
);
async function catchUp(kind: 'observed' | 'workload'): Promise<{ bytes: number; ms: number; full: number }> {
  const a = await createGraph({ peerId: 'peer-a', clock: steppingClock() });
  const b = await createGraph({ peerId: 'peer-b', clock: steppingClock() });
  a.putWorkloads(Array.from({ length: 1000 }, (_, i) => workload(i, 0)));
  for (let i = 0; i < 1000; i++) a.setObserved(observed('peer-a', i, 0));
  b.applyRemoteUpdate(a.encodeUpdateSince(), 'peer-a');
  for (let i = 0; i < missed; i++) {
    if (kind === 'observed') a.setObserved(observed('peer-a', (i * 7) % 100, i + 1));
    else a.putWorkloads([workload((i * 7) % 100, i + 1)]);
  }
  const start = performance.now();
  const update = a.encodeUpdateSince(b.encodeStateVector());
  b.applyRemoteUpdate(update, 'peer-a');
  const ms = performance.now() - start;
  const full = a.encodeUpdateSince().length;
  await Promise.all([a.close(), b.close()]);
  return { bytes: update.length, ms, full };
}
for (const kind of ['observed', 'workload'] as const) {
  // Median of five runs: the first ones pay for JIT warm-up.
  const runs: Array<{ bytes: number; ms: number; full: number }> = [];
  for (let i = 0; i < 5; i++) runs.push(await catchUp(kind));
  const { bytes, full } = runs[0] ?? { bytes: 0, full: 0 };
  const ms = runs.map((run) => run.ms).sort((x, y) => x - y)[2] ?? 0;
  line(
    `   ${kind} updates: catch-up message (full state: ${kib(full)})`,
    `${kib(bytes)} in ${ms.toFixed(1)} ms`,
  );
}
{
  // The same catch-up if observed state lived in a plain Y.Map: Yjs always sends its whole delete set.
  const a = new Y.Doc();
  const b = new Y.Doc();
  for (let i = 0; i < updates; i++)
    a.getMap('observed').set(`p/${i % 1000}`, observed('peer-a', i % 1000, i));
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
  for (let i = 0; i < missed; i++) {
    a.getMap('observed').set(`p/${(i * 7) % 100}`, observed('peer-a', (i * 7) % 100, i));
  }
  const start = performance.now();
  const update = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b));
  Y.applyUpdate(b, update);
  line(
    `   observed updates in a plain Y.Map after ${updates.toLocaleString('en')} rewrites`,
    `${kib(update.length)} in ${(performance.now() - start).toFixed(1)} ms`,
  );
}

console.log('\n3. Remote apply throughput (one update per message)');
for (const kind of ['observed', 'workload'] as const) {
  const count = 10_000;
  const a = await createGraph({ peerId: 'peer-a', clock: steppingClock() });
  const b = await createGraph({ peerId: 'peer-b', clock: steppingClock() });
  const captured: Uint8Array[] = [];
  a.onLocalUpdate((update) => captured.push(update));
  for (let i = 0; i < count; i++) {
    if (kind === 'observed') a.setObserved(observed('peer-a', i % 1000, i));
    else a.putWorkloads([workload(i % 1000, i)]);
  }
  const start = performance.now();
  for (const update of captured) b.applyRemoteUpdate(update, 'peer-a');
  const ms = performance.now() - start;
  line(
    `   ${count.toLocaleString('en')} ${kind} updates`,
    `${Math.round((count / ms) * 1000).toLocaleString('en')} updates/s (${((ms / count) * 1000).toFixed(0)} µs each)`,
  );
  await Promise.all([a.close(), b.close()]);
}

console.log('\n4. File store (fsync before each append resolves)');
{
  const dir = await mkdtemp(join(tmpdir(), 'monk-graph-bench-'));
  try {
    const store = createFileStore({ dir, compactEvery: 0 });
    await store.load();
    const payload = new Uint8Array(200).fill(7);
    let start = performance.now();
    for (let i = 0; i < 200; i++) await store.append(payload);
    const sequentialMs = performance.now() - start;
    start = performance.now();
    await Promise.all(Array.from({ length: 5000 }, () => store.append(payload)));
    const concurrentMs = performance.now() - start;
    await store.close();
    line('   200 appends, each awaited', `${((sequentialMs / 200) * 1000).toFixed(0)} µs per durable append`);
    line(
      '   5,000 concurrent appends (group commit)',
      `${Math.round((5000 / concurrentMs) * 1000).toLocaleString('en')} appends/s`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
