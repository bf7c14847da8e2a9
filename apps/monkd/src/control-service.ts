import {
  instanceStatus,
  monkLabels,
  MonkError,
  toMonkError,
  type Deployment,
  type JsonObject,
  type JsonValue,
  type ObservedWorkload,
  type PeerCapacity,
  type PeerState,
  type Workload,
} from '@monk/model';
import type { DeploymentConflict, Graph } from '@monk/graph';
import {
  dumpTemplate,
  parseTemplateRecord,
  resolveDeployment,
  templateRecordSchema,
  type TemplateRecord,
  type TemplateSource,
} from '@monk/monkscript';
import { formatPlan, isDeployFailure, planDeploy, type DeployPeer } from '@monk/planner';
import type { ContainerRuntime } from '@monk/runtime';
import type {
  ConflictEvent,
  ConflictWrite,
  MethodName,
  DeployResult,
  DescribeResult,
  InfoResult,
  ParsedParams,
  PeerProblem,
  PlanResult,
  PsEntry,
  TemplateSummary,
} from '@monk/sdk';
import type { CallChannel, HandlerGroup } from './handlers.ts';
import type { Logger } from './logger.ts';
import type { Reconciler } from './reconciler.ts';
import { resolvePinnedPeer } from './pin-peer.ts';
import { createResolveHosts, missingSecretsError, type ResolveHosts } from './resolve-host.ts';
import { selectWorkloads } from './workloads.ts';

export interface ControlServiceOptions {
  readonly peerId: string;
  readonly peerName: string;
  readonly dataDir: string;
  readonly volumeRoot: string;
  readonly version: string;
  readonly startedAt: string;
  /** What this host offers to workloads: placement's view of this peer when it is in no cluster. */
  readonly capacity?: PeerCapacity;
}

/**
 * The daemon's core control API: templates, deployments and their instances. Changes are written to the
 * graph and made durable (`graph.flush()`) before the call answers; the reconciler does the rest.
 */
