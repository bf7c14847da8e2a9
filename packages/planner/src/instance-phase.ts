import type { ErrorCode, ObservedWorkload, RecoveryPolicy, WorkloadPhase } from '@monk/model';
import { nextRestartDelay } from './restart-backoff.ts';

/** Docker's container states, as the runtime reports them. */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** How long a container must stay up before its restarts in a row count from zero again. */
export const recoveredAfterMs = 60_000;

/** The longest wait between two attempts to create a container that failed to be created. */
export const maxCreateRetryMs = 60_000;

/** What one probe loop (readiness or liveness) says about the current container. */
export interface CheckStatus {
  readonly ready: boolean;
  /** Readiness: failed `attempts` times before ever passing. Liveness: failed `attempts` times in a row. */
  readonly failed: boolean;
  readonly message?: string;
  /** The last probe's own answer when it failed (`exit code 1`, `GET / answered 500`). */
  readonly answer?: string;
}

/** Everything {@link instancePhase} looks at for one instance this peer owns. Plain data. */
export interface InstanceFacts {
  /** The workload's desired state. */
  readonly desired: 'running' | 'stopped';
  readonly recovery: RecoveryPolicy;
  /** Whether a readiness check gates `ready` (without one, running is ready). */
  readonly readinessChecked: boolean;
  /** The container kept for the instance, if any. */
  readonly container?: { readonly state: ContainerState; readonly exitCode?: number };
  /** The last failure to create the container of the current spec. */
  readonly failure?: { readonly message: string; readonly code: string };
  /** What the image exchange says while the image is on its way. */
  readonly imageWait?: string;
  /** Why the planner holds the instance back (dependencies, backoff), from {@link planReconcile}. */
  readonly waiting?: {
    readonly reason: string;
    readonly until?: number;
    readonly failure?: { readonly code: ErrorCode; readonly message: string };
  };
  /** The readiness probe of the running container. */
  readonly readiness?: CheckStatus;
  /** The liveness probe of the running container. */
  readonly liveness?: CheckStatus;
  /** Why the running container was last restarted by its liveness check (shown while it runs). */
  readonly livenessRestart?: string;
  /** Restarts in a row since the container last stayed up (the backoff counter). */
  readonly consecutiveRestarts: number;
  /** ms epoch. */
  readonly now: number;
}

/** The phase of one instance with what `monk ps` shows beside it. */
export interface InstanceStatus {
  readonly phase: WorkloadPhase;
  readonly ready: boolean;
  readonly message?: string;
  readonly exitCode?: number;
  readonly errorCode?: string;
}

/**
 * Whether an exited (or dead) container is started again: `recovery.when` of `none` or `node-failure`
 * never restarts; otherwise `restart: always` does, `on-failure` when the container is dead or its exit
 * code is non-zero or unknown, `no` never.
 *
 * @example
 * restartsOnExit({ ...defaultRecoveryPolicy, restart: 'on-failure' }, { state: 'exited', exitCode: 0 }) // false
 */
export function restartsOnExit(
  policy: RecoveryPolicy,
  exit: { readonly state: ContainerState; readonly exitCode?: number },
): boolean {
  if (!recoversContainers(policy)) return false;
  if (policy.restart === 'always') return true;
  if (policy.restart === 'no') return false;
  return exit.state === 'dead' || exit.exitCode !== 0;
}

/**
 * Whether a running container whose liveness check failed is restarted (else it is reported failed):
 * every policy that restarts failed containers does.
 */
export function restartsOnLivenessFailure(policy: RecoveryPolicy): boolean {
  return recoversContainers(policy) && policy.restart !== 'no';
}

function recoversContainers(policy: RecoveryPolicy): boolean {
  return policy.when !== 'none' && policy.when !== 'node-failure';
}

/**
 * What to do with an instance whose peer is dead, by its `recovery` policy: move it once the peer has been
 * dead `afterMs` (absent: at once, membership's own failure detector has already waited), unless `when`
 * is `none` or `container-failure`. `deadSince` is when membership marked the peer dead, ms epoch.
 *
 * @example
 * peerFailureRecovery({ ...defaultRecoveryPolicy, afterMs: 30_000 }, { deadSince: 0, now: 10_000 })
 * // { move: false, at: 30_000, reason: 'recovery.after: moves in 20s' }
 */
export function peerFailureRecovery(
  policy: RecoveryPolicy,
  options: { readonly deadSince: number; readonly now: number },
): { readonly move: true } | { readonly move: false; readonly reason: string; readonly at?: number } {
  if (policy.when === 'none' || policy.when === 'container-failure') {
    return { move: false, reason: `recovery.when is ${policy.when}: not moved off a dead peer` };
  }
  const at = options.deadSince + (policy.afterMs ?? 0);
  if (at <= options.now) return { move: true };
  return { move: false, at, reason: `recovery.after: moves in ${Math.ceil((at - options.now) / 1000)}s` };
}

/**
 * The wait before attempt `count + 1` to create a container whose creation failed `count` times (1 s, 2 s,
 * 4 s … capped at {@link maxCreateRetryMs}).
 */
export function createRetryDelay(count: number): number {
  const failures = Number.isFinite(count) && count > 1 ? Math.floor(count) : 1;
  return Math.min(1_000 * 2 ** (failures - 1), maxCreateRetryMs);
}

