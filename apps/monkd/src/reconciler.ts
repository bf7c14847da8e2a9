import { monkLabels, MonkError, toMonkError, type ObservedWorkload, type Workload } from '@monk/model';
import type { Graph } from '@monk/graph';
import {
  planReconcile,
  describeStep,
  createRetryDelay,
  hasRecovered,
  instancePhase,
  type ObservedContainer,
  type PlanStep,
  type WaitingWorkload,
} from '@monk/planner';
import type { ContainerInfo, ContainerRuntime } from '@monk/runtime';
import type { ImageExchange } from './images/image-exchange.ts';
import type { Logger } from './logger.ts';
import type { CheckProber, ReadinessProber } from './readiness.ts';
import type { Timer, Timers } from './timers.ts';

/** The name of the user-defined bridge network every monk container joins on this host. */
export const workloadNetwork = 'monk';

/** The network this peer's containers join, when it is not the engine-chosen `monk` network. */
export interface WorkloadNetwork {
  readonly name: string;
  /** Subnet and gateway (the mesh: this peer's subnet from its record, routed from every other peer). */
  readonly ipv4?: { readonly subnet: string; readonly gateway: string };
  /** The host's bridge interface name. */
  readonly bridgeName?: string;
  /** DNS servers of the containers, for names the network does not know (the mesh's DNS server). */
  readonly dns?: readonly string[];
}

export interface RuntimeStatus {
  readonly available: boolean;
  readonly version?: string;
  readonly message?: string;
}

export interface Reconciler {
  start(): void;
  stop(): Promise<void>;
  /** Asks for a pass soon (coalesced). */
  kick(): void;
  runtimeStatus(): RuntimeStatus;
}

interface FailureRecord {
  /** The spec that failed: a new spec gets a fresh start. */
  specHash: string;
  count: number;
  nextAttemptAt: number;
  message: string;
  code: string;
}

interface RestartState {
  restarts: number;
  consecutive: number;
}

/**
 * The continuous reconcile loop of one peer: observe the Docker engine, ask the planner for the steps
 * that move this peer's workloads toward the desired graph, apply them, and write what it observed back
 * under this peer's own keys. Runs on graph changes, Docker events, readiness and liveness changes and a
 * periodic resync; survives the engine going away and comes back by itself.
 *
 * It only does I/O: what to do (`planReconcile`), which phase an instance is in (`instancePhase`), when
 * to retry and when a backoff starts over come from `@monk/planner`; every wait goes through `timers`.
 */
