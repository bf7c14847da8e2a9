import { randomUUID } from 'node:crypto';
import { createGraph, createMemoryStore, type Graph } from '@monk/graph';
import { defaultRecoveryPolicy, monkLabels, type ObservedWorkload, type ResolvedRunnable } from '@monk/model';
import { createDockerRuntime } from '@monk/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';
import { createProbe } from '../src/probe.ts';
import { createLivenessProber, createReadinessProber } from '../src/readiness.ts';
import { createReconciler } from '../src/reconciler.ts';
import { systemTimers } from '../src/timers.ts';
import { eventually } from './harness.ts';
import { buildWorkloads } from '@monk/planner';

const runtime = createDockerRuntime({});
const logger = createLogger({ level: 'error' });
const suffix = randomUUID().slice(0, 8);
const peerId = `peer-live${suffix}`;
const network = `monk-liveness-${suffix}`;

describe('liveness on Docker', () => {
  const stops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const stop of stops.splice(0)) await stop();
    const left = await runtime.listContainers({ all: true, labels: { [monkLabels.peer]: peerId } });
    for (const container of left) await runtime.removeContainer(container.id, { force: true });
    await runtime.removeNetwork(network).catch(() => undefined);
  });

  it('restarts a busybox container once its liveness check starts failing, and counts the restart', async () => {
    const graph: Graph = await createGraph({ peerId, store: createMemoryStore() });
    const probe = createProbe({ runtime });
    const reconciler = createReconciler(
      { peerId, resyncIntervalMs: 1_000, network: () => ({ name: network }) },
      {
        graph,
        runtime,
        prober: createReadinessProber({ probe, logger, timers: systemTimers }),
        liveness: createLivenessProber({ probe, logger, timers: systemTimers }),
        logger,
        timers: systemTimers,
      },
    );
    graph.onChange(() => reconciler.kick());
    reconciler.start();
    stops.push(() => reconciler.stop());

    // Healthy while /tmp/healthy exists; every start makes it again.
    const runnable: ResolvedRunnable = {
      path: 'live/web',
      containers: [
        {
          key: 'web',
          spec: {
            image: 'monk-local/busybox:latest',
            command: ['sh', '-c', 'touch /tmp/healthy && exec sleep 3600'],
            environment: {},
            ports: [],
            mounts: [],
            files: [],
            labels: {},
          },
        },
      ],
      services: [],
      dependsOn: [],
      connections: {},
      liveness: {
        kind: 'exec',
        command: ['test', '-f', '/tmp/healthy'],
        initialDelaySeconds: 1,
        periodSeconds: 1,
        timeoutSeconds: 5,
        attempts: 2,
      },
      recovery: defaultRecoveryPolicy,
      variables: {},
      scale: 1,
    };
    graph.putWorkloads(
      buildWorkloads({ deployment: 'live/web', runnables: [runnable], owner: peerId, generation: 1 }),
    );
    const observed = (): ObservedWorkload | undefined => graph.getObserved('live/web#web');
    const first = await eventually(async () => (observed()?.phase === 'ready' ? observed() : undefined), {
      what: 'ready',
      timeoutMs: 30_000,
    });
    expect(first.restarts).toBe(0);
    const containerId = first.containerId ?? '';

    await runtime.exec(containerId, { command: ['rm', '/tmp/healthy'], timeoutMs: 10_000 });

    const restarted = await eventually(
      async () => {
        const o = observed();
        return o !== undefined && o.restarts === 1 && o.phase === 'ready' ? o : undefined;
      },
      { what: 'the liveness restart', timeoutMs: 30_000 },
    );
    expect(restarted.message).toBe(
      'liveness check failed: exec test -f /tmp/healthy exited 1 (2 times in a row)',
    );
    expect(restarted.containerId).toBe(containerId);
    expect(restarted.startedAt).not.toBe(first.startedAt);

    // The restarted container made /tmp/healthy again: it passes and is not restarted once more.
    const check = await runtime.exec(containerId, {
      command: ['test', '-f', '/tmp/healthy'],
      timeoutMs: 10_000,
    });
    expect(check.exitCode).toBe(0);
  });
});