/** Whether a container that started at `startedAt` (ms epoch) has stayed up long enough to reset its backoff. */
export function hasRecovered(options: { readonly startedAt: number; readonly now: number }): boolean {
  return options.now - options.startedAt > recoveredAfterMs;
}

/**
 * The phase of one instance this peer owns, from what it observed. Pure; never throws.
 *
 * - No container: `stopped` when stopped; `failed` when its creation failed or its dependencies timed
 *   out (`depends.wait-for.timeout`); `pending` while its image is on its way or it waits; else `creating`.
 * - Running: `stopping` when stopped; `failed` when its creation failed, its readiness check never
 *   passed, or its liveness check failed and its policy does not restart it; `ready` when it has no
 *   readiness check or the check passes; else `running`.
 * - Created or restarting: `starting`; paused: `running`; removing: `stopping`.
 * - Exited or dead: `stopped` when stopped; `exited` when its policy does not restart it; else `backoff`.
 *
 * @example
 * instancePhase({ desired: 'running', recovery: defaultRecoveryPolicy, readinessChecked: false,
 *   container: { state: 'running' }, consecutiveRestarts: 0, now: Date.now() })
 * // { phase: 'ready', ready: true }
 */
export function instancePhase(facts: InstanceFacts): InstanceStatus {
  const { container, failure, waiting } = facts;
  if (container === undefined) {
    if (facts.desired === 'stopped') return { phase: 'stopped', ready: false };
    if (failure !== undefined) {
      return { phase: 'failed', ready: false, message: failure.message, errorCode: failure.code };
    }
    if (facts.imageWait !== undefined) return { phase: 'pending', ready: false, message: facts.imageWait };
    if (waiting?.failure !== undefined) return timedOut(waiting.failure);
    if (waiting !== undefined) return { phase: 'pending', ready: false, message: waiting.reason };
    return { phase: 'creating', ready: false };
  }
  switch (container.state) {
    case 'running':
      return runningPhase(facts);
    case 'created':
      if (facts.desired === 'running' && waiting?.failure !== undefined) return timedOut(waiting.failure);
      return { phase: 'starting', ready: false };
    case 'restarting':
      return { phase: 'starting', ready: false };
    case 'paused':
      return { phase: 'running', ready: false, message: 'paused' };
    case 'removing':
      return { phase: 'stopping', ready: false };
    case 'exited':
    case 'dead': {
      const exitCode = container.exitCode ?? 0;
      if (facts.desired === 'stopped') return { phase: 'stopped', ready: false, exitCode };
      if (failure !== undefined) return { phase: 'failed', ready: false, message: failure.message, exitCode };
      if (!restartsOnExit(facts.recovery, container)) {
        return { phase: 'exited', ready: false, exitCode, message: `exited with code ${exitCode}` };
      }
      const delay = nextRestartDelay(facts.recovery, facts.consecutiveRestarts);
      const message =
        waiting?.until === undefined
          ? `exited with code ${exitCode}; restarting`
          : `exited with code ${exitCode}; restarting in ${Math.ceil(Math.max(waiting.until - facts.now, 0) / 1000)}s (back-off ${Math.round(delay / 1000)}s)`;
      return { phase: 'backoff', ready: false, exitCode, message };
    }
  }
}

function runningPhase(facts: InstanceFacts): InstanceStatus {
  if (facts.desired === 'stopped') return { phase: 'stopping', ready: false };
  if (facts.failure !== undefined) return { phase: 'failed', ready: false, message: facts.failure.message };
  const liveness = facts.liveness;
  if (liveness?.failed === true && !restartsOnLivenessFailure(facts.recovery)) {
    return {
      phase: 'failed',
      ready: false,
      message: liveness.message ?? 'liveness check failed',
      errorCode: 'CHECK_FAILED',
    };
  }
  const note = facts.livenessRestart === undefined ? {} : { message: facts.livenessRestart };
  if (!facts.readinessChecked) return { phase: 'ready', ready: true, ...note };
  const probe = facts.readiness ?? { ready: false, failed: false };
  if (probe.ready) return { phase: 'ready', ready: true, ...note };
  return {
    phase: probe.failed ? 'failed' : 'running',
    ready: false,
    ...(probe.message === undefined ? note : { message: probe.message }),
  };
}

function timedOut(failure: { readonly code: ErrorCode; readonly message: string }): InstanceStatus {
  return { phase: 'failed', ready: false, message: failure.message, errorCode: failure.code };
}

/**
 * Whether an observed instance makes a deploy that waits for readiness fail (`DEPLOY_FAILED`): it failed,
 * exited with a non-zero code and will not be restarted, or has been restarted at least 3 times and is
 * backing off again (a crash loop).
 *
 * @example
 * isDeployFailure({ phase: 'backoff', restarts: 3 }) // true
 */
export function isDeployFailure(
  observed: Pick<ObservedWorkload, 'phase' | 'restarts'> & Partial<Pick<ObservedWorkload, 'exitCode'>>,
): boolean {
  if (observed.phase === 'failed') return true;
  if (observed.phase === 'exited' && (observed.exitCode ?? 0) !== 0) return true;
  return observed.phase === 'backoff' && observed.restarts >= 3;
}
