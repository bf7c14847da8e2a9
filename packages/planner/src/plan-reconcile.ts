import type { ErrorCode, Workload } from '@monk/model';
import { compareStrings, orderByDependencies } from './dependency-order.ts';
import { restartsOnExit, restartsOnLivenessFailure, type ContainerState } from './instance-phase.ts';
import { nextRestartDelay } from './restart-backoff.ts';

export type { ContainerState };

/** One monk-labelled container as observed on this host. */
export interface ObservedContainer {
  id: string;
  /** Container name, with or without Docker's leading `/`. */
  name: string;
  /** The `monk.workload` label; absent when the container carries `monk.managed` only. */
  workloadId?: string;
  /** The `monk.spec-hash` label. */
  specHash?: string;
  /** The `monk.peer` label. The planner does not use it: the desired owner decides. */
  peer?: string;
  state: ContainerState;
  exitCode?: number;
  /** ISO time the container last exited (Docker's zero time counts as unknown). */
  finishedAt?: string;
  /** ISO time the container last started; `monk restart` compares it with the workload's request. */
  startedAt?: string;
  error?: string;
}

/** How often a workload has been restarted, kept by the caller (monkd) between loops. */
export interface RestartRecord {
  restarts: number;
  /** When the container last exited, ms epoch. */
  lastExitAt?: number;
}

/** Everything {@link planReconcile} looks at: desired state, what this host has, and the time. */
export interface ReconcileInput {
  /** This peer; only workloads with `owner === peerId` are its to run. */
  peerId: string;
  /** Desired workloads of the whole cluster. */
  workloads: readonly Workload[];
  /** Every monk-labelled container on this host, and nothing else. */
  containers: readonly ObservedContainer[];
  /** Workload id → readiness as last probed, for workloads of every peer. Missing means not ready. */
  ready: ReadonlyMap<string, boolean> | Readonly<Record<string, boolean>>;
  /** Restart bookkeeping per workload id. */
  restarts: Readonly<Record<string, RestartRecord>>;
  /**
   * Workload id → why its running container failed its liveness check `attempts` times in a row (the
   * prober's message). Such a container is restarted when its recovery policy restarts failed containers.
   */
  unhealthy?: Readonly<Record<string, string>>;
  /**
   * Workload id → when it started waiting for its dependencies, ms epoch (kept by the caller from the
   * previous plans' `waiting` of kind `dependencies`). With `waitForTimeoutSeconds`, a wait that lasted
   * longer is reported as failed. Missing means it starts waiting now.
   */
  waitingSince?: Readonly<Record<string, number>>;
  /** The current time, ms epoch. */
  now: number;
}

/**
 * One action on this host's container engine. Steps are plain data; {@link describeStep} renders one line.
 *
 * - `create`: create the container `name` for the workload, then start it.
 * - `start`: start a container that was created but never started.
 * - `replace`: stop and remove `containerId`, then create and start `name` from the current spec.
 * - `restart`: start an exited container again (its recovery policy said so and its backoff elapsed).
 * - `bounce`: stop a running container and start it again, the same container (`monk restart`, or a
 *   failed liveness check with `recovery: true`).
 * - `stop`: stop a container and keep it.
 * - `remove`: remove a container (it is not running, or a `stop` step for it comes first).
 */
export type PlanStep =
  | { kind: 'create'; workloadId: string; name: string; reason: string }
  | { kind: 'start'; workloadId: string; containerId: string; reason: string }
  | { kind: 'replace'; workloadId: string; containerId: string; name: string; reason: string }
  | { kind: 'restart'; workloadId: string; containerId: string; reason: string }
  | {
      kind: 'bounce';
      workloadId: string;
      containerId: string;
      reason: string;
      /** A restart by recovery (the liveness check failed), counted in the instance's restarts. */
      recovery?: true;
    }
  | { kind: 'stop'; workloadId?: string; containerId: string; reason: string }
  | { kind: 'remove'; workloadId?: string; containerId: string; reason: string };

