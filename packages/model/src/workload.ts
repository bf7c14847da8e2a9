import { z } from 'zod';
import { jsonValueSchema } from './json.ts';

/** How a container's ports reach the host. `hostPort` absent: reachable only inside the workload network. */
export const portMappingSchema = z.object({
  containerPort: z.number().int().min(1).max(65535),
  hostPort: z.number().int().min(1).max(65535).optional(),
  hostIp: z.string().optional(),
  protocol: z.enum(['tcp', 'udp']),
});
export type PortMapping = z.infer<typeof portMappingSchema>;

/** A host path or named volume mounted into a container. */
export const mountSchema = z.object({
  kind: z.enum(['bind', 'volume', 'tmpfs']),
  source: z.string(),
  target: z.string().min(1),
  readOnly: z.boolean(),
});
export type Mount = z.infer<typeof mountSchema>;

/** A file written into the container before it starts (MonkScript `files`, Compose `configs`). */
export const fileSpecSchema = z.object({
  path: z.string().min(1),
  contents: z.string(),
  mode: z.number().int().min(0).max(0o7777),
});
export type FileSpec = z.infer<typeof fileSpecSchema>;

export const resourceLimitsSchema = z.object({
  cpus: z.number().positive().optional(),
  memoryBytes: z.number().int().positive().optional(),
});
export type ResourceLimits = z.infer<typeof resourceLimitsSchema>;

/**
 * What one container instance asks the scheduler for (MonkScript `resources.requests`, Compose
 * `deploy.resources.reservations`): a peer runs it only when the sum of the requests of what it runs stays
 * within its capacity. `gpus` also needs a peer that has GPUs.
 */
export const resourceRequestsSchema = z.object({
  cpus: z.number().min(0).optional(),
  memoryBytes: z.number().int().min(0).optional(),
  gpus: z.number().int().min(0).optional(),
});
export type ResourceRequests = z.infer<typeof resourceRequestsSchema>;

/**
 * Where an instance may run (MonkScript `affinity`, `resources.requests`; `monk run -t TAG`). Not part of
 * the container spec: changing it never recreates a container, and placement is sticky (it decides only
 * where new or moved instances go).
 */
export const placementConstraintsSchema = z.object({
  requests: resourceRequestsSchema.optional(),
  /** Tags a peer must all carry (`affinity.tag`, `monk run -t`). */
  tags: z.array(z.string()).optional(),
  /** The name or id of the one peer it may run on (`affinity.name`). */
  peer: z.string().optional(),
  /** `affinity.resident`: a peer of its own; nothing of another runnable runs beside it. */
  resident: z.boolean().optional(),
});
export type PlacementConstraints = z.infer<typeof placementConstraintsSchema>;

/** Why no peer can run an instance: a summary and, per peer, why that peer was filtered out. */
export const unschedulableSchema = z.object({
  reason: z.string(),
  peers: z.array(z.object({ peer: z.string(), reason: z.string() })),
});
export type Unschedulable = z.infer<typeof unschedulableSchema>;

/**
 * Everything the runtime needs to create one container, fully resolved: no expressions, no variables.
 * Two specs with the same {@link specHash} describe the same container.
 */
export const containerSpecSchema = z.object({
  image: z.string().min(1),
  entrypoint: z.array(z.string()).optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()),
  ports: z.array(portMappingSchema),
  mounts: z.array(mountSchema),
  files: z.array(fileSpecSchema),
  workingDir: z.string().optional(),
  user: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  resources: resourceLimitsSchema.optional(),
  privileged: z.boolean().optional(),
  capAdd: z.array(z.string()).optional(),
  /** Extra DNS names of this container on the workload network (Compose service names, `aliases`). */
  aliases: z.array(z.string()).optional(),
  /** Run an init process as PID 1 (default true: shells and httpd ignore SIGTERM as PID 1). */
  init: z.boolean().optional(),
});
export type ContainerSpec = z.infer<typeof containerSpecSchema>;

/**
 * A readiness check. `arrow` runs a MonkScript expression (`exec(...)`, `http-get(...)`, `contains?`) that
 * must evaluate to true; the others are plain probes (from Compose healthchecks or simple templates).
 */
const checkTiming = {
  initialDelaySeconds: z.number().min(0),
  periodSeconds: z.number().positive(),
  timeoutSeconds: z.number().positive(),
  attempts: z.number().int().positive(),
};
export const readinessCheckSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('arrow'),
    code: z.string().min(1),
    /** Variable values the code may read (`$name`, `${name}`); filled in when the workload is built. */
    variables: z.record(z.string(), jsonValueSchema).optional(),
    /** The runnable whose containers `exec("container", …)` names. */
    runnable: z.string().optional(),
    ...checkTiming,
  }),
  z.object({ kind: z.literal('exec'), command: z.array(z.string()).min(1), ...checkTiming }),
  z.object({ kind: z.literal('http'), port: z.number().int(), path: z.string(), ...checkTiming }),
  z.object({ kind: z.literal('tcp'), port: z.number().int(), ...checkTiming }),
]);
export type ReadinessCheck = z.infer<typeof readinessCheckSchema>;

