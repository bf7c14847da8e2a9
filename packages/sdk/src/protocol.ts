import { z } from 'zod';
import { jsonObjectSchema, jsonValueSchema, operatorAccessLevels, type OperatorAccess } from '@monk/model';
import type { InstanceState, UnknownReason } from '@monk/model';
import { protocolVersion } from './protocol-version.ts';

const variables = z.record(z.string(), z.string());
const path = z.string().min(1);
/** Refuse (`VARIABLE_UNKNOWN`) a variable the template does not declare, instead of warning. */
const strict = z.boolean().default(false);

/** Parameters of every method, validated by the daemon at its edge. */
export const methodParams = {
  info: z.object({}),
  'templates.put': z.object({ templates: z.array(jsonObjectSchema).min(1) }),
  'templates.list': z.object({}),
  'templates.dump': z.object({ path }),
  plan: z.object({ path, variables: variables.default({}), strict }),
  run: z.object({
    path,
    variables: variables.default({}),
    strict,
    wait: z.boolean().default(true),
    timeoutSeconds: z.number().positive().default(300),
    /** Pin the new instances to this peer: a name, an id or a unique prefix of one (`monk run --peer`). */
    peer: z.string().min(1).optional(),
    /** Tags every instance's peer must carry (`monk run -t TAG`), kept for later updates. */
    tags: z.array(z.string().min(1)).optional(),
    /** Place every instance again, not only new ones (`monk run --force-move`); those with a volume stay. */
    forceMove: z.boolean().default(false),
  }),
  update: z.object({
    path,
    variables: variables.optional(),
    strict,
    wait: z.boolean().default(true),
    timeoutSeconds: z.number().positive().default(300),
  }),
  /**
   * Sets the replicas of a running runnable (`monk scale PATH N`); recorded in the deployment, so a later
   * `update` keeps it. `path` is the runnable (of its own deployment or of a group's).
   */
  scale: z.object({
    path,
    replicas: z.number().int().min(1).max(1000),
    wait: z.boolean().default(true),
    timeoutSeconds: z.number().positive().default(300),
  }),
  stop: z.object({ path }),
  /** Restarts the running containers of a deployment on their owners (the same containers). */
  restart: z.object({ path, timeoutSeconds: z.number().positive().default(120) }),
  purge: z.object({ path, excise: z.boolean().default(false) }),
  ps: z.object({ all: z.boolean().default(false) }),
  describe: z.object({ path }),
  /** Recorded events (today: conflicts between concurrent writes), optionally since an ISO 8601 time. */
  events: z.object({ since: z.iso.datetime({ offset: true }).optional(), path: path.optional() }),
  logs: z.object({
    path,
    container: z.string().optional(),
    tail: z.number().int().min(0).optional(),
    follow: z.boolean().default(false),
  }),
  exec: z.object({
    path,
    container: z.string().optional(),
    command: z.array(z.string()).min(1),
    tty: z.boolean().default(false),
  }),
  /**
   * CPU, memory and network of the running instances under `path` (all of them without one), read from the
   * container engine of each owning peer; `follow` streams a `stats` event per peer every `intervalMs`
   * until the client hangs up. `local` (set by peers when they forward) answers for this peer's instances only.
   */
  stats: z.object({
    path: path.optional(),
    follow: z.boolean().default(false),
    intervalMs: z.number().int().min(200).max(60_000).default(1000),
    local: z.boolean().default(false),
  }),
  /**
   * One TCP connection to `port` of an instance's container, carried by this call: the client sends the
   * bytes as `{ stdin }` frames (`{ stdinEnd }` closes its side) and gets the container's as `data` events.
   * With `check`, only finds the instance and answers where it would connect, without connecting.
   */
  portForward: z.object({
    path,
    container: z.string().optional(),
    port: z.number().int().min(1).max(65_535),
    check: z.boolean().default(false),
  }),
  // cluster lifecycle (issue: masterless cluster)
  'cluster.new': z.object({
    name: z.string().min(1).max(63).optional(),
    /** The IPv4 CIDR the mesh cuts into one container subnet per peer (default 10.240.0.0/12). */
    meshCidr: z.string().min(9).max(18).optional(),
  }),
  'cluster.joinToken': z.object({
    ttlSeconds: z
      .number()
      .int()
      .positive()
      .max(30 * 24 * 3600)
      .default(3600),
    role: z.enum(['peer', 'operator']).default('peer'),
    /** Operator tokens only: what the operator may do (default `deploy`). */
    access: z.enum(operatorAccessLevels).optional(),
  }),
  'cluster.join': z.object({ token: z.string().min(1) }),
  'cluster.info': z.object({}),
  'cluster.peers': z.object({}),
  'cluster.peerTags': z.object({ id: z.string().min(1), tags: z.array(z.string()) }),
  'cluster.peerRemove': z.object({ id: z.string().min(1) }),
  'cluster.exit': z.object({}),
  'cluster.shrink': z.object({}),
  'cluster.destroy': z.object({}),
  /** Creates hosts with a provider and joins them to this peer's cluster (`monk cluster grow`). */
  'cluster.grow': z.object({
    provider: z.enum(['local']),
    count: z.number().int().min(1).max(32).default(1),
    name: z.string().min(1).max(32).optional(),
    tags: z.array(z.string().min(1)).default([]),
    /** Underlay subnet of local hosts (default 10.213.0.0/24). */
    subnet: z.string().min(1).optional(),
  }),
  // secrets and actions (issue: MonkScript in full)
  'secrets.add': z.object({ name: z.string().min(1), value: z.string(), runnable: z.string().optional() }),
  'secrets.list': z.object({ runnable: z.string().optional() }),
  'secrets.remove': z.object({ name: z.string().min(1), runnable: z.string().optional() }),
  do: z.object({ path, action: z.string().min(1), args: z.record(z.string(), z.string()).default({}) }),
  // images shared between peers (issue: real hosts)
  'images.list': z.object({}),
  'registry.login': z.object({
    server: z.string().min(1).max(255),
    username: z.string().min(1),
    password: z.string().min(1),
  }),
  'registry.list': z.object({}),
  'registry.logout': z.object({ server: z.string().min(1).max(255) }),
} as const;