/** A workload of this peer that needs something the planner will not do yet, and why. */
export interface WaitingWorkload {
  workloadId: string;
  /** What it waits for: its dependencies to be ready, its restart backoff, or an old container's removal. */
  kind: 'dependencies' | 'backoff' | 'removal';
  reason: string;
  /** When waiting ends by itself (restart backoff) or times out (`depends.wait-for.timeout`), ms epoch. */
  until?: number;
  /** Set once a dependency wait outlasted `waitForTimeoutSeconds`: the instance is reported failed. */
  failure?: { code: ErrorCode; message: string };
}

/** The output of {@link planReconcile}: steps to apply in order, and workloads left waiting. */
export interface Plan {
  steps: PlanStep[];
  waiting: WaitingWorkload[];
}

const activeStates: ReadonlySet<ContainerState> = new Set(['running', 'restarting', 'paused']);

/** Which container to keep when several claim one workload: lower is better. */
const stateRank: Readonly<Record<ContainerState, number>> = {
  running: 0,
  restarting: 1,
  paused: 2,
  created: 3,
  exited: 4,
  dead: 5,
  removing: 6,
};

const pastTense: Readonly<Record<PlanStep['kind'], string>> = {
  create: 'created',
  start: 'started',
  replace: 'replaced',
  restart: 'restarted',
  bounce: 'restarted',
  stop: 'stopped',
  remove: 'removed',
};

/** What one workload needs, before dependencies are checked. */
type Intent =
  | { kind: 'step'; step: PlanStep; gated: boolean }
  | { kind: 'wait'; waiting: WaitingWorkload }
  | { kind: 'none' };

/**
 * Plans the steps that move this host's containers toward the desired workloads this peer owns. Pure:
 * the same input always gives the same plan, whatever the order of `workloads` and `containers`.
 *
 * Rules, each step carrying its reason:
 * - Containers without a `monk.workload` label, of workloads no longer desired, or of workloads owned by
 *   another peer are stopped (when running, restarting or paused) and removed. So are extra containers of
 *   one workload: the best is kept (matching spec hash first, then running before created before exited,
 *   then smallest id). Containers in state `removing` are left alone.
 * - A running workload without a container is created; one whose container has another spec hash or name
 *   is replaced; a created container is started; an exited or dead one is restarted when its recovery
 *   policy says so ({@link restartsOnExit}) and {@link nextRestartDelay} has elapsed since it exited, else
 *   it waits with `until`. A running container in `unhealthy` (its liveness check failed) is bounced, the
 *   same container stopped and started, when {@link restartsOnLivenessFailure}.
 * - Dependencies gate first starts only: `create`, `start`, and `replace` of a container that is not
 *   running wait until every `dependsOn` workload is ready (per `ready`, and not itself being changed by
 *   this plan). Replacing a running container and restarting an exited one do not wait: the workload
 *   already ran, holding back an update or a recovery on a flapping dependency would leave it down or stale,
 *   and the backoff already slows a crash loop. A workload on a dependency cycle waits, with the cycle named.
 *   With `waitForTimeoutSeconds`, a dependency wait carries `until` (its deadline, from `waitingSince`) and,
 *   once past it, a `TIMEOUT` failure: Monk reports an error then; the instance still starts if its
 *   dependencies become ready later.
 * - A `stopped` workload gets its running container stopped (kept, not removed) and nothing else, even
 *   if its spec changed: it is replaced when it runs again.
 * - A create or replace waits while a container with the same name is still `removing`.
 *
 * Order: removals of unwanted containers first (by container id), then stops of stopped workloads
 * (dependents first), then creates, starts, replaces and restarts in dependency order (ties by workload id).
 *
 * Never throws.
 *
 * @example
 * const plan = planReconcile({ peerId: 'peer-a', workloads, containers, ready: {}, restarts: {}, now: Date.now() });
 * for (const step of plan.steps) console.log(describeStep(step));
 */
