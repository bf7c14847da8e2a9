import {
  monkLabels,
  specHash,
  toDnsLabel,
  workloadId,
  type ReadinessCheck,
  type ResolvedRunnable,
  type Workload,
} from '@monk/model';

/** The DNS name a runnable's containers answer to on the workload network (`connection-hostname`). */
export function runnableHostname(runnablePath: string): string {
  return toDnsLabel(runnablePath.replaceAll('/', '-'));
}

/** The Docker container name of one container of a runnable. */
export function containerName(runnablePath: string, container: string, replica = 0): string {
  const base = `${runnablePath.replaceAll('/', '-')}-${container}`;
  return toDnsLabel(replica === 0 ? base : `${base}-${replica}`);
}

/**
 * Turns resolved runnables into the workloads that should run: one per container and replica (`scale`,
 * or `replicas[path]` when given: `monk scale`), with dependency edges expanded from runnables to their
 * workloads and the runnable's placement constraints copied onto each. Every workload gets `owner`; the
 * deploy core ({@link planDeploy}) then decides the real one. Pure; never throws.
 *
 * @example
 * const workloads = buildWorkloads({ deployment: 'ns/app', runnables, owner: '', generation: 1 });
 */
export function buildWorkloads(options: {
  deployment: string;
  runnables: readonly ResolvedRunnable[];
  owner: string;
  generation: number;
  /** Replicas by runnable path that win over each runnable's `scale` (`monk scale`). */
  replicas?: Readonly<Record<string, number>>;
}): Workload[] {
  const replicasOf = (runnable: ResolvedRunnable): number =>
    Math.max(options.replicas?.[runnable.path] ?? runnable.scale, 1);
  const idsByRunnable = new Map<string, string[]>();
  for (const runnable of options.runnables) {
    const replicas = replicasOf(runnable);
    const ids: string[] = [];
    for (let replica = 0; replica < replicas; replica++) {
      for (const { key } of runnable.containers) ids.push(workloadId(runnable.path, key, replica));
    }
    idsByRunnable.set(runnable.path, ids);
  }

  const workloads: Workload[] = [];
  for (const runnable of options.runnables) {
    const dependsOn = runnable.dependsOn.flatMap((path) => idsByRunnable.get(path) ?? []);
    const replicas = replicasOf(runnable);
    for (let replica = 0; replica < replicas; replica++) {
      for (const { key, spec, hooks } of runnable.containers) {
        const id = workloadId(runnable.path, key, replica);
        const name = containerName(runnable.path, key, replica);
        // Template aliases (Compose service names) are DNS names on the workload network too.
        const aliases = [...new Set([runnableHostname(runnable.path), ...(spec.aliases ?? [])])];
        const labels = {
          ...spec.labels,
          [monkLabels.runnable]: runnable.path,
          [monkLabels.container]: key,
          [monkLabels.deployment]: options.deployment,
        };
        const fullSpec = { ...spec, labels };
        // For SRV answers; HTTP and custom services run over TCP.
        const services = runnable.services
          .filter((s) => s.port > 0 && (s.container === undefined || s.container === key))
          .map(
            (s) => ({ name: s.name, port: s.port, protocol: s.protocol === 'udp' ? 'udp' : 'tcp' }) as const,
          );
        workloads.push({
          id,
          deployment: options.deployment,
          runnable: runnable.path,
          container: key,
          name,
          aliases,
          spec: fullSpec,
          // Hooks count only when present, so the hashes of workloads without them do not change.
          specHash: specHash({ spec: fullSpec, name, aliases, ...(hooks === undefined ? {} : { hooks }) }),
          dependsOn,
          ...(runnable.readiness === undefined ? {} : { readiness: withScope(runnable.readiness, runnable) }),
          ...(runnable.liveness === undefined ? {} : { liveness: withScope(runnable.liveness, runnable) }),
          ...(runnable.waitForTimeoutSeconds === undefined
            ? {}
            : { waitForTimeoutSeconds: runnable.waitForTimeoutSeconds }),
          recovery: runnable.recovery,
          owner: options.owner,
          state: 'running',
          generation: options.generation,
          ...(hooks === undefined ? {} : { hooks }),
          ...(runnable.placement === undefined ? {} : { placement: runnable.placement }),
          ...(services.length === 0 ? {} : { services }),
        });
      }
    }
  }
  return workloads;
}

/** An Arrow check (readiness, liveness) carries the runnable's variables, so the prober can evaluate it later. */
function withScope(check: ReadinessCheck, runnable: ResolvedRunnable): ReadinessCheck {
  if (check.kind !== 'arrow') return check;
  // Secret variables come sealed from the resolver (the runtime unseals them in `exec`); the rest are plain.
  return { ...check, variables: { ...runnable.variables, ...check.variables }, runnable: runnable.path };
}
