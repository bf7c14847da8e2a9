import { monkLabels, toMonkError, type ReadinessCheck, type Workload } from '@monk/model';
import type { CheckStatus } from '@monk/planner';
import type { ContainerInfo } from '@monk/runtime';
import type { Logger } from './logger.ts';
import { systemTimers, type Timer, type Timers } from './timers.ts';

/** What one probe loop says about the current container of a workload. */
export type ProbeStatus = CheckStatus;

/** Runs one check once against one container; resolves to passed (`ready`) or not, with why. */
export type ProbeFunction = (options: {
  workload: Workload;
  check: ReadinessCheck;
  container: ContainerInfo;
  siblings: readonly ContainerInfo[];
  signal: AbortSignal;
}) => Promise<{ ready: boolean; message: string }>;

/**
 * Keeps one probe loop per running container of a workload with a check of its kind: waits
 * `initialDelaySeconds`, then probes every `periodSeconds`, each probe cut off after `timeoutSeconds`.
 * A container started again (same id, new start time) gets a fresh loop.
 *
 * - Readiness (`checks.readiness`): before the first success, `attempts` failures in a row mark the
 *   instance failed (probing goes on, so it can still recover); after it, `attempts` failures in a row
 *   mark it not ready again.
 * - Liveness (`checks.liveness`): `attempts` failures in a row mark it failed (the reconciler restarts
 *   it); a success clears that.
 */
export interface CheckProber {
  sync(workloads: readonly Workload[], containers: readonly ContainerInfo[]): void;
  isReady(workloadId: string, containerId: string): boolean;
  status(workloadId: string, containerId: string): ProbeStatus;
  onChange(listener: () => void): void;
  stop(): void;
}

/** The prober of `checks.readiness`. */
export type ReadinessProber = CheckProber;

interface ProbeLoop {
  key: string;
  containerId: string;
  controller: AbortController;
  timer: Timer | undefined;
  status: ProbeStatus;
  failures: number;
  everReady: boolean;
  container: ContainerInfo;
  siblings: readonly ContainerInfo[];
}

interface ProberComponents {
  probe: ProbeFunction;
  logger: Logger;
  /** Default: the system's. */
  timers?: Timers;
}

/** Creates the prober of `checks.readiness`. */
export function createReadinessProber(components: ProberComponents): ReadinessProber {
  return createCheckProber('readiness', components);
}

/** Creates the prober of `checks.liveness` (monk's extension). */
export function createLivenessProber(components: ProberComponents): CheckProber {
  return createCheckProber('liveness', components);
}

function createCheckProber(kind: 'readiness' | 'liveness', components: ProberComponents): CheckProber {
  const timers = components.timers ?? systemTimers;
  const loops = new Map<string, ProbeLoop>();
  const listeners: Array<() => void> = [];
  const first = `waiting for the first ${kind} check`;
  const changed = (): void => {
    for (const listener of listeners) listener();
  };

  function next(loop: ProbeLoop, tick: () => Promise<void>, seconds: number): void {
    loop.timer = timers.setTimeout(() => void tick(), seconds * 1000);
  }

  function outcome(
    loop: ProbeLoop,
    check: ReadinessCheck,
    result: { ready: boolean; message: string },
  ): ProbeStatus {
    if (result.ready) {
      loop.failures = 0;
      loop.everReady = true;
      return { ready: true, failed: false };
    }
    loop.failures += 1;
    const exhausted = loop.failures >= check.attempts;
    const message = `${kind} check failed (${loop.failures}/${check.attempts}): ${result.message}`;
    if (kind === 'liveness') return { ready: false, failed: exhausted, message, answer: result.message };
    if (loop.everReady) return exhausted ? { ready: false, failed: false, message } : loop.status;
    return { ready: false, failed: exhausted, message };
  }

  function startLoop(workload: Workload, check: ReadinessCheck, loop: ProbeLoop): void {
    const tick = async (): Promise<void> => {
      if (loop.controller.signal.aborted) return;
      const timeout = new AbortController();
      const cutoff = timers.setTimeout(
        () => timeout.abort(new Error(`no answer within ${check.timeoutSeconds}s`)),
        check.timeoutSeconds * 1000,
      );
      let result: { ready: boolean; message: string };
      try {
        result = await components.probe({
          workload,
          check,
          container: loop.container,
          siblings: loop.siblings,
          signal: AbortSignal.any([loop.controller.signal, timeout.signal]),
        });
      } catch (error) {
        result = { ready: false, message: toMonkError(error).message };
      } finally {
        timers.clearTimeout(cutoff);
      }
      if (loop.controller.signal.aborted) return;
      const before = loop.status;
      loop.status = outcome(loop, check, result);
      if (
        before.ready !== loop.status.ready ||
        before.failed !== loop.status.failed ||
        before.message !== loop.status.message
      ) {
        if (loop.status.failed && !before.failed) {
          components.logger.warn(`${kind} check failed`, {
            workload: workload.id,
            message: loop.status.message,
          });
        }
        changed();
      }
      next(loop, tick, check.periodSeconds);
    };
    next(loop, tick, check.initialDelaySeconds);
  }

  function drop(workloadId: string): void {
    const loop = loops.get(workloadId);
    if (loop === undefined) return;
    loop.controller.abort();
    if (loop.timer !== undefined) timers.clearTimeout(loop.timer);
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
        const check = workload[kind];
        if (check === undefined || container === undefined || workload.state !== 'running') continue;
        keep.add(workload.id);
        const siblings = containers.filter((c) => c.labels[monkLabels.runnable] === workload.runnable);
        const key = `${container.id}@${container.startedAt ?? ''}`;
        const existing = loops.get(workload.id);
        if (existing !== undefined && existing.key === key) {
          existing.container = container;
          existing.siblings = siblings;
          continue;
        }
        drop(workload.id);
        const loop: ProbeLoop = {
          key,
          containerId: container.id,
          controller: new AbortController(),
          timer: undefined,
          status: { ready: false, failed: false, message: first },
          failures: 0,
          everReady: false,
          container,
          siblings,
        };
        loops.set(workload.id, loop);
        startLoop(workload, check, loop);
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
        return { ready: false, failed: false, message: first };
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