export function planReconcile(input: ReconcileInput): Plan {
  const desired = new Map(input.workloads.map((workload) => [workload.id, workload]));
  const mine = [...desired.values()].filter((workload) => workload.owner === input.peerId);
  const order = orderByDependencies([...desired.values()]);
  const containers = [...input.containers].sort((a, b) => compareStrings(a.id, b.id));

  const discarded: Array<{ container: ObservedContainer; reason: string }> = [];
  const discard = (container: ObservedContainer, reason: string): void => {
    discarded.push({ container, reason });
  };

  const claimed = new Map<string, ObservedContainer[]>();
  for (const container of containers) {
    if (container.state === 'removing') continue;
    const id = container.workloadId;
    const workload = id === undefined ? undefined : desired.get(id);
    if (id === undefined) discard(container, 'monk container without a workload label');
    else if (workload === undefined) discard(container, `workload ${id} is no longer desired`);
    else if (workload.owner !== input.peerId)
      discard(container, `workload ${id} is assigned to ${workload.owner}`);
    else claimed.set(id, [...(claimed.get(id) ?? []), container]);
  }

  const intents = new Map<string, Intent>();
  for (const workload of mine) {
    const [kept, ...extra] = (claimed.get(workload.id) ?? []).sort(preferFor(workload));
    for (const container of extra) {
      discard(container, `duplicate container of ${workload.id} (keeping ${shortId(kept?.id ?? '')})`);
    }
    intents.set(workload.id, intentFor({ workload, container: kept, input }));
  }

  const removing = new Set(containers.filter((c) => c.state === 'removing').map((c) => plainName(c.name)));
  // A dependency with a step of its own is not ready whatever its last probe said. Gated steps may yet
  // wait, so only the definite ones are named.
  const changing = new Map<string, string | undefined>();
  for (const [id, intent] of intents) {
    if (intent.kind === 'step')
      changing.set(id, intent.gated ? undefined : `${pastTense[intent.step.kind]} in this plan`);
  }
  const isReady = readinessOf(input.ready);
  const steps: PlanStep[] = [];
  const stops: PlanStep[] = [];
  const waiting: WaitingWorkload[] = [];
  const byRank = (a: Workload, b: Workload): number =>
    (order.rank.get(a.id) ?? 0) - (order.rank.get(b.id) ?? 0) || compareStrings(a.id, b.id);

  for (const workload of mine.sort(byRank)) {
    const intent = intents.get(workload.id) ?? { kind: 'none' };
    if (intent.kind === 'wait') waiting.push(intent.waiting);
    if (intent.kind !== 'step') continue;
    const { step } = intent;
    if (step.kind === 'stop') {
      stops.unshift(step);
      continue;
    }
    const block = intent.gated
      ? blockedBy({ workload, desired, cycles: order.cycles, isReady, changing })
      : undefined;
    if (block !== undefined) {
      waiting.push(dependencyWait({ workload, reason: block, input }));
    } else if ((step.kind === 'create' || step.kind === 'replace') && removing.has(step.name)) {
      waiting.push({
        workloadId: workload.id,
        kind: 'removal',
        reason: `waiting for the old container ${step.name} to be removed`,
      });
    } else {
      steps.push(step);
    }
  }
  return { steps: [...removalSteps(discarded), ...stops, ...steps], waiting };
}

/** A dependency wait, failed once it outlasted the workload's `waitForTimeoutSeconds`. */
function dependencyWait(options: {
  workload: Workload;
  reason: string;
  input: ReconcileInput;
}): WaitingWorkload {
  const { workload, reason, input } = options;
  const base: WaitingWorkload = { workloadId: workload.id, kind: 'dependencies', reason };
  const timeout = workload.waitForTimeoutSeconds;
  if (timeout === undefined) return base;
  const waitingSince = input.waitingSince;
  const since =
    waitingSince !== undefined && Object.hasOwn(waitingSince, workload.id)
      ? (waitingSince[workload.id] ?? input.now)
      : input.now;
  const until = since + timeout * 1_000;
  if (until > input.now) return { ...base, until };
  const message = `dependencies not ready after ${formatDuration(timeout * 1_000)} (depends.wait-for.timeout): ${reason}`;
  return { ...base, until, failure: { code: 'TIMEOUT', message } };
}

