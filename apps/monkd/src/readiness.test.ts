import { defaultRecoveryPolicy, monkLabels, type ReadinessCheck, type Workload } from '@monk/model';
import type { ContainerInfo } from '@monk/runtime';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { createLivenessProber, createReadinessProber, type ProbeFunction } from './readiness.ts';
import { createManualTimers } from './timers.ts';

const logger = createLogger({ level: 'error' });
const check: ReadinessCheck = {
  kind: 'exec',
  command: ['check'],
  initialDelaySeconds: 10,
  periodSeconds: 5,
  timeoutSeconds: 2,
  attempts: 2,
};
const workload: Workload = {
  id: 'ns/app#web',
  deployment: 'ns/app',
  runnable: 'ns/app',
  container: 'web',
  name: 'ns-app-web',
  aliases: [],
  spec: { image: 'busybox', environment: {}, ports: [], mounts: [], files: [], labels: {} },
  specHash: 'h',
  dependsOn: [],
  recovery: defaultRecoveryPolicy,
  owner: 'peer-a',
  state: 'running',
  generation: 1,
};
const container = (startedAt: string): ContainerInfo => ({
  id: 'c1',
  name: 'ns-app-web',
  image: 'busybox',
  state: 'running',
  labels: { [monkLabels.workload]: workload.id, [monkLabels.runnable]: 'ns/app' },
  ipAddresses: {},
  startedAt,
  createdAt: '2025-01-01T00:00:00Z',
});

describe('check probers on a manual clock', () => {
  it('cuts a probe off after timeoutSeconds and counts it as a failure', async () => {
    const timers = createManualTimers({ start: 0 });
    const hanging: ProbeFunction = ({ signal }) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    const prober = createReadinessProber({ probe: hanging, logger, timers });
    prober.sync([{ ...workload, readiness: check }], [container('2025-01-01T00:00:00Z')]);
    await timers.advance(11_900);
    expect(prober.status(workload.id, 'c1')).toEqual({
      ready: false,
      failed: false,
      message: 'waiting for the first readiness check',
    });
    await timers.advance(200);
    expect(prober.status(workload.id, 'c1')).toEqual({
      ready: false,
      failed: false,
      message: 'readiness check failed (1/2): no answer within 2s',
    });
    prober.stop();
    expect(timers.pending()).toBe(0);
  });

  it('liveness: fails after attempts in a row, a success clears it, and a restarted container starts over', async () => {
    const timers = createManualTimers({ start: 0 });
    let healthy = false;
    const probe: ProbeFunction = async () =>
      healthy ? { ready: true, message: 'ok' } : { ready: false, message: 'exit code 1' };
    const prober = createLivenessProber({ probe, logger, timers });
    const live = { ...workload, liveness: check };
    prober.sync([live], [container('2025-01-01T00:00:00Z')]);
    await timers.advance(10_000);
    expect(prober.status(live.id, 'c1')).toMatchObject({ failed: false });
    await timers.advance(5_000);
    expect(prober.status(live.id, 'c1')).toEqual({
      ready: false,
      failed: true,
      message: 'liveness check failed (2/2): exit code 1',
      answer: 'exit code 1',
    });
    healthy = true;
    await timers.advance(5_000);
    expect(prober.status(live.id, 'c1')).toEqual({ ready: true, failed: false });

    healthy = false;
    await timers.advance(10_000);
    expect(prober.status(live.id, 'c1').failed).toBe(true);
    // The same container started again: a fresh loop, its initial delay first.
    prober.sync([live], [container('2025-01-01T00:01:00Z')]);
    expect(prober.status(live.id, 'c1')).toEqual({
      ready: false,
      failed: false,
      message: 'waiting for the first liveness check',
    });
    await timers.advance(9_999);
    expect(prober.status(live.id, 'c1').failed).toBe(false);
    prober.stop();
  });
});