export function createReconciler(
  options: {
    peerId: string;
    resyncIntervalMs: number;
    /** Containers never stopped or removed while the graph does not know their workload (`--recover-graph`). */
    spared?: ReadonlySet<string>;
    /**
     * The network containers join, asked on every pass (default: the `monk` network). Undefined while it is
     * not known yet (a mesh peer before its record has a subnet): containers are not created until it is.
     * Each instance's address on it is written to its observed state.
     */
    network?: () => WorkloadNetwork | undefined;
  },
  components: {
    graph: Graph;
    runtime: ContainerRuntime;
    prober: ReadinessProber;
    /** Runs `checks.liveness`; a container failing it is restarted. Without it, liveness checks are not run. */
    liveness?: CheckProber;
    logger: Logger;
    /** The clock and timers of every wait and deadline of the loop. */
    timers: Timers;
    /** Told after this loop started a container (container `hooks`); must return at once, never throw. */
    onContainerStarted?: (workload: Workload, containerId: string) => void;
    /**
     * Gets images the engine lacks before a container is created (the cluster exchange). Without it, a
     * missing image fails the create with the engine's `IMAGE_NOT_FOUND`.
     */
    images?: Pick<ImageExchange, 'prepare'>;
    /** Told when the network of `options.network` has been made on the engine (again); must not throw. */
    onNetworkReady?: (network: WorkloadNetwork) => void;
  },
): Reconciler {
  const { graph, runtime, prober, logger, timers } = components;
  const now = (): number => timers.now();
  const failures = new Map<string, FailureRecord>();
  const restarts = new Map<string, RestartState>();
  /** Why a workload's container was last restarted by its liveness check, until a new container replaces it. */
  const livenessRestarts = new Map<string, string>();
  /** When each workload started waiting for its dependencies (for `depends.wait-for.timeout`). */
  const dependencyWaits = new Map<string, number>();
  /** Workloads whose image is on its way, with what the exchange says about it. */
  const imageWaits = new Map<string, string>();
  let status: RuntimeStatus = { available: false, message: 'not checked yet' };
  /** The network made on the engine (its JSON), so that a changed one is made again. */
  let networkReady: string | undefined;
  let network: WorkloadNetwork | undefined;
  let events: AbortController | undefined;
  let timer: Timer | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let inPass = false;
  let again = false;
  let stopped = true;
  let current: Promise<void> = Promise.resolve();

  for (const observed of graph.listObserved({ peer: options.peerId })) {
    restarts.set(observed.workloadId, { restarts: observed.restarts, consecutive: 0 });
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    const at = now() + Math.max(0, delayMs);
    if (timer !== undefined && timerAt <= at) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    timerAt = at;
    timer = timers.setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        runPass();
      },
      Math.max(0, delayMs),
    );
  }

  function runPass(): void {
    if (stopped) return;
    if (inPass) {
      again = true;
      return;
    }
    inPass = true;
    current = pass()
      .catch((error: unknown) => {
        logger.error('reconcile pass failed', { error: toMonkError(error).toJSON() });
        schedule(1_000);
      })
      .finally(() => {
        inPass = false;
        if (again) {
          again = false;
          runPass();
        }
      });
  }

  async function checkRuntime(): Promise<boolean> {
    try {
      const info = await runtime.info();
      if (!status.available) logger.info('container runtime available', { version: info.version });
      status = { available: true, version: info.version };
      if (events === undefined) watchEvents();
      return true;
    } catch (error) {
      const monkError = toMonkError(error, 'RUNTIME_UNAVAILABLE');
      if (status.available || status.message !== monkError.message) {
        logger.warn('container runtime unavailable', { error: monkError.toJSON() });
      }
      status = { available: false, message: monkError.message };
      networkReady = undefined;
      events?.abort();
      events = undefined;
      return false;
    }
  }

  function watchEvents(): void {
    const controller = new AbortController();
    events = controller;
    const consume = async (): Promise<void> => {
      const labels = { [monkLabels.managed]: 'true', [monkLabels.peer]: options.peerId };
      for await (const event of runtime.events({ signal: controller.signal, labels })) {
        if (
          event.type === 'die' ||
          event.type === 'destroy' ||
          event.type === 'stop' ||
          event.type === 'oom'
        ) {
          schedule(50);
        } else {
          schedule(200);
        }
      }
    };
    consume()
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        logger.warn('docker event stream ended', { error: toMonkError(error).toJSON() });
      })
      .finally(() => {
        if (events === controller) events = undefined;
        // The stream ends when the engine goes away: find out soon, and resync.
        schedule(500);
      });
  }

  // Only this peer's containers: several peers may share one engine (tests, a laptop), and none may
  // mistake another's containers for orphans.
  async function listOwnContainers(): Promise<ContainerInfo[]> {
    return runtime.listContainers({
      all: true,
      labels: { [monkLabels.managed]: 'true', [monkLabels.peer]: options.peerId },
    });
  }

  async function pass(): Promise<void> {
    if (!(await checkRuntime())) {
      markUnavailable();
      schedule(2_000);
      return;
    }
    network = await ensureWorkloadNetwork();
    const containers = await listOwnContainers();
    const workloads = graph.listWorkloads();
    const mine = workloads.filter((w) => w.owner === options.peerId);
    prober.sync(mine, containers);
    components.liveness?.sync(mine, containers);

    const plan = planReconcile({
      peerId: options.peerId,
      // The planner compares engine names: ours carry the peer suffix.
      workloads: workloads.map((w) => ({ ...w, name: dockerName(w.name, options.peerId) })),
      containers: containers.map(toObserved),
      ready: readinessMap(workloads, containers),
      restarts: restartRecords(containers),
      unhealthy: unhealthyMap(mine, containers),
      waitingSince: Object.fromEntries(dependencyWaits),
      now: now(),
    });
    trackDependencyWaits(plan.waiting);

    const t = now();
    const byIdAll = new Map(workloads.map((w) => [w.id, w]));
    const steps = plan.steps.filter((step) => {
      if (step.kind === 'stop' || step.kind === 'remove') {
        const spared =
          options.spared?.has(step.containerId) === true &&
          (step.workloadId === undefined || !byIdAll.has(step.workloadId));
        return !spared;
      }
      if (step.kind !== 'create' && step.kind !== 'replace') return true;
      // No network to put it on yet: it waits, and a running one is not replaced.
      if (network === undefined) return false;
      const failure = failures.get(step.workloadId);
      if (failure !== undefined && failure.specHash !== byIdAll.get(step.workloadId)?.specHash) {
        failures.delete(step.workloadId);
        return true;
      }
      return failure === undefined || failure.nextAttemptAt <= t;
    });
    if (steps.length > 0) {
      logger.debug('applying plan', { steps: steps.map(describeStep) });
      await applySteps(steps, new Map(workloads.map((w) => [w.id, w])));
    }

    const after = steps.length > 0 ? await listOwnContainers() : containers;
    if (steps.length > 0) {
      prober.sync(mine, after);
      components.liveness?.sync(mine, after);
    }
    writeObserved(mine, after, plan.waiting);

    let next = options.resyncIntervalMs;
    for (const waiting of plan.waiting) {
      // A deadline already past (a timed-out dependency wait) needs no wake-up of its own.
      if (waiting.until !== undefined && waiting.until > now()) next = Math.min(next, waiting.until - now());
    }
    for (const failure of failures.values()) next = Math.min(next, failure.nextAttemptAt - now());
    schedule(Math.max(next, 50));
  }

  /** The network of this pass, made on the engine if it is new; undefined while it is not known or not made. */
  async function ensureWorkloadNetwork(): Promise<WorkloadNetwork | undefined> {
    const wanted = options.network === undefined ? { name: workloadNetwork } : options.network();
    if (wanted === undefined) return undefined;
    const key = JSON.stringify(wanted);
    if (networkReady === key) return wanted;
    try {
      await runtime.ensureNetwork(wanted.name, {
        labels: { [monkLabels.managed]: 'true' },
        ...(wanted.ipv4 === undefined ? {} : { ipv4: wanted.ipv4 }),
        ...(wanted.bridgeName === undefined ? {} : { bridgeName: wanted.bridgeName }),
      });
    } catch (error) {
      const monkError = toMonkError(error, 'RUNTIME_ERROR');
      if (monkError.code === 'RUNTIME_UNAVAILABLE') throw monkError;
      logger.warn(`network ${wanted.name} not made; containers wait for it`, { error: monkError.toJSON() });
      return undefined;
    }
    if (wanted.ipv4 !== undefined) logger.info(`containers join network ${wanted.name}`, wanted.ipv4);
    networkReady = key;
    components.onNetworkReady?.(wanted);
    return wanted;
  }

  async function applySteps(steps: readonly PlanStep[], byId: ReadonlyMap<string, Workload>): Promise<void> {
    // Independent steps run together: the planner only emits creates whose dependencies are ready.
    const removals = steps.filter((s) => s.kind === 'stop' || s.kind === 'remove');
    const others = steps.filter((s) => s.kind !== 'stop' && s.kind !== 'remove');
    await runLimited(removals, 8, (step) => applyStep(step, byId));
    await runLimited(others, 8, (step) => applyStep(step, byId));
  }

  async function applyStep(step: PlanStep, byId: ReadonlyMap<string, Workload>): Promise<void> {
    try {
      switch (step.kind) {
        case 'create': {
          const workload = byId.get(step.workloadId);
          if (workload !== undefined && !(await imageReady(workload))) return;
          if (workload !== undefined) await createAndStart(workload);
          break;
        }
        case 'replace': {
          const workload = byId.get(step.workloadId);
          // The old container keeps running until the new one's image is here.
          if (workload !== undefined && !(await imageReady(workload))) return;
          await runtime.stopContainer(step.containerId, { timeoutSeconds: 10 });
          await runtime.removeContainer(step.containerId, { force: true });
          if (workload !== undefined) await createAndStart(workload);
          break;
        }
        case 'start':
          await runtime.startContainer(step.containerId);
          started(step.workloadId, step.containerId);
          break;
        case 'restart': {
          const state = restarts.get(step.workloadId) ?? { restarts: 0, consecutive: 0 };
          restarts.set(step.workloadId, { restarts: state.restarts + 1, consecutive: state.consecutive + 1 });
          await runtime.startContainer(step.containerId);
          started(step.workloadId, step.containerId);
          break;
        }
        case 'bounce':
          if (step.recovery === true) {
            const state = restarts.get(step.workloadId) ?? { restarts: 0, consecutive: 0 };
            restarts.set(step.workloadId, {
              restarts: state.restarts + 1,
              consecutive: state.consecutive + 1,
            });
            livenessRestarts.set(step.workloadId, step.reason);
          }
          // The same container, stopped and started: its filesystem and id survive, as with docker restart.
          await runtime.stopContainer(step.containerId, { timeoutSeconds: 10 });
          await runtime.startContainer(step.containerId);
          started(step.workloadId, step.containerId);
          break;
        case 'stop':
          await runtime.stopContainer(step.containerId, { timeoutSeconds: 10 });
          break;
        case 'remove':
          await runtime.removeContainer(step.containerId, { force: true });
          break;
        default: {
          const unknown: never = step;
          throw new MonkError('INTERNAL', `unknown plan step ${JSON.stringify(unknown)}`);
        }
      }
      if (step.workloadId !== undefined && (step.kind === 'create' || step.kind === 'replace')) {
        failures.delete(step.workloadId);
      }
      logger.info(describeStep(step));
    } catch (error) {
      const monkError = toMonkError(error, 'RUNTIME_ERROR');
      if (monkError.code === 'RUNTIME_UNAVAILABLE') throw monkError;
      if (step.workloadId !== undefined) imageWaits.delete(step.workloadId);
      logger.warn(`failed: ${describeStep(step)}`, { error: monkError.toJSON() });
      if (step.workloadId !== undefined && (step.kind === 'create' || step.kind === 'replace')) {
        const previous = failures.get(step.workloadId);
        const count = (previous?.count ?? 0) + 1;
        const delay = createRetryDelay(count);
        failures.set(step.workloadId, {
          specHash: byId.get(step.workloadId)?.specHash ?? '',
          count,
          nextAttemptAt: now() + delay,
          message: monkError.message,
          code: monkError.code,
        });
      }
    }
  }

  /** Whether the workload's image is on this engine; if not, the exchange is getting it. */
  async function imageReady(workload: Workload): Promise<boolean> {
    if (components.images === undefined) return true;
    const preparation = await components.images.prepare(workload.spec.image);
    if (preparation.ready) {
      imageWaits.delete(workload.id);
      return true;
    }
    if (imageWaits.get(workload.id) !== preparation.message) logger.info(preparation.message);
    imageWaits.set(workload.id, preparation.message);
    return false;
  }

  async function createAndStart(workload: Workload): Promise<void> {
    const joins = network ?? { name: workloadNetwork };
    const created = await runtime.createContainer({
      name: dockerName(workload.name, options.peerId),
      spec: workload.spec,
      labels: {
        [monkLabels.managed]: 'true',
        [monkLabels.workload]: workload.id,
        [monkLabels.specHash]: workload.specHash,
        [monkLabels.peer]: options.peerId,
        [monkLabels.generation]: String(workload.generation),
      },
      network: { name: joins.name, aliases: [workload.name, ...workload.aliases] },
      hostname: workload.name,
      ...(joins.dns === undefined ? {} : { dns: joins.dns }),
    });
    if (workload.spec.files.length > 0) await runtime.putFiles(created.id, workload.spec.files);
    restarts.set(workload.id, { restarts: restarts.get(workload.id)?.restarts ?? 0, consecutive: 0 });
    livenessRestarts.delete(workload.id);
    await runtime.startContainer(created.id);
    components.onContainerStarted?.(workload, created.id);
  }

  function started(workloadId: string, containerId: string): void {
    const workload = graph.getWorkload(workloadId);
    if (workload !== undefined) components.onContainerStarted?.(workload, containerId);
  }

  function readinessMap(
    workloads: readonly Workload[],
    containers: readonly ContainerInfo[],
  ): Record<string, boolean> {
    const ready: Record<string, boolean> = {};
    const running = runningByWorkload(containers);
    for (const w of workloads) {
      if (w.owner !== options.peerId) {
        ready[w.id] = graph.getObserved(w.id)?.ready ?? false;
        continue;
      }
      const container = running.get(w.id);
      ready[w.id] =
        container !== undefined && (w.readiness === undefined || prober.isReady(w.id, container.id));
    }
    return ready;
  }

  /** The workloads whose running container failed its liveness check `attempts` times in a row. */
  function unhealthyMap(
    mine: readonly Workload[],
    containers: readonly ContainerInfo[],
  ): Record<string, string> {
    const unhealthy: Record<string, string> = {};
    const liveness = components.liveness;
    if (liveness === undefined) return unhealthy;
    const running = runningByWorkload(containers);
    for (const w of mine) {
      const container = running.get(w.id);
      if (w.liveness === undefined || container === undefined) continue;
      const status = liveness.status(w.id, container.id);
      if (status.failed) {
        const attempts = w.liveness.attempts;
        unhealthy[w.id] =
          `${status.answer ?? 'no answer'} (${attempts} ${attempts === 1 ? 'time' : 'times in a row'})`;
      }
    }
    return unhealthy;
  }

  function trackDependencyWaits(waiting: readonly WaitingWorkload[]): void {
    const waitingNow = new Set<string>();
    for (const w of waiting) {
      if (w.kind !== 'dependencies') continue;
      waitingNow.add(w.workloadId);
      if (!dependencyWaits.has(w.workloadId)) dependencyWaits.set(w.workloadId, now());
    }
    for (const id of [...dependencyWaits.keys()]) if (!waitingNow.has(id)) dependencyWaits.delete(id);
  }

  function restartRecords(
    containers: readonly ContainerInfo[],
  ): Record<string, { restarts: number; lastExitAt?: number }> {
    const records: Record<string, { restarts: number; lastExitAt?: number }> = {};
    for (const c of containers) {
      const id = c.labels[monkLabels.workload];
      if (id === undefined) continue;
      const state = restarts.get(id) ?? { restarts: 0, consecutive: 0 };
      // A container that has stayed up for a minute has recovered: back-off starts over.
      if (
        c.state === 'running' &&
        c.startedAt !== undefined &&
        hasRecovered({ startedAt: Date.parse(c.startedAt), now: now() })
      ) {
        state.consecutive = 0;
        restarts.set(id, state);
      }
      const finished = c.finishedAt === undefined ? undefined : Date.parse(c.finishedAt);
      records[id] = {
        restarts: state.consecutive,
        ...(finished === undefined || Number.isNaN(finished) || finished <= 0
          ? {}
          : { lastExitAt: finished }),
      };
    }
    return records;
  }

  function writeObserved(
    mine: readonly Workload[],
    containers: readonly ContainerInfo[],
    waiting: readonly WaitingWorkload[],
  ): void {
    const byWorkload = new Map<string, ContainerInfo>();
    for (const c of containers) {
      const id = c.labels[monkLabels.workload];
      if (id === undefined) continue;
      const existing = byWorkload.get(id);
      if (existing === undefined || (c.state === 'running' && existing.state !== 'running')) {
        byWorkload.set(id, c);
      }
    }
    const waitingById = new Map(waiting.map((w) => [w.workloadId, w]));
    const updatedAt = new Date(now()).toISOString();
    const desiredIds = new Set(mine.map((w) => w.id));
    graph.transact(() => {
      for (const workload of mine) {
        const next = observe(workload, byWorkload.get(workload.id), waitingById.get(workload.id));
        const previous = graph.getObserved(workload.id);
        if (previous !== undefined && sameObservation(previous, next)) continue;
        graph.setObserved({ ...next, updatedAt });
      }
      for (const observed of graph.listObserved({ peer: options.peerId })) {
        if (!desiredIds.has(observed.workloadId)) graph.deleteObserved(observed.workloadId);
      }
    });
  }

  function observe(
    workload: Workload,
    container: ContainerInfo | undefined,
    waiting: WaitingWorkload | undefined,
  ): Omit<ObservedWorkload, 'updatedAt'> {
    const failure = failures.get(workload.id);
    const imageWait = imageWaits.get(workload.id);
    const livenessRestart = livenessRestarts.get(workload.id);
    const running = container?.state === 'running';
    const status = instancePhase({
      desired: workload.state,
      recovery: workload.recovery,
      readinessChecked: workload.readiness !== undefined,
      ...(container === undefined
        ? {}
        : {
            container: {
              state: container.state,
              ...(container.exitCode === undefined ? {} : { exitCode: container.exitCode }),
            },
          }),
      ...(failure === undefined ? {} : { failure: { message: failure.message, code: failure.code } }),
      ...(imageWait === undefined ? {} : { imageWait }),
      ...(waiting === undefined ? {} : { waiting }),
      ...(running && workload.readiness !== undefined
        ? { readiness: prober.status(workload.id, container.id) }
        : {}),
      ...(running && workload.liveness !== undefined && components.liveness !== undefined
        ? { liveness: components.liveness.status(workload.id, container.id) }
        : {}),
      ...(livenessRestart === undefined ? {} : { livenessRestart }),
      consecutiveRestarts: restarts.get(workload.id)?.consecutive ?? 0,
      now: now(),
    });
    const base = {
      workloadId: workload.id,
      peer: options.peerId,
      restarts: restarts.get(workload.id)?.restarts ?? 0,
      phase: status.phase,
      ready: status.ready,
      ...(status.message === undefined ? {} : { message: status.message }),
      ...(status.exitCode === undefined ? {} : { exitCode: status.exitCode }),
      ...(status.errorCode === undefined ? {} : { errorCode: status.errorCode }),
    };
    if (container === undefined) return base;
    const address =
      options.network === undefined || network === undefined || container.state !== 'running'
        ? undefined
        : container.ipAddresses[network.name];
    return {
      ...base,
      containerId: container.id,
      ...(container.labels[monkLabels.specHash] === undefined
        ? {}
        : { specHash: container.labels[monkLabels.specHash] }),
      ...(container.startedAt === undefined ? {} : { startedAt: container.startedAt }),
      ...(address === undefined ? {} : { address }),
    };
  }

  function markUnavailable(): void {
    const updatedAt = new Date(now()).toISOString();
    graph.transact(() => {
      for (const observed of graph.listObserved({ peer: options.peerId })) {
        const message = `container runtime unavailable: ${status.message ?? 'no answer'}`;
        if (observed.message === message) continue;
        graph.setObserved({
          ...observed,
          ready: false,
          message,
          errorCode: 'RUNTIME_UNAVAILABLE',
          updatedAt,
        });
      }
    });
  }

  return {
    start() {
      stopped = false;
      prober.onChange(() => schedule(0));
      components.liveness?.onChange(() => schedule(0));
      runPass();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      events?.abort();
      prober.stop();
      components.liveness?.stop();
      await current;
    },
    kick() {
      schedule(20);
    },
    runtimeStatus: () => status,
  };
}