/**
 * A liveness check (monk's extension, MonkScript `checks.liveness`): the same shape as a readiness check.
 * When it fails `attempts` times in a row on a running instance, the owning peer restarts the container.
 */
export const livenessCheckSchema = readinessCheckSchema;
export type LivenessCheck = z.infer<typeof livenessCheckSchema>;

/** MonkScript `recovery.when`: which failures are recovered (Monk's values; the pressure ones are not). */
export const recoveryWhenValues = ['always', 'node-failure', 'container-failure', 'none'] as const;
export type RecoveryWhen = (typeof recoveryWhenValues)[number];

/** MonkScript `recovery.mode`: where a moved instance may go. monk never provisions a node, so all look in the cluster. */
export const recoveryModeValues = ['default', 'node', 'cluster'] as const;
export type RecoveryMode = (typeof recoveryModeValues)[number];

/**
 * What happens when a container exits: `always` restarts it, `on-failure` only on a non-zero exit, `no`
 * leaves it exited. Restarts back off exponentially from `initialBackoffMs` to `maxBackoffMs`.
 *
 * `when`, `afterMs` and `mode` are MonkScript's `recovery` section: `when` says which failures are
 * recovered (`container-failure`: restarts only; `node-failure`: moves off a dead peer only; `none`:
 * neither; absent or `always`: both), `afterMs` how long a peer must have been dead before its
 * instances move, `mode` where they may go.
 */
export const recoveryPolicySchema = z.object({
  restart: z.enum(['always', 'on-failure', 'no']),
  initialBackoffMs: z.number().int().positive(),
  maxBackoffMs: z.number().int().positive(),
  when: z.enum(recoveryWhenValues).optional(),
  afterMs: z.number().int().min(0).optional(),
  mode: z.enum(recoveryModeValues).optional(),
});
export type RecoveryPolicy = z.infer<typeof recoveryPolicySchema>;

export const defaultRecoveryPolicy: RecoveryPolicy = {
  restart: 'always',
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
};

/** A service a runnable offers (MonkScript `services`). */
export const serviceSpecSchema = z.object({
  name: z.string(),
  container: z.string().optional(),
  port: z.number().int().min(0).max(65535),
  hostPort: z.number().int().min(1).max(65535).optional(),
  protocol: z.enum(['tcp', 'udp', 'http', 'custom']),
  publish: z.boolean(),
});
export type ServiceSpec = z.infer<typeof serviceSpecSchema>;

/**
 * One runnable after template resolution: its containers with concrete specs, and what the reconciler
 * needs to order and check them.
 */
export const resolvedRunnableSchema = z.object({
  /** `ns/name` of the runnable. */
  path: z.string(),
  containers: z.array(
    z.object({
      key: z.string(),
      spec: containerSpecSchema,
      /** Container `hooks`: event (`container-started`) → the name of an action of the same runnable. */
      hooks: z.record(z.string(), z.string()).optional(),
    }),
  ),
  services: z.array(serviceSpecSchema),
  /** Paths of runnables that must be ready before this one starts (`depends.wait-for`). */
  dependsOn: z.array(z.string()),
  /** Paths of runnables this one connects to, by connection name. */
  connections: z.record(z.string(), z.string()),
  readiness: readinessCheckSchema.optional(),
  /** Restarts the container when it fails (`checks.liveness`, monk's extension). */
  liveness: livenessCheckSchema.optional(),
  /** `depends.wait-for.timeout`: after this long with dependencies not ready, the instance fails. */
  waitForTimeoutSeconds: z.number().positive().optional(),
  recovery: recoveryPolicySchema,
  /** Resolved variable values, for `describe` (secret values never appear here). */
  variables: z.record(z.string(), jsonValueSchema),
  scale: z.number().int().min(0),
  /** Where its instances may run, and what each asks for (absent: anywhere, nothing). */
  placement: placementConstraintsSchema.optional(),
});
export type ResolvedRunnable = z.infer<typeof resolvedRunnableSchema>;

/**
 * One container instance that should exist somewhere in the cluster: the unit of desired state, owned by
 * exactly one peer.
 */