export type MethodName = keyof typeof methodParams;
export type MethodParams<M extends MethodName> = z.input<(typeof methodParams)[M]>;
export type ParsedParams<M extends MethodName> = z.output<(typeof methodParams)[M]>;

export const requestFrameSchema = z.object({
  v: z.literal(protocolVersion),
  method: z.string(),
  params: jsonValueSchema.optional(),
});
export type RequestFrame = z.infer<typeof requestFrameSchema>;

/** Frames the client may send after the request line (interactive methods only). */
export const clientFrameSchema = z.union([
  z.object({ stdin: z.string() }),
  z.object({ stdinEnd: z.literal(true) }),
  z.object({ cancel: z.literal(true) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** What a template listing returns. */
export interface TemplateSummary {
  readonly path: string;
  readonly kind: string;
  readonly file: string;
  readonly private: boolean;
  readonly running: boolean;
}

/** One row of `monk ps`. */
export interface PsEntry {
  readonly workloadId: string;
  readonly deployment: string;
  readonly runnable: string;
  readonly container: string;
  readonly name: string;
  readonly image: string;
  readonly peer: string;
  readonly desired: 'running' | 'stopped';
  /** The phase the owning peer last reported (it may be out of date: see `state`). */
  readonly phase: string;
  /**
   * What monk can claim now: `phase`, or `unknown` when the owner's report cannot be trusted (its container
   * runtime does not answer, or the owning peer is dead or left), with `reason` saying which.
   */
  readonly state: InstanceState;
  readonly reason?: UnknownReason;
  /** Ready now, as far as monk knows: false whenever `state` is `unknown`. */
  readonly ready: boolean;
  readonly restarts: number;
  readonly containerId?: string;
  readonly ports: readonly string[];
  readonly message?: string;
  readonly errorCode?: string;
  readonly updatedAt?: string;
  /** Why no peer runs it (then `peer` is empty): it is placed when room appears. */
  readonly unschedulable?: string;
}

/** One image of `monk images`: the same image ID on every peer listed. */
export interface ImageEntry {
  readonly id: string;
  /** Every tag any peer gives it, sorted. */
  readonly repoTags: readonly string[];
  readonly sizeBytes: number;
  /** Names of the peers whose engine holds it, sorted. */
  readonly peers: readonly string[];
}

/** The answer of `images.list`: every image of every peer that answered, and the peers that did not. */
export interface ImagesResult {
  readonly images: readonly ImageEntry[];
  readonly unreachable: readonly { readonly peer: string; readonly message: string }[];
}

/** A registry monk has credentials for (`monk registry`); never the password. */
export interface RegistryEntry {
  readonly server: string;
  readonly username: string;
  readonly updatedAt: string;
}

/** A progress event of `run`/`update`: one workload changed phase. */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly workloadId: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly message?: string;
}

/** The answer of `run`/`update`: the deployment and where each of its workloads ended. */
export interface DeployResult {
  readonly path: string;
  readonly generation: number;
  readonly changes: readonly PlanChange[];
  readonly workloads: readonly PsEntry[];
  readonly ready: boolean;
  /** What resolution noticed but did not refuse, e.g. a `--set` of a variable the template does not declare. */
  readonly warnings: readonly string[];
  /** Instances no peer can take now, with why; placed when room appears (`monk describe` says more). */
  readonly unschedulable?: readonly { readonly workloadId: string; readonly reason: string }[];
  /**
   * Workloads assigned to peers that are unreachable now (suspect, dead or left): accepted, not waited for,
   * and started when their peer returns or repair moves them. Absent when there are none.
   */
  readonly pending?: readonly string[];
}

/** One line of a plan: what `run`/`update` would do to one workload, and why. */
export interface PlanChange {
  readonly kind: 'create' | 'update' | 'remove' | 'unchanged';
  readonly workloadId: string;
  readonly reasons: readonly string[];
}

export interface PlanResult {
  readonly path: string;
  readonly changes: readonly PlanChange[];
  readonly text: string;
  readonly warnings: readonly string[];
}

export interface InfoResult {
  readonly peerId: string;
  readonly peerName: string;
  readonly version: string;
  readonly dataDir: string;
  readonly startedAt: string;
  readonly runtime: { readonly available: boolean; readonly version?: string; readonly message?: string };
  /** What is wrong with this peer right now (a damaged graph being recovered, a failing disk); empty when all is well. */
  readonly problems: readonly PeerProblem[];
}

/** Something wrong with a peer that an operator should see, with a stable error code. */
export interface PeerProblem {
  readonly code: string;
  readonly message: string;
}

export interface LogEvent {
  readonly type: 'log';
  readonly workloadId: string;
  readonly container: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface ExecOutputEvent {
  readonly type: 'output';
  readonly stream: 'stdout' | 'stderr';
  /** base64 of the bytes */
  readonly data: string;
}

/** CPU, memory and network of one running instance, as its owner's container engine reports them. */
export interface InstanceStats {
  readonly workloadId: string;
  readonly container: string;
  /** Id of the peer that runs it. */
  readonly peer: string;
  /** CPU used over the sampling interval, in percent of one core (200 = two cores busy). */
  readonly cpuPercent: number;
  /** Memory in use, without the page cache, as `docker stats` counts it. */
  readonly memoryBytes: number;
  /** The container's memory limit (the host's memory when it has none). */
  readonly memoryLimitBytes: number;
  /** Bytes received and sent on all its networks since it started. */
  readonly networkRxBytes: number;
  readonly networkTxBytes: number;
  /** When it was read (ISO 8601). */
  readonly at: string;
}

/** The answer of `stats`: a row per running instance, and the peers that did not answer. */
export interface StatsResult {
  readonly instances: readonly InstanceStats[];
  readonly unreachable: readonly { readonly peer: string; readonly message: string }[];
}

/** A `stats` event of `stats --follow`: fresh rows for the instances of one peer. */
export interface StatsEvent {
  readonly type: 'stats';
  readonly peer: string;
  readonly instances: readonly InstanceStats[];
}

/** What `portForward` connects to (the answer of a `check`, and of a connection when it closes). */
export interface PortForwardResult {
  readonly workloadId: string;
  /** Id of the peer that runs the instance and makes the connection. */
  readonly peer: string;
  /** The container's address and port it connects to. */
  readonly address: string;
  readonly port: number;
  /** Bytes carried each way (0 for a `check`). */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Bytes from the container of a `portForward` call. */
export interface PortForwardDataEvent {
  readonly type: 'data';
  /** base64 of the bytes */
  readonly data: string;
}

export interface DescribeResult {
  readonly path: string;
  readonly kind: string;
  readonly deployment?: {
    readonly state: string;
    readonly generation: number;
    readonly variables: Record<string, string>;
    readonly updatedAt: string;
  };
  readonly workloads: ReadonlyArray<
    PsEntry & {
      readonly aliases: readonly string[];
      readonly dependsOn: readonly string[];
      readonly specHash: string;
      /** Unschedulable instances only: why each peer was filtered out. */
      readonly placement?: {
        readonly reason: string;
        readonly peers: readonly {
          readonly peer: string;
          readonly peerName?: string;
          readonly reason: string;
        }[];
      };
    }
  >;
  /** Writes to this deployment that lost a race to a concurrent one, oldest first (bounded). */
  readonly conflicts: readonly ConflictEvent[];
}

/** One of two concurrent writes to a deployment. */
export interface ConflictWrite {
  /** Peer id of the writer, and its name when the graph knows it. */
  readonly peer: string;
  readonly peerName?: string;
  /** When it was written (the wall-clock part of its hybrid logical clock stamp). */
  readonly at: string;
  readonly state: string;
  readonly generation: number;
  readonly variables: Record<string, string>;
}

/**
 * Two writes to one deployment that did not see each other (made on both sides of a partition, or at the
 * same moment on two peers). The later one (by hybrid logical clock; ties go to the higher peer id) is
 * what every peer keeps; `lost` was acknowledged to whoever made it and then replaced.
 */
export interface ConflictEvent {
  readonly type: 'conflict';
  readonly path: string;
  /** When the losing write was made. */
  readonly at: string;
  readonly lost: ConflictWrite;
  readonly won: ConflictWrite;
}

/** `monk cluster info`. The network key is never part of it. */
export interface ClusterInfo {
  readonly clusterId: string;
  readonly clusterName: string;
  readonly peerId: string;
  readonly peerName: string;
  readonly addresses: readonly string[];
  readonly peers: number;
  readonly alive: number;
}

/** One row of `monk cluster peers`. */
export interface PeerEntry {
  readonly id: string;
  readonly name: string;
  readonly role: 'peer' | 'operator';
  readonly tags: readonly string[];
  readonly addresses: readonly string[];
  readonly state: 'alive' | 'suspect' | 'dead' | 'left' | 'unknown';
  readonly containers: number;
  readonly startedAt: string;
  readonly self: boolean;
  /** Operators only: what the operator may do. */
  readonly access?: OperatorAccess;
  /** What is wrong with this peer, as it last told the others (absent when nothing is). */
  readonly problems?: readonly PeerProblem[];
  /** Peers in the WireGuard mesh only: where it sits in the workload LAN (never a private key). */
  readonly mesh?: {
    readonly publicKey: string;
    readonly endpoint?: string | undefined;
    readonly subnet: string;
    readonly overlayAddress: string;
  };
}

/** One host made by `monk cluster grow`, as it answers. */
export interface GrownHost {
  readonly name: string;
  readonly peerId: string;
  readonly provider: string;
  readonly address: string;
  readonly tags: readonly string[];
}

/** A step of `monk cluster grow`, streamed as it happens. */
export interface GrowProgressEvent {
  readonly type: 'grow';
  readonly host: string;
  readonly step: string;
}

export interface JoinTokenResult {
  readonly token: string;
  readonly role: 'peer' | 'operator';
  /** Operator tokens only: the access the operator gets. */
  readonly access?: OperatorAccess;
  readonly expiresAt: string;
}

/** A secret as listed: never its value. */
export interface SecretEntry {
  readonly name: string;
  readonly scope: string;
  readonly updatedAt: string;
}