/**
 * The engine-wide container name: the workload's name plus a short peer suffix, so that peers sharing an
 * engine never collide. Other containers reach it by the workload name and aliases on the network.
 */
export function dockerName(workloadName: string, peerId: string): string {
  return `${workloadName}-${peerId
    .replace(/[^a-zA-Z0-9]/g, '')
    .slice(-6)
    .toLowerCase()}`;
}

function runningByWorkload(containers: readonly ContainerInfo[]): Map<string, ContainerInfo> {
  const running = new Map<string, ContainerInfo>();
  for (const c of containers) {
    const id = c.labels[monkLabels.workload];
    if (id !== undefined && c.state === 'running') running.set(id, c);
  }
  return running;
}

function toObserved(c: ContainerInfo): ObservedContainer {
  const workloadId = c.labels[monkLabels.workload];
  const specHash = c.labels[monkLabels.specHash];
  const peer = c.labels[monkLabels.peer];
  return {
    id: c.id,
    name: c.name,
    state: c.state,
    ...(workloadId === undefined ? {} : { workloadId }),
    ...(specHash === undefined ? {} : { specHash }),
    ...(peer === undefined ? {} : { peer }),
    ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
    ...(c.finishedAt === undefined ? {} : { finishedAt: c.finishedAt }),
    ...(c.startedAt === undefined ? {} : { startedAt: c.startedAt }),
    ...(c.error === undefined ? {} : { error: c.error }),
  };
}

function sameObservation(a: ObservedWorkload, b: Omit<ObservedWorkload, 'updatedAt'>): boolean {
  return (
    a.phase === b.phase &&
    a.ready === b.ready &&
    a.containerId === b.containerId &&
    a.specHash === b.specHash &&
    a.restarts === b.restarts &&
    a.exitCode === b.exitCode &&
    a.message === b.message &&
    a.errorCode === b.errorCode &&
    a.startedAt === b.startedAt &&
    a.address === b.address
  );
}

async function runLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let index = 0;
  const worker = async (): Promise<void> => {
    while (index < items.length) {
      const item = items[index++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
