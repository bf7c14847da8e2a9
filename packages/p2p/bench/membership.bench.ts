// Membership benchmark in virtual time (deterministic, seeded): failure-detection time, false positives under
// loss, and message rate. Run from the repository root:
//   node --conditions=@monk/source packages/p2p/bench/membership.bench.ts
import { defaultMembershipConfig, type MembershipConfig } from '../src/membership/membership-config.ts';
import { createSimCluster } from '../src/membership/test-sim.ts';

const detectionRuns = 200;
const lossRuns = 10;
const lossDurationMs = 5 * 60_000;

interface DetectionResult {
  readonly times: number[];
  readonly falseDead: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Kills one random member of a converged cluster and measures until every other member says `dead`. */
async function measureDetection(options: {
  readonly size: number;
  readonly runs: number;
  readonly config?: Partial<MembershipConfig>;
}): Promise<DetectionResult> {
  const times: number[] = [];
  let falseDead = 0;
  for (let seed = 1; seed <= options.runs; seed += 1) {
    const cluster = createSimCluster({
      seed,
      size: options.size,
      ...(options.config === undefined ? {} : { config: options.config }),
    });
    const { net, ids } = cluster;
    await cluster.joinAll();
    const allAlive = Object.fromEntries(ids.map((id) => [id, 'alive' as const]));
    if (!(await net.clock.advanceUntil(() => cluster.allSee(allAlive), { maxMs: 30_000 }))) {
      throw new Error(`seed ${seed}: cluster of ${options.size} did not converge`);
    }
    // Kill at a random phase of everyone's probe schedule.
    await net.clock.advance(1_000 + Math.floor(net.random() * 5_000));
    const victim = ids[1 + Math.floor(net.random() * (ids.length - 1))] ?? '';
    for (const id of ids) {
      cluster.node(id).onChange((member) => {
        if (member.state === 'dead' && member.id !== victim) falseDead += 1;
      });
    }
    const killedAt = net.clock.now();
    await cluster.kill(victim);
    const detected = await net.clock.advanceUntil(() => cluster.allSee({ [victim]: 'dead' }), {
      maxMs: 60_000,
      stepMs: 10,
    });
    if (!detected) throw new Error(`seed ${seed}: ${victim} never declared dead by all`);
    times.push(net.clock.now() - killedAt);
    await cluster.stopAll();
  }
  return { times: times.sort((a, b) => a - b), falseDead };
}

/** Runs a cluster under random loss on every link and counts members ever declared dead; also the message rate. */
async function measureLoss(options: {
  readonly size: number;
  readonly runs: number;
  readonly lossRate: number;
  readonly durationMs: number;
  readonly config?: Partial<MembershipConfig>;
}): Promise<{ falseDead: number; suspicions: number; messagesPerSecond: number }> {
  let falseDead = 0;
  let suspicions = 0;
  let messages = 0;
  for (let seed = 1; seed <= options.runs; seed += 1) {
    const cluster = createSimCluster({
      seed,
      size: options.size,
      ...(options.config === undefined ? {} : { config: options.config }),
    });
    const { net, ids } = cluster;
    await cluster.joinAll();
    const allAlive = Object.fromEntries(ids.map((id) => [id, 'alive' as const]));
    await net.clock.advanceUntil(() => cluster.allSee(allAlive), { maxMs: 30_000 });
    for (const id of ids) {
      cluster.node(id).onChange((member) => {
        if (member.state === 'dead') falseDead += 1;
        if (member.state === 'suspect') suspicions += 1;
      });
    }
    net.setLossRate(options.lossRate);
    const sentBefore = ids.reduce((sum, id) => sum + net.sentBy(id), 0);
    await net.clock.advance(options.durationMs);
    const sent = ids.reduce((sum, id) => sum + net.sentBy(id), 0) - sentBefore;
    messages += sent / ids.length / (options.durationMs / 1000);
    await cluster.stopAll();
  }
  return { falseDead, suspicions, messagesPerSecond: messages / options.runs };
}

const format = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

console.log('membership benchmark (virtual time, LAN latency 0.2–2 ms one way)');
console.log(`config: ${JSON.stringify(defaultMembershipConfig)}`);
for (const size of [5, 20]) {
  const started = performance.now();
  const { times, falseDead } = await measureDetection({ size, runs: detectionRuns });
  console.log(
    `detection, ${size} members, ${times.length} kills: p50 ${format(percentile(times, 50))}, ` +
      `p99 ${format(percentile(times, 99))}, max ${format(percentile(times, 100))}, ` +
      `other members declared dead ${falseDead} (${((performance.now() - started) / 1000).toFixed(1)} s real)`,
  );
}
for (const [size, lossRate] of [
  [5, 0.1],
  [10, 0.1],
  [20, 0.1],
  [10, 0.2],
] as const) {
  const started = performance.now();
  const result = await measureLoss({ size, runs: lossRuns, lossRate, durationMs: lossDurationMs });
  console.log(
    `${lossRate * 100}% loss, ${size} members, ${lossRuns} runs × ${lossDurationMs / 60_000} min: ` +
      `false dead ${result.falseDead}, suspect transitions (all views) ${result.suspicions}, ` +
      `messages sent ${result.messagesPerSecond.toFixed(1)}/s per member ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s real)`,
  );
}
for (const size of [5, 20]) {
  const result = await measureLoss({ size, runs: 1, lossRate: 0, durationMs: 60_000 });
  console.log(`no loss, ${size} members: messages sent ${result.messagesPerSecond.toFixed(1)}/s per member`);
}
