import { monkLabels, toMonkError, type ReadinessCheck, type Workload } from '@monk/model';
import type { ContainerInfo } from '@monk/runtime';
import type { Logger } from './logger.ts';

export interface ProbeStatus {
  readonly ready: boolean;
  /** True once the check failed `attempts` times before ever passing. */
  readonly failed: boolean;
  readonly message?: string;
}

/** Runs one readiness check once against one container; resolves to ready or not, with why. */
export type ProbeFunction = (options: {
  workload: Workload;
  check: ReadinessCheck;
  container: ContainerInfo;
  siblings: readonly ContainerInfo[];
  signal: AbortSignal;
}) => Promise<{ ready: boolean; message: string }>;

/**
 * Keeps one probe loop per (workload, container) with a readiness check: waits `initialDelaySeconds`,
 * then probes every `periodSeconds`. Before the first success, `attempts` failures in a row mark the
 * instance failed (probing goes on, so it can still recover); after it, `attempts` failures in a row
 * mark it not ready again.
 */
export interface ReadinessProber {
  sync(workloads: readonly Workload[], containers: readonly ContainerInfo[]): void;
  isReady(workloadId: string, containerId: string): boolean;
  status(workloadId: string, containerId: string): ProbeStatus;
  onChange(listener: () => void): void;
  stop(): void;
}

interface ProbeLoop {
  containerId: string;
  controller: AbortController;
  timer: NodeJS.Timeout | undefined;
  status: ProbeStatus;
  failures: number;
  everReady: boolean;
  container: ContainerInfo;
  siblings: readonly ContainerInfo[];
}

export function createReadinessProber(components: { probe: ProbeFunction; logger: Logger }): ReadinessProber {
  const loops = new Map<string, ProbeLoop>();
  const listeners: Array<() => void> = [];
  const changed = (): void => {
    for (const listener of listeners) listener();
  };

  function startLoop(workload: Workload, check: ReadinessCheck, loop: ProbeLoop): void {
    const tick = async (): Promise<void> => {
      if (loop.controller.signal.aborted) return;
      const timeout = AbortSignal.timeout(check.timeoutSeconds * 1000);
      let result: { ready: boolean; message: string };
      try {
        result = await components.probe({
          workload,
          check,
          container: loop.container,
          siblings: loop.siblings,
          signal: AbortSignal.any([loop.controller.signal, timeout]),
        });
      } catch (error) {
        result = { ready: false, message: toMonkError(error).message };
      }
      if (loop.controller.signal.aborted) return;
      const before = loop.status;
      if (result.ready) {
        loop.failures = 0;
        loop.everReady = true;
        loop.status = { ready: true, failed: false };
      } else {
        loop.failures += 1;
        const exhausted = loop.failures >= check.attempts;
        const message = `readiness check failed (${loop.failures}/${check.attempts}): ${result.message}`;
        if (loop.everReady) {
          loop.status = exhausted ? { ready: false, failed: false, message } : before;
        } else {
          loop.status = { ready: false, failed: exhausted, message };
        }
      }
      if (
        before.ready !== loop.status.ready ||
        before.failed !== loop.status.failed ||
        before.message !== loop.status.message
      ) {
        if (loop.status.failed && !before.failed) {
          components.logger.warn('readiness check failed', {
            workload: workload.id,
            message: loop.status.message,
          });
        }
        changed();
      }
      loop.timer = setTimeout(() => void tick(), check.periodSeconds * 1000);
    };
    loop.timer = setTimeout(() => void tick(), check.initialDelaySeconds * 1000);
  }

  function drop(workloadId: string): void {
    const loop = loops.get(workloadId);
    if (loop === undefined) return;
    loop.controller.abort();
    if (loop.timer !== undefined) clearTimeout(loop.timer);
    loops.delete(workloadId);
  }

  return {
    sync(workloads, containers) {
      const running = new Map<string, ContainerInfo>();
      for (const c of containers) {
        const id = c.labels[monkLabels.workload];
        if (id !== undefined && c.state === 'running') running.set(id, c);
      }
      const keep = new Set<string>();
      for (const workload of workloads) {
        const container = running.get(workload.id);
        if (workload.readiness === undefined || container === undefined || workload.state !== 'running')
          continue;
        keep.add(workload.id);
        const siblings = containers.filter((c) => c.labels[monkLabels.runnable] === workload.runnable);
        const existing = loops.get(workload.id);
        if (existing !== undefined && existing.containerId === container.id) {
          existing.container = container;
          existing.siblings = siblings;
          continue;
        }
        drop(workload.id);
        const loop: ProbeLoop = {
          containerId: container.id,
          controller: new AbortController(),
          timer: undefined,
          status: { ready: false, failed: false, message: 'waiting for the first readiness check' },
          failures: 0,
          everReady: false,
          container,
          siblings,
        };
        loops.set(workload.id, loop);
        startLoop(workload, workload.readiness, loop);
      }
      for (const id of [...loops.keys()]) if (!keep.has(id)) drop(id);
    },
    isReady(workloadId, containerId) {
      const loop = loops.get(workloadId);
      return loop !== undefined && loop.containerId === containerId && loop.status.ready;
    },
    status(workloadId, containerId) {
      const loop = loops.get(workloadId);
      if (loop === undefined || loop.containerId !== containerId) {
        return { ready: false, failed: false, message: 'waiting for the first readiness check' };
      }
      return loop.status;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    stop() {
      for (const id of [...loops.keys()]) drop(id);
    },
  };
}