/** Stop (when it runs) and remove each unwanted container, by container id. */
function removalSteps(
  discarded: ReadonlyArray<{ container: ObservedContainer; reason: string }>,
): PlanStep[] {
  return [...discarded]
    .sort((a, b) => compareStrings(a.container.id, b.container.id))
    .flatMap(({ container, reason }): PlanStep[] => {
      const workload = container.workloadId === undefined ? {} : { workloadId: container.workloadId };
      const remove: PlanStep = { kind: 'remove', ...workload, containerId: container.id, reason };
      if (!activeStates.has(container.state)) return [remove];
      return [{ kind: 'stop', ...workload, containerId: container.id, reason }, remove];
    });
}

function intentFor(options: {
  workload: Workload;
  container: ObservedContainer | undefined;
  input: ReconcileInput;
}): Intent {
  const { workload, container } = options;
  const workloadId = workload.id;
  if (workload.state === 'stopped') {
    if (container === undefined || !activeStates.has(container.state)) return { kind: 'none' };
    const step: PlanStep = {
      kind: 'stop',
      workloadId,
      containerId: container.id,
      reason: 'workload is stopped',
    };
    return { kind: 'step', step, gated: false };
  }
  if (container === undefined) {
    const step: PlanStep = { kind: 'create', workloadId, name: workload.name, reason: 'no container yet' };
    return { kind: 'step', step, gated: true };
  }
  const changed = specChange(workload, container);
  if (changed !== undefined) {
    const running = activeStates.has(container.state);
    const reason = running ? changed : `${changed} (container ${container.state})`;
    const step: PlanStep = {
      kind: 'replace',
      workloadId,
      containerId: container.id,
      name: workload.name,
      reason,
    };
    return { kind: 'step', step, gated: !running };
  }
  switch (container.state) {
    case 'created': {
      const reason = 'created but not started';
      return {
        kind: 'step',
        step: { kind: 'start', workloadId, containerId: container.id, reason },
        gated: true,
      };
    }
    case 'exited':
    case 'dead':
      return recoveryIntent(options);
    case 'running': {
      const unhealthy = options.input.unhealthy;
      const liveness =
        unhealthy !== undefined && Object.hasOwn(unhealthy, workloadId) ? unhealthy[workloadId] : undefined;
      if (liveness !== undefined && restartsOnLivenessFailure(workload.recovery)) {
        const reason = `liveness check failed: ${liveness}`;
        return {
          kind: 'step',
          step: { kind: 'bounce', workloadId, containerId: container.id, reason, recovery: true },
          gated: false,
        };
      }
      const requested = workload.restartRequestedAt;
      if (requested === undefined || container.startedAt === undefined) return { kind: 'none' };
      if (!(Date.parse(container.startedAt) < Date.parse(requested))) return { kind: 'none' };
      const reason = `monk restart asked at ${requested} (container started ${container.startedAt})`;
      return {
        kind: 'step',
        step: { kind: 'bounce', workloadId, containerId: container.id, reason },
        gated: false,
      };
    }
    case 'restarting':
    case 'paused':
    case 'removing':
      return { kind: 'none' };
  }
}

function specChange(workload: Workload, container: ObservedContainer): string | undefined {
  if (container.specHash !== workload.specHash) {
    const before = container.specHash === undefined ? 'none' : shortHash(container.specHash);
    return `spec changed (hash ${before} → ${shortHash(workload.specHash)})`;
  }
  const name = plainName(container.name);
  if (name !== workload.name) return `name changed (${name} → ${workload.name})`;
  return undefined;
}

function recoveryIntent(options: {
  workload: Workload;
  container: ObservedContainer | undefined;
  input: ReconcileInput;
}): Intent {
  const { workload, input } = options;
  const container = options.container;
  if (container === undefined) return { kind: 'none' };
  const policy = workload.recovery;
  if (!restartsOnExit(policy, container)) return { kind: 'none' };

  const record = Object.hasOwn(input.restarts, workload.id) ? input.restarts[workload.id] : undefined;
  const count = record?.restarts ?? 0;
  const delay = nextRestartDelay(policy, count);
  const exitedAt = latest(record?.lastExitAt, parseTime(container.finishedAt));
  const due = exitedAt === undefined ? input.now : exitedAt + delay;
  const what = exitDescription(container);
  if (due <= input.now) {
    const reason = `${what}; restart #${count + 1} (recovery: ${policy.restart})`;
    const step: PlanStep = { kind: 'restart', workloadId: workload.id, containerId: container.id, reason };
    return { kind: 'step', step, gated: false };
  }
  const reason = `${what}; restart #${count + 1} in ${formatDuration(due - input.now)} (backoff ${formatDuration(delay)})`;
  return { kind: 'wait', waiting: { workloadId: workload.id, kind: 'backoff', reason, until: due } };
}