export function createCoreHandlers(
  options: ControlServiceOptions,
  components: {
    graph: Graph;
    runtime: ContainerRuntime;
    reconciler: Reconciler;
    logger: Logger;
    now: () => number;
    /** What is wrong with this peer right now, for `info` (default: nothing). */
    problems?: () => readonly PeerProblem[];
    /** Hostnames, secrets and stable UUIDs for resolution (default: hostnames only). */
    resolveHosts?: ResolveHosts;
    /**
     * Membership's view of the other peers, by id; absent (or empty) on a peer with no cluster. `monk ps`
     * says `unknown: peer dead` for the instances of a peer it shows dead.
     */
    peerStates?: () => ReadonlyMap<string, PeerState | 'unknown'>;
    /**
     * The cluster's members as placement sees them (state, tags, capacity); absent or empty on a peer with
     * no cluster, which then places everything on itself.
     */
    deployPeers?: () => DeployPeer[];
    /** Runs a call on the peer that owns a workload (logs, exec); absent on a peer with no cluster. */
    forward?: (
      peerId: string,
      request: { method: MethodName; params: JsonObject },
      channel: CallChannel,
    ) => Promise<JsonValue>;
  },
): HandlerGroup {
  const { graph, runtime, reconciler, logger } = components;

  const templates: TemplateSource = {
    get(path) {
      const value = graph.getTemplate(path);
      return value === undefined ? undefined : parseRecord(value, path);
    },
    list() {
      return graph.listTemplates().map(({ path, value }) => parseRecord(value, path));
    },
  };

  /** Resolves a deployment's template into runnables, naming every missing secret at once. */
  async function resolveRunnables(request: {
    path: string;
    variables: Record<string, string>;
    strict: boolean;
  }) {
    const { path, variables, strict } = request;
    const hosts = components.resolveHosts ?? createResolveHosts({});
    const resolve = async (missingSecrets?: Array<{ name: string; runnable: string }>) =>
      resolveDeployment({
        path,
        templates,
        overrides: variables,
        strict,
        host: await hosts.forDeployment(
          normalize(path),
          missingSecrets === undefined ? {} : { missingSecrets },
        ),
        volumeRoot: options.volumeRoot,
      });
    try {
      return await resolve();
    } catch (error) {
      if (toMonkError(error).code !== 'SECRET_NOT_FOUND') throw error;
      // Once more, recording every secret that is not set, to name them all in one error.
      const missing: Array<{ name: string; runnable: string }> = [];
      await resolve(missing).catch(() => undefined);
      throw missing.length === 0 ? error : missingSecretsError(normalize(path), missing);
    }
  }

  /**
   * The cluster as placement sees it: membership's view when the daemon gives one; else the peers the
   * graph records (taken as alive); else this peer alone.
   */
  function deployPeers(): DeployPeer[] {
    const members = components.deployPeers?.() ?? [];
    if (members.length > 0) return members;
    const recorded: DeployPeer[] = graph.listPeers().map((record) => ({
      id: record.id,
      name: record.name,
      role: record.role,
      state: 'alive',
      tags: record.tags,
      ...(record.capacity === undefined ? {} : { capacity: record.capacity }),
    }));
    if (recorded.some((peer) => peer.id === options.peerId)) return recorded;
    return [
      ...recorded,
      {
        id: options.peerId,
        name: options.peerName,
        role: 'peer',
        state: 'alive',
        tags: [],
        ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
      },
    ];
  }

  /**
   * Gathers the inputs of the deploy core ({@link planDeploy}) for a deployment: the template resolved
   * with `variables`, every workload of the graph, the peers. Writes nothing.
   */
  async function planFor(request: {
    path: string;
    variables: Record<string, string>;
    generation: number;
    strict: boolean;
    pin?: string;
    tags?: readonly string[];
    forceMove?: boolean;
    replicas?: Readonly<Record<string, number>>;
  }) {
    const resolved = await resolveRunnables(request);
    const plan = planDeploy({
      deployment: request.path,
      runnables: resolved.runnables,
      generation: request.generation,
      workloads: graph.listWorkloads(),
      peers: deployPeers(),
      accepting: options.peerId,
      ...(request.pin === undefined ? {} : { pin: request.pin }),
      ...(request.tags === undefined ? {} : { tags: request.tags }),
      ...(request.forceMove === undefined ? {} : { forceMove: request.forceMove }),
      ...(request.replicas === undefined ? {} : { replicas: request.replicas }),
    });
    return { plan, resolved };
  }

  async function deploy(
    method: 'run' | 'update',
    params: ParsedParams<'run'> | ParsedParams<'update'>,
    channel: CallChannel,
  ): Promise<DeployResult> {
    const path = normalize(params.path);
    const previous = graph.getDeployment(path);
    if (method === 'update' && previous === undefined) {
      throw new MonkError('NOT_RUNNING', `${path} is not running; start it with monk run ${path}`);
    }
    const run = method === 'run' ? (params as ParsedParams<'run'>) : undefined;
    return apply({
      method,
      path,
      previous,
      variables: params.variables ?? previous?.variables ?? {},
      strict: params.strict,
      ...(run?.peer === undefined ? {} : { pin: pinnedPeer(run.peer) }),
      ...(run?.tags === undefined ? {} : { tags: run.tags }),
      forceMove: run?.forceMove ?? false,
      replicas: previous?.scale,
      wait: params.wait,
      timeoutSeconds: params.timeoutSeconds,
      channel,
    });
  }

  /**
   * Resolve → place → write: asks the deploy core for the deployment's next workloads and writes them with
   * the deployment in one transaction, durable before it answers; then follows them until ready when
   * asked to. Unschedulable instances are written too (they are placed when room appears); with `wait`,
   * the call then fails with `UNSCHEDULABLE` once the others are ready.
   */
  async function apply(request: {
    method: 'run' | 'update' | 'scale';
    path: string;
    previous: Deployment | undefined;
    variables: Record<string, string>;
    strict: boolean;
    pin?: string;
    tags?: readonly string[];
    forceMove: boolean;
    replicas: Readonly<Record<string, number>> | undefined;
    wait: boolean;
    timeoutSeconds: number;
    channel: CallChannel;
  }): Promise<DeployResult> {
    const { path, previous, variables } = request;
    const generation = (previous?.generation ?? 0) + 1;
    const tags = request.tags ?? previous?.tags;
    const { plan, resolved } = await planFor({
      path,
      variables,
      generation,
      strict: request.strict,
      ...(request.pin === undefined ? {} : { pin: request.pin }),
      ...(tags === undefined ? {} : { tags }),
      forceMove: request.forceMove,
      ...(request.replicas === undefined ? {} : { replicas: request.replicas }),
    });
    const deployment: Deployment = {
      path,
      variables,
      state: 'running',
      generation,
      updatedAt: new Date(components.now()).toISOString(),
      ...(request.replicas === undefined || Object.keys(request.replicas).length === 0
        ? {}
        : { scale: { ...request.replicas } }),
      ...(tags === undefined || tags.length === 0 ? {} : { tags: [...tags] }),
    };
    graph.transact(() => {
      graph.putDeployment(deployment);
      graph.deleteWorkloads(plan.deleted);
      graph.putWorkloads(plan.workloads);
    });
    await graph.flush();
    logger.info(`${request.method} ${path}`, {
      generation,
      workloads: plan.workloads.length,
      unschedulable: plan.unschedulable.length,
    });
    reconciler.kick();
    const ids = plan.workloads.map((w) => w.id);
    const unschedulable = plan.unschedulable.map(({ workloadId, reason }) => ({ workloadId, reason }));
    // What lands on a peer that is unreachable now (suspect, dead, left) is pending, not waited for.
    const result = (ready: boolean): DeployResult => {
      const pending = unreachable(ids);
      return {
        path,
        generation,
        changes: plan.changes,
        workloads: psEntries(ids),
        ready: ready && pending.length === 0,
        warnings: resolved.warnings,
        ...(unschedulable.length === 0 ? {} : { unschedulable }),
        ...(pending.length === 0 ? {} : { pending }),
      };
    };
    if (!request.wait) return result(false);
    const placed = plan.workloads.filter((w) => w.owner !== '').map((w) => w.id);
    const ready = await waitFor(placed, {
      timeoutSeconds: request.timeoutSeconds,
      channel: request.channel,
      until: 'ready',
    });
    if (unschedulable.length > 0) {
      throw new MonkError(
        'UNSCHEDULABLE',
        `${unschedulable.map((u) => `${u.workloadId}: ${u.reason}`).join('\n')}\n(recorded: placed when a peer has room; monk describe ${path} shows why)`,
        { details: { unschedulable: unschedulable.map((u) => u.workloadId) } },
      );
    }
    return result(ready);
  }

  /** `monk scale PATH N`: records the replicas in the deployment and deploys them. */
  async function scale(params: ParsedParams<'scale'>, channel: CallChannel): Promise<DeployResult> {
    const target = normalize(params.path);
    const paths = findDeploymentPaths(target);
    const path = paths[0];
    const previous = path === undefined ? undefined : graph.getDeployment(path);
    if (path === undefined || previous === undefined || paths.length > 1) {
      throw new MonkError('NOT_RUNNING', `${target} is not running; start it with monk run ${target}`);
    }
    const runnables = [...new Set(graph.listWorkloads({ deployment: path }).map((w) => w.runnable))].sort();
    const runnable = runnables.includes(target) ? target : runnables.length === 1 ? runnables[0] : undefined;
    if (runnable === undefined) {
      throw new MonkError(
        'INVALID_REQUEST',
        `${target} runs several runnables; name the one to scale: ${runnables.join(', ')}`,
      );
    }
    return apply({
      method: 'scale',
      path,
      previous,
      variables: previous.variables,
      strict: false,
      forceMove: false,
      replicas: { ...previous.scale, [runnable]: params.replicas },
      wait: params.wait,
      timeoutSeconds: params.timeoutSeconds,
      channel,
    });
  }

  /** The workloads among `ids` whose owner membership shows suspect, dead or gone. */
  function unreachable(ids: readonly string[]): string[] {
    const states = components.peerStates?.() ?? new Map<string, PeerState | 'unknown'>();
    return ids.filter((id) => {
      const owner = graph.getWorkload(id)?.owner;
      const state = owner === undefined || owner === options.peerId ? 'alive' : states.get(owner);
      return state === 'suspect' || state === 'dead' || state === 'left';
    });
  }

  /** The peer id `--peer` names, among the cluster's peers (this one alone when in no cluster). */
  function pinnedPeer(text: string): string {
    const recorded = graph.listPeers().filter((p) => p.role === 'peer');
    const candidates = recorded.length > 0 ? recorded : [{ id: options.peerId, name: options.peerName }];
    return resolvePinnedPeer(candidates, text);
  }

  /**
   * Follows the observed state of some workloads until they are all ready (or all stopped),
   * emitting a progress event on every phase change. Throws DEPLOY_FAILED as soon as one fails.
   */
  async function waitFor(
    ids: readonly string[],
    waitOptions: { timeoutSeconds: number; channel: CallChannel; until: 'ready' | 'stopped' },
  ): Promise<boolean> {
    const seen = new Map<string, string>();
    const deadline = components.now() + waitOptions.timeoutSeconds * 1000;
    return new Promise<boolean>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        unsubscribe();
        clearInterval(poll);
        fn();
      };
      const check = (): void => {
        // An observation of a container built from an older spec says nothing about this deploy.
        const specs = new Map(graph.listWorkloads().map((w) => [w.id, w.specHash]));
        const statuses = ids.map((id) => {
          const observed = graph.getObserved(id);
          const spec = specs.get(id);
          const current =
            observed === undefined ||
            observed.specHash === undefined ||
            spec === undefined ||
            observed.specHash === spec;
          return { id, observed: current ? observed : undefined };
        });
        for (const { id, observed } of statuses) {
          if (observed === undefined) continue;
          const key = `${observed.phase}|${observed.ready}|${observed.message ?? ''}`;
          if (seen.get(id) !== key) {
            seen.set(id, key);
            waitOptions.channel
              .emit({
                type: 'progress',
                workloadId: id,
                phase: observed.phase,
                ready: observed.ready,
                ...(observed.message === undefined ? {} : { message: observed.message }),
              })
              .catch(() => undefined);
          }
        }
        if (waitOptions.until === 'ready') {
          const failed = statuses.filter(
            ({ observed }) => observed !== undefined && isDeployFailure(observed),
          );
          if (failed.length > 0) {
            finish(() =>
              reject(
                new MonkError(
                  'DEPLOY_FAILED',
                  failed
                    .map(({ id, observed }) => `${id}: ${observed?.message ?? observed?.phase ?? 'failed'}`)
                    .join('; '),
                  { details: { failed: failed.map(({ id }) => id) } },
                ),
              ),
            );
            return;
          }
          const away = new Set(unreachable(ids));
          if (statuses.every(({ id, observed }) => away.has(id) || observed?.ready === true))
            finish(() => resolve(true));
        } else if (
          statuses.every(
            ({ observed }) => observed === undefined || ['stopped', 'exited'].includes(observed.phase),
          )
        ) {
          finish(() => resolve(true));
        }
        if (components.now() > deadline) {
          finish(() =>
            reject(
              new MonkError('TIMEOUT', `not ${waitOptions.until} after ${waitOptions.timeoutSeconds}s`, {
                details: {
                  pending: statuses.filter(({ observed }) => observed?.ready !== true).map(({ id }) => id),
                },
              }),
            ),
          );
        }
      };
      const unsubscribe = graph.onChange((changes) => {
        if (changes.some((c) => c.kind === 'observed')) check();
      });
      const poll = setInterval(check, 500);
      waitOptions.channel.signal.addEventListener('abort', () =>
        finish(() => reject(new MonkError('CANCELLED', 'the client went away'))),
      );
      check();
    });
  }

  /**
   * Returns a builder of `monk ps` rows, with membership and the runtime read once. The state of each row
   * comes from {@link instanceStatus}, so the table and `--json` say the same.
   */
  function psRowBuilder(): (w: Workload) => PsEntry {
    const peers = components.peerStates?.() ?? new Map<string, PeerState | 'unknown'>();
    const runtimeAvailable = reconciler.runtimeStatus().available;
    return (w) => {
      const observed = graph.getObserved(w.id);
      const own = w.owner === options.peerId;
      const ownerState = own ? undefined : peers.get(w.owner);
      const status = instanceStatus({
        observed,
        ...(ownerState === undefined ? {} : { ownerState }),
        ...(own ? { runtimeAvailable } : {}),
      });
      return {
        ...psEntry(w, observed),
        state: status.state,
        ready: status.ready,
        ...(status.reason === undefined ? {} : { reason: status.reason }),
      };
    };
  }

  function psEntries(ids?: readonly string[], all = true): PsEntry[] {
    const workloads = graph.listWorkloads();
    const selected = ids === undefined ? workloads : workloads.filter((w) => ids.includes(w.id));
    return selected
      .filter((w) => all || w.state === 'running')
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(psRowBuilder());
  }

  function conflictEvent(conflict: DeploymentConflict): ConflictEvent {
    const side = (write: DeploymentConflict['won']): ConflictWrite => {
      const name = graph.getPeer(write.peer)?.name;
      return {
        peer: write.peer,
        ...(name === undefined ? {} : { peerName: name }),
        at: write.at,
        state: write.deployment.state,
        generation: write.deployment.generation,
        variables: write.deployment.variables,
      };
    };
    return {
      type: 'conflict',
      path: conflict.path,
      at: conflict.lost.at,
      lost: side(conflict.lost),
      won: side(conflict.won),
    };
  }

  function findDeploymentPaths(path: string): string[] {
    const normalized = normalize(path);
    const deployments = graph.listDeployments().map((d) => d.path);
    if (deployments.includes(normalized)) return [normalized];
    const owning = new Set(selectWorkloads(graph.listWorkloads(), normalized).map((w) => w.deployment));
    return [...owning];
  }

  const handlers: HandlerGroup = {
    info: async () => {
      const status = reconciler.runtimeStatus();
      const result: InfoResult = {
        peerId: options.peerId,
        peerName: options.peerName,
        version: options.version,
        dataDir: options.dataDir,
        startedAt: options.startedAt,
        runtime: {
          available: status.available,
          ...(status.version === undefined ? {} : { version: status.version }),
          ...(status.message === undefined ? {} : { message: status.message }),
        },
        problems: components.problems?.() ?? [],
      };
      return result;
    },
    'templates.put': async (params) => {
      const records = params.templates.map((value, index) =>
        parseTemplateRecord(value, `template #${index + 1}`),
      );
      graph.putTemplates(records.map((record) => ({ path: record.path, value: record })));
      await graph.flush();
      return { loaded: records.map((r) => r.path) };
    },
    'templates.list': async () => {
      const running = new Set(graph.listDeployments().map((d) => d.path));
      const list: TemplateSummary[] = templates
        .list()
        .map((record) => ({
          path: record.path,
          kind: record.kind,
          file: record.file,
          private: isPrivate(record),
          running: running.has(record.path),
        }))
        .sort((a, b) => a.path.localeCompare(b.path));
      return list;
    },
    'templates.dump': async (params) => dumpTemplate({ path: normalize(params.path), templates }),
    plan: async (params) => {
      const path = normalize(params.path);
      const previous = graph.getDeployment(path);
      const variables =
        Object.keys(params.variables).length > 0 ? params.variables : (previous?.variables ?? {});
      const { plan, resolved } = await planFor({
        path,
        variables,
        generation: (previous?.generation ?? 0) + 1,
        strict: params.strict,
        ...(previous?.tags === undefined ? {} : { tags: previous.tags }),
        ...(previous?.scale === undefined ? {} : { replicas: previous.scale }),
      });
      const result: PlanResult = {
        path,
        changes: plan.changes,
        text: formatPlan(plan.changes),
        warnings: resolved.warnings,
      };
      return result;
    },
    run: (params, channel) => deploy('run', params, channel),
    update: (params, channel) => deploy('update', params, channel),
    scale: (params, channel) => scale(params, channel),
    stop: async (params, channel) => {
      const paths = findDeploymentPaths(params.path);
      if (paths.length === 0) throw new MonkError('NOT_RUNNING', `${normalize(params.path)} is not running`);
      const stopped: string[] = [];
      graph.transact(() => {
        for (const path of paths) {
          const deployment = graph.getDeployment(path);
          if (deployment !== undefined) {
            graph.putDeployment({
              ...deployment,
              state: 'stopped',
              updatedAt: new Date(components.now()).toISOString(),
            });
          }
          const workloads = graph
            .listWorkloads({ deployment: path })
            .map((w) => ({ ...w, state: 'stopped' as const }));
          graph.putWorkloads(workloads);
          stopped.push(...workloads.map((w) => w.id));
        }
      });
      await graph.flush();
      reconciler.kick();
      await waitFor(stopped, { timeoutSeconds: 60, channel, until: 'stopped' });
      return { stopped };
    },
    restart: async (params, channel) => {
      const paths = findDeploymentPaths(params.path);
      const requestedAt = new Date(components.now()).toISOString();
      const targets = paths
        .flatMap((path) => graph.listWorkloads({ deployment: path }))
        .filter((workload) => workload.state === 'running');
      if (targets.length === 0)
        throw new MonkError('NOT_RUNNING', `${normalize(params.path)} is not running`);
      // Desired state, not a command: each owner restarts its containers that started before this time.
      graph.putWorkloads(targets.map((workload) => ({ ...workload, restartRequestedAt: requestedAt })));
      await graph.flush();
      reconciler.kick();
      const ids = targets.map((workload) => workload.id);
      const after = Date.parse(requestedAt);
      const done = (id: string): boolean => {
        const observed = graph.getObserved(id);
        const workload = graph.getWorkload(id);
        if (observed?.startedAt === undefined || Date.parse(observed.startedAt) < after) return false;
        return workload?.readiness === undefined
          ? observed.phase === 'running' || observed.ready
          : observed.ready;
      };
      const deadline = components.now() + params.timeoutSeconds * 1000;
      const reported = new Set<string>();
      while (!ids.every(done)) {
        if (channel.signal.aborted) break;
        if (components.now() > deadline) {
          const left = ids.filter((id) => !done(id));
          throw new MonkError(
            'TIMEOUT',
            `${left.join(', ')} did not come back within ${params.timeoutSeconds}s of monk restart; see monk describe ${normalize(params.path)}`,
            { details: { workloads: left } },
          );
        }
        for (const id of ids.filter((candidate) => done(candidate) && !reported.has(candidate))) {
          reported.add(id);
          await channel.emit({ type: 'restarted', workloadId: id });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return { restarted: ids };
    },
    purge: async (params, channel) => {
      const path = normalize(params.path);
      const paths = findDeploymentPaths(path);
      const all = paths.flatMap((p) => graph.listWorkloads({ deployment: p }));
      const removed = all.filter((w) => w.owner === options.peerId).map((w) => w.id);
      const removedRemote = all.filter((w) => w.owner !== options.peerId).map((w) => w.id);
      const excised: string[] = [];
      if (paths.length === 0 && !params.excise) throw new MonkError('NOT_RUNNING', `${path} is not running`);
      if (params.excise && graph.getTemplate(path) === undefined) {
        throw new MonkError('TEMPLATE_NOT_FOUND', `no template at ${path}`);
      }
      graph.transact(() => {
        for (const p of paths) {
          graph.deleteWorkloads(graph.listWorkloads({ deployment: p }).map((w) => w.id));
          graph.deleteDeployment(p);
        }
        if (params.excise) {
          graph.deleteTemplates([path]);
          excised.push(path);
        }
      });
      await graph.flush();
      reconciler.kick();
      await waitForRemoval(removed, channel);
      await waitFor(removedRemote, { timeoutSeconds: 60, channel, until: 'stopped' });
      return { removed: [...removed, ...removedRemote], excised };
    },
    ps: async (params) => psEntries(undefined, params.all),
    describe: async (params) => {
      const path = normalize(params.path);
      const workloads = selectWorkloads(graph.listWorkloads(), path);
      const record = templates.get(path);
      const row = psRowBuilder();
      if (workloads.length === 0 && record === undefined) {
        throw new MonkError(
          'RUNNABLE_NOT_FOUND',
          `nothing is known at ${path}: no template and no running instance`,
        );
      }
      const deployment = graph.getDeployment(path);
      const result: DescribeResult = {
        path,
        kind: record?.kind ?? 'runnable',
        ...(deployment === undefined
          ? {}
          : {
              deployment: {
                state: deployment.state,
                generation: deployment.generation,
                variables: deployment.variables,
                updatedAt: deployment.updatedAt,
              },
            }),
        workloads: workloads.map((w) => ({
          ...row(w),
          aliases: w.aliases,
          dependsOn: w.dependsOn,
          specHash: w.specHash,
          ...(w.unschedulable === undefined
            ? {}
            : {
                placement: {
                  reason: w.unschedulable.reason,
                  peers: w.unschedulable.peers.map(({ peer, reason }) => {
                    const name = graph.getPeer(peer)?.name;
                    return { peer, ...(name === undefined ? {} : { peerName: name }), reason };
                  }),
                },
              }),
        })),
        // A runnable inside a group shows the conflicts of the deployment it belongs to.
        conflicts: [...new Set([path, ...workloads.map((w) => w.deployment)])]
          .flatMap((deploymentPath) => graph.listConflicts({ path: deploymentPath }))
          .map(conflictEvent),
      };
      return result;
    },
    events: async (params) =>
      graph
        .listConflicts({
          ...(params.path === undefined ? {} : { path: normalize(params.path) }),
          ...(params.since === undefined ? {} : { since: params.since }),
        })
        .map(conflictEvent),
    logs: async (params, channel) => {
      const workloads = pickWorkloads(params.path, params.container);
      const controller = new AbortController();
      const signal = AbortSignal.any([controller.signal, channel.signal]);
      await Promise.all(
        workloads.map(async (w) => {
          if (w.owner !== options.peerId) {
            await remote(
              w.owner,
              { method: 'logs', params: toJsonObject({ ...params, path: w.id, container: w.container }) },
              channel,
            );
            return;
          }
          const container = await findContainer(w);
          for await (const entry of runtime.logs(container, {
            follow: params.follow,
            ...(params.tail === undefined ? {} : { tail: params.tail }),
            signal,
          })) {
            await channel.emit({
              type: 'log',
              workloadId: w.id,
              container: w.container,
              stream: entry.stream,
              line: entry.line,
            });
          }
        }),
      ).catch((error: unknown) => {
        if (!channel.signal.aborted) throw error;
      });
      return { done: true };
    },
    exec: async (params, channel) => {
      const [workload] = pickWorkloads(params.path, params.container);
      if (workload === undefined) throw new MonkError('RUNNABLE_NOT_FOUND', `no instance at ${params.path}`);
      if (workload.owner !== options.peerId) {
        return remote(
          workload.owner,
          {
            method: 'exec',
            params: toJsonObject({ ...params, path: workload.id, container: workload.container }),
          },
          channel,
        );
      }
      const container = await findContainer(workload);
      const stdin = (async function* (): AsyncGenerator<Uint8Array> {
        for await (const frame of channel.clientFrames) {
          if ('stdin' in frame) yield Buffer.from(frame.stdin, 'base64');
          else return;
        }
      })();
      const session = runtime.execStream(container, {
        command: params.command,
        tty: params.tty,
        stdin,
        signal: channel.signal,
      });
      for await (const chunk of session.output) {
        await channel.emit({
          type: 'output',
          stream: chunk.stream,
          data: Buffer.from(chunk.data).toString('base64'),
        });
      }
      return { exitCode: await session.exitCode };
    },
  };

  /** A call on the peer that owns a workload; on a peer with no cluster every workload is local. */
  function remote(
    peerId: string,
    request: { method: MethodName; params: JsonObject },
    channel: CallChannel,
  ): Promise<JsonValue> {
    if (components.forward === undefined) {
      throw new MonkError('PEER_UNREACHABLE', `${peerId} owns that instance, and this peer is in no cluster`);
    }
    return components.forward(peerId, request, channel);
  }

  function pickWorkloads(path: string, container: string | undefined): Workload[] {
    const workloads = selectWorkloads(graph.listWorkloads(), normalize(path)).filter(
      (w) => container === undefined || w.container === container,
    );
    if (workloads.length === 0) {
      throw new MonkError(
        'RUNNABLE_NOT_FOUND',
        container === undefined ? `no instance at ${path}` : `no container "${container}" in ${path}`,
      );
    }
    return workloads;
  }

  async function findContainer(workload: Workload): Promise<string> {
    const containers = await runtime.listContainers({
      all: true,
      labels: { [monkLabels.workload]: workload.id, [monkLabels.peer]: options.peerId },
    });
    const running = containers.find((c) => c.state === 'running') ?? containers[0];
    if (running === undefined) {
      throw new MonkError('NOT_RUNNING', `${workload.id} has no container on this peer yet`);
    }
    return running.id;
  }

  async function waitForRemoval(ids: readonly string[], channel: CallChannel): Promise<void> {
    const deadline = components.now() + 60_000;
    while (components.now() < deadline && !channel.signal.aborted) {
      const left = await Promise.all(
        ids.map(
          async (id) =>
            (
              await runtime.listContainers({
                all: true,
                labels: { [monkLabels.workload]: id, [monkLabels.peer]: options.peerId },
              })
            ).length,
        ),
      );
      if (left.every((n) => n === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!channel.signal.aborted) throw new MonkError('TIMEOUT', 'containers were not removed within 60s');
  }

  return handlers;
}

/** Parameters as JSON for forwarding: optional fields that are absent are dropped. */
function toJsonObject(value: object): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

function normalize(path: string): string {
  return path.startsWith('/') ? path.slice(1) : path;
}

function parseRecord(value: JsonObject, path: string): TemplateRecord {
  const parsed = templateRecordSchema.safeParse(value);
  if (!parsed.success)
    throw new MonkError('GRAPH_CORRUPT', `stored template ${path} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

function isPrivate(record: TemplateRecord): boolean {
  const metadata = record.definition['metadata'];
  return (
    typeof metadata === 'object' &&
    metadata !== null &&
    !Array.isArray(metadata) &&
    (metadata as JsonObject)['private'] === true
  );
}

function psEntry(
  w: Workload,
  observed: ObservedWorkload | undefined,
): Omit<PsEntry, 'state' | 'reason' | 'ready'> {
  return {
    workloadId: w.id,
    deployment: w.deployment,
    runnable: w.runnable,
    container: w.container,
    name: w.name,
    image: w.spec.image,
    peer: w.owner,
    desired: w.state,
    phase: observed?.phase ?? 'pending',
    restarts: observed?.restarts ?? 0,
    ports: w.spec.ports.map((p) =>
      p.hostPort === undefined
        ? `${p.containerPort}/${p.protocol}`
        : `${p.hostPort}->${p.containerPort}/${p.protocol}`,
    ),
    ...(observed?.containerId === undefined ? {} : { containerId: observed.containerId }),
    ...(observed?.message === undefined ? {} : { message: observed.message }),
    ...(observed?.errorCode === undefined ? {} : { errorCode: observed.errorCode }),
    ...(observed?.updatedAt === undefined ? {} : { updatedAt: observed.updatedAt }),
    ...(w.unschedulable === undefined ? {} : { unschedulable: w.unschedulable.reason }),
  };
}