export const workloadSchema = z.object({
  /** Stable id: `<runnable path>#<container key>`, with `@<n>` appended for replicas beyond the first. */
  id: z.string(),
  /** The path `monk run` was given (a runnable or a group); `stop`/`purge` act on all its workloads. */
  deployment: z.string(),
  runnable: z.string(),
  container: z.string(),
  /** Docker container name and DNS name on the workload network. */
  name: z.string(),
  /** Extra DNS names on the workload network (what `connection-hostname` returns outside the mesh). */
  aliases: z.array(z.string()),
  spec: containerSpecSchema,
  specHash: z.string(),
  /** Workload ids that must be ready before this one starts. */
  dependsOn: z.array(z.string()),
  readiness: readinessCheckSchema.optional(),
  /** Restarts the container when it fails `attempts` times in a row (`checks.liveness`). */
  liveness: livenessCheckSchema.optional(),
  /**
   * `depends.wait-for.timeout`: once it has waited this long for `dependsOn` to be ready, the instance is
   * reported failed (it still starts if they become ready later).
   */
  waitForTimeoutSeconds: z.number().positive().optional(),
  recovery: recoveryPolicySchema,
  /** The peer that runs it; `''` while it is unschedulable (then `unschedulable` says why). */
  owner: z.string(),
  /** `running` or `stopped`: `monk stop` keeps the workload but stops its container. */
  state: z.enum(['running', 'stopped']),
  generation: z.number().int().min(0),
  /** Container `hooks`: event (`container-started`) → the name of an action of the same runnable. */
  hooks: z.record(z.string(), z.string()).optional(),
  /**
   * The runnable's services this container serves (MonkScript `services` for it or for every container):
   * the cluster DNS answers them as SRV, `_<name>._<protocol>.<runnable>.<namespace>.monk`.
   */
  services: z
    .array(
      z.object({
        name: z.string(),
        port: z.number().int().min(1).max(65535),
        protocol: z.enum(['tcp', 'udp']),
      }),
    )
    .optional(),
  /**
   * When `monk restart` last asked for a fresh start (ISO time): the owner restarts the container (the
   * same one, stopped and started) when it started before this.
   */
  restartRequestedAt: z.string().optional(),
  /** Where it may run and what it asks for; see {@link placementConstraintsSchema}. */
  placement: placementConstraintsSchema.optional(),
  /**
   * Set (with `owner: ''`) when no peer could take it: no peer reconciles it, `monk ps` lists it as
   * unschedulable and `monk describe` shows why each peer was filtered out. It is placed when room appears.
   */
  unschedulable: unschedulableSchema.optional(),
});
export type Workload = z.infer<typeof workloadSchema>;

/** Builds the workload id of one container of a runnable. */
export function workloadId(runnable: string, container: string, replica = 0): string {
  return replica === 0 ? `${runnable}#${container}` : `${runnable}#${container}@${replica}`;
}

/** The phases an instance goes through, as shown by `monk ps`. */
export const workloadPhases = [
  'pending',
  'creating',
  'starting',
  'running',
  'ready',
  'stopping',
  'stopped',
  'exited',
  'backoff',
  'failed',
] as const;
export type WorkloadPhase = (typeof workloadPhases)[number];

/** What the owning peer saw of one workload. Written only by that peer. */
export const observedWorkloadSchema = z.object({
  workloadId: z.string(),
  peer: z.string(),
  phase: z.enum(workloadPhases),
  ready: z.boolean(),
  containerId: z.string().optional(),
  specHash: z.string().optional(),
  restarts: z.number().int().min(0),
  exitCode: z.number().int().optional(),
  startedAt: z.string().optional(),
  /**
   * The container's address on this peer's mesh network (`monkd --mesh`), routed from every peer of the
   * mesh: what the cluster DNS answers for the instance.
   */
  address: z.string().optional(),
  /** Why it is in this phase, for people (the engine's message on failure). */
  message: z.string().optional(),
  errorCode: z.string().optional(),
  updatedAt: z.string(),
});
export type ObservedWorkload = z.infer<typeof observedWorkloadSchema>;

/** A deployment request: what `monk run PATH --set …` recorded. */
export const deploymentSchema = z.object({
  path: z.string(),
  variables: z.record(z.string(), z.string()),
  state: z.enum(['running', 'stopped']),
  generation: z.number().int().min(0),
  updatedAt: z.string(),
  /** Replicas set by `monk scale PATH N`, by runnable path: they win over the template's `scale`. */
  scale: z.record(z.string(), z.number().int().min(0)).optional(),
  /** Tags every instance's peer must carry (`monk run -t TAG`); kept for later `update`s. */
  tags: z.array(z.string()).optional(),
});
export type Deployment = z.infer<typeof deploymentSchema>;