function blockedBy(options: {
  workload: Workload;
  desired: ReadonlyMap<string, Workload>;
  cycles: ReadonlyMap<string, readonly string[]>;
  isReady: (id: string) => boolean;
  changing: ReadonlyMap<string, string | undefined>;
}): string | undefined {
  const { workload, desired, isReady, changing } = options;
  const cycle = options.cycles.get(workload.id);
  if (cycle !== undefined) return `dependency cycle: ${cycle.join(' → ')}`;
  const notReady = [...new Set(workload.dependsOn)].sort(compareStrings).flatMap((id) => {
    const dependency = desired.get(id);
    if (dependency === undefined) return [`${id} (no such workload)`];
    if (dependency.state === 'stopped') return [`${id} (stopped)`];
    if (changing.has(id)) {
      const change = changing.get(id);
      return [change === undefined ? id : `${id} (${change})`];
    }
    return isReady(id) ? [] : [id];
  });
  if (notReady.length === 0) return undefined;
  return `waiting for ${notReady.join(', ')} to be ready`;
}

/** Sorts the containers of one workload, best first. */
function preferFor(workload: Workload): (a: ObservedContainer, b: ObservedContainer) => number {
  const score = (container: ObservedContainer): number =>
    (container.specHash === workload.specHash ? 0 : 10) + stateRank[container.state];
  return (a, b) =>
    score(a) - score(b) ||
    Number(plainName(a.name) !== workload.name) - Number(plainName(b.name) !== workload.name) ||
    compareStrings(a.id, b.id);
}

function readinessOf(ready: ReconcileInput['ready']): (id: string) => boolean {
  if (ready instanceof Map) return (id) => ready.get(id) === true;
  const record = ready as Readonly<Record<string, boolean>>;
  return (id) => Object.hasOwn(record, id) && record[id] === true;
}

function exitDescription(container: ObservedContainer): string {
  const base =
    container.state === 'dead'
      ? 'container is dead'
      : container.exitCode === undefined
        ? 'exited'
        : `exited with code ${container.exitCode}`;
  return container.error === undefined || container.error === '' ? base : `${base} (${container.error})`;
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/** Parses an ISO time; Docker reports `0001-01-01T00:00:00Z` for "never", which counts as unknown. */
function parseTime(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

function plainName(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

function shortId(id: string): string {
  return id.slice(0, 12);
}

function shortHash(hash: string): string {
  return hash.slice(0, 8);
}

/** `250ms`, `1.5s`, `2m30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${Math.round(ms / 100) / 10}s`;
  const total = Math.round(ms / 1_000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
}

/**
 * One human line for a step: the action, the workload (or the container when it has no workload), and
 * the reason.
 *
 * @example
 * describeStep({ kind: 'create', workloadId: 'ns/app#web', name: 'ns-app-web', reason: 'no container yet' })
 * // 'create ns/app#web: no container yet'
 */
export function describeStep(step: PlanStep): string {
  switch (step.kind) {
    case 'create':
      return `create ${step.workloadId}: ${step.reason}`;
    case 'start':
    case 'restart':
    case 'bounce':
      return `${step.kind} ${step.workloadId} (container ${shortId(step.containerId)}): ${step.reason}`;
    case 'replace':
      return `replace ${step.workloadId} (container ${shortId(step.containerId)}): ${step.reason}`;
    case 'stop':
    case 'remove': {
      const subject =
        step.workloadId === undefined
          ? `container ${shortId(step.containerId)}`
          : `${step.workloadId} (container ${shortId(step.containerId)})`;
      return `${step.kind} ${subject}: ${step.reason}`;
    }
  }
}
