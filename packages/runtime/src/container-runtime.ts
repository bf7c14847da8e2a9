import type { ContainerSpec, FileSpec } from '@monk/model';

/** The engine's lifecycle states of a container, as Docker names them. */
export const containerStates = [
  'created',
  'running',
  'paused',
  'restarting',
  'removing',
  'exited',
  'dead',
] as const;
export type ContainerState = (typeof containerStates)[number];

/** What the runtime knows about one container. */
export interface ContainerInfo {
  readonly id: string;
  /** The container's name, without Docker's leading `/`. */
  readonly name: string;
  /** The image reference the container was created from, as given (`monk-local/busybox:latest`). */
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: ContainerState;
  /** Exit code of the last run; present once the container has exited (`exited` or `dead`). */
  readonly exitCode?: number;
  /** ISO time the container last started; absent if it never started. */
  readonly startedAt?: string;
  /** ISO time the container last stopped; absent if it never stopped. */
  readonly finishedAt?: string;
  /** The engine's own error message for the last run (Docker's `State.Error`), when it has one. */
  readonly error?: string;
  /** IP address of the container on each network it is attached to, by network name (only assigned ones). */
  readonly ipAddresses: Readonly<Record<string, string>>;
  /** ISO time the container was created. */
  readonly createdAt: string;
}

/** What {@link ContainerRuntime.createContainer} creates. */
export interface CreateContainerOptions {
  /** Container name (a DNS label; also its DNS name on its network). */
  readonly name: string;
  /** The resolved container. `spec.files` are not written here: call {@link ContainerRuntime.putFiles}. */
  readonly spec: ContainerSpec;
  /** Labels merged over `spec.labels` (these win). */
  readonly labels: Readonly<Record<string, string>>;
  /** The one network the container joins at create time, with extra DNS names on it. */
  readonly network?: { readonly name: string; readonly aliases: readonly string[] };
  readonly hostname?: string;
  /** DNS servers the container asks for names its network does not know (Docker's `Dns`). */
  readonly dns?: readonly string[];
}

/** How {@link ContainerRuntime.ensureNetwork} makes a network it does not find. */
export interface NetworkOptions {
  readonly labels?: Readonly<Record<string, string>>;
  /** The network's IPv4 subnet (CIDR) and gateway address; default: the engine picks them. */
  readonly ipv4?: { readonly subnet: string; readonly gateway: string };
  /** Name of the host's bridge interface (at most 15 characters); default: the engine's `br-<id>`. */
  readonly bridgeName?: string;
}

export const runtimeEventTypes = [
  'create',
  'start',
  'die',
  'stop',
  'kill',
  'destroy',
  'oom',
  'restart',
  'pause',
  'unpause',
] as const;
export type RuntimeEventType = (typeof runtimeEventTypes)[number];

/** A lifecycle event of one container. */
export interface RuntimeEvent {
  readonly type: RuntimeEventType;
  readonly containerId: string;
  /** The container's labels at the time of the event. */
  readonly labels: Readonly<Record<string, string>>;
  /** Present on `die`. */
  readonly exitCode?: number;
  /** ISO time of the event, as the engine recorded it. */
  readonly time: string;
}

/** One line of a container's output, without its trailing newline. */
export interface LogEntry {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  /** ISO time the engine received the line; present when `timestamps` was asked for. */
  readonly time?: string;
}

export interface LogsOptions {
  /** Keep streaming new lines until the container stops or `signal` aborts. Default false. */
  readonly follow?: boolean;
  /** Only the last `tail` lines already written. Default: all of them. */
  readonly tail?: number;
  /** Fill in {@link LogEntry.time}. Default false. */
  readonly timestamps?: boolean;
  /** Ends the iteration (without an error) when aborted. */
  readonly signal?: AbortSignal;
}

export interface ExecOptions {
  /** argv of the process, run without a shell. */
  readonly command: readonly string[];
  /** After this long the call fails with `TIMEOUT` (the process may keep running in the container). */
  readonly timeoutMs?: number;
  /** Aborting fails the call with `CANCELLED`. */
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecStreamOptions {
  readonly command: readonly string[];
  /** Allocate a terminal: output then arrives as `stdout` only, raw. */
  readonly tty: boolean;
  /** Bytes fed to the process's stdin; its end closes stdin. Without it, stdin is not attached. */
  readonly stdin?: AsyncIterable<Uint8Array>;
  /** Aborting closes the session; `exitCode` then rejects with `CANCELLED`. */
  readonly signal?: AbortSignal;
}

export interface ExecOutputChunk {
  readonly stream: 'stdout' | 'stderr';
  readonly data: Uint8Array;
}

/** A running interactive process: read `output` while it runs; `exitCode` settles when it ends. */
export interface ExecSession {
  readonly output: AsyncIterable<ExecOutputChunk>;
  readonly exitCode: Promise<number>;
}

export interface EventsOptions {
  /** Required: the stream ends (without an error) when it aborts. */
  readonly signal: AbortSignal;
  /** Only events of containers carrying all of these labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Counters of one running container at one moment. CPU counters only mean something as a difference
 * between two readings: CPU percent = Δ`cpuNanos` / Δ`systemCpuNanos` × `onlineCpus` × 100.
 */
export interface ContainerStats {
  /** When the engine read the counters (ISO 8601). */
  readonly readAt: string;
  /** CPU time the container used since it started, in nanoseconds. */
  readonly cpuNanos: number;
  /** CPU time of the whole host (all cores) on the same clock, in nanoseconds. */
  readonly systemCpuNanos: number;
  /** How many cores the host has online. */
  readonly onlineCpus: number;
  /** Memory in use without the inactive page cache, as `docker stats` shows it. */
  readonly memoryBytes: number;
  /** The container's memory limit; the host's memory when it has none. */
  readonly memoryLimitBytes: number;
  /** Bytes received and sent on all its networks since it started. */
  readonly networkRxBytes: number;
  readonly networkTxBytes: number;
}

export interface ListContainersOptions {
  /** Include containers that are not running. Default false. */
  readonly all?: boolean;
  /** Only containers carrying all of these labels with these values. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RuntimeVersion {
  /** Which engine: `docker` or `memory`. */
  readonly engine: string;
  readonly version: string;
  readonly apiVersion: string;
}

/**
 * The container engine of one host, in monk's own types: what monkd observes and changes. Every method
 * throws {@link MonkError} only, with these codes:
 * - `RUNTIME_UNAVAILABLE`: the engine does not answer (socket missing, connection refused or reset);
 * - `CONTAINER_NOT_FOUND`: no container has that id or name;
 * - `NOT_RUNNING`: an exec into (or the stats of) a container that is not running;
 * - `IMAGE_NOT_FOUND`: `createContainer` with an image the engine does not have (the engine's message kept);
 * - `TIMEOUT` / `CANCELLED`: an exec ran out of time or was aborted;
 * - `RUNTIME_ERROR`: anything else the engine refused (`details.statusCode` holds its HTTP status).
 *
 * Implementations: {@link createDockerRuntime} (the real engine) and {@link createMemoryRuntime} (a twin for
 * tests); both pass the same compliance suite.
 *
 * @example
 * const runtime = createDockerRuntime({});
 * const info = await runtime.createContainer({ name: 'web', spec, labels: { 'monk.managed': 'true' } });
 * await runtime.putFiles(info.id, spec.files);
 * await runtime.startContainer(info.id);
 * for await (const entry of runtime.logs(info.id, { tail: 10 })) console.log(entry.stream, entry.line);
 */
export interface ContainerRuntime {
  /** Which engine answers, and its version. Throws `RUNTIME_UNAVAILABLE` when none does. */
  info(): Promise<RuntimeVersion>;
  /** Containers, running ones only unless `all`, optionally filtered by labels. */
  listContainers(options?: ListContainersOptions): Promise<ContainerInfo[]>;
  /** One container by id or name. Throws `CONTAINER_NOT_FOUND`. */
  inspectContainer(idOrName: string): Promise<ContainerInfo>;
  /**
   * Creates (does not start) a container. Throws `IMAGE_NOT_FOUND` when the image is missing (images are
   * never pulled), `RUNTIME_ERROR` when the name is taken or the network does not exist.
   */
  createContainer(options: CreateContainerOptions): Promise<ContainerInfo>;
  /** Starts a created or stopped container; starting a running one does nothing. */
  startContainer(id: string): Promise<void>;
  /**
   * Stops a container (SIGTERM, then SIGKILL after `timeoutSeconds`, default 10); stopping a stopped one does
   * nothing.
   */
  stopContainer(id: string, options?: { readonly timeoutSeconds?: number }): Promise<void>;
  /** Removes a container; a running one only with `force`. Throws `CONTAINER_NOT_FOUND` when it is gone. */
  removeContainer(id: string, options?: { readonly force?: boolean }): Promise<void>;
  /** Writes files (with their modes, owned by root, creating parent directories) into a created or running container. */
  putFiles(id: string, files: readonly FileSpec[]): Promise<void>;
  /** The container's output, demultiplexed and split into lines. Errors surface when iterating. */
  logs(id: string, options?: LogsOptions): AsyncIterable<LogEntry>;
  /** Runs a process in a running container to completion and collects its output. */
  exec(id: string, options: ExecOptions): Promise<ExecResult>;
  /** Runs an interactive process (`monk exec`, `monk shell`). Errors surface on `output` and `exitCode`. */
  execStream(id: string, options: ExecStreamOptions): ExecSession;
  /**
   * Container lifecycle events from the moment of the call (events that happen before the first `next()` are
   * kept). Ends when `signal` aborts; throws `RUNTIME_UNAVAILABLE` if the engine goes away.
   */
  events(options: EventsOptions): AsyncIterable<RuntimeEvent>;
  /**
   * Creates a user-defined bridge network unless one of that name exists; containers on it resolve each other
   * by name and alias. With `ipv4`, a network of that name on another subnet is removed and made again
   * (`RUNTIME_ERROR` while containers are attached to it).
   */
  ensureNetwork(name: string, options?: NetworkOptions): Promise<void>;
  /** Removes a network; a missing one is fine. Throws `RUNTIME_ERROR` while containers are attached. */
  removeNetwork(name: string): Promise<void>;
  /**
   * Reads the CPU, memory and network counters of a running container once (no waiting for a second
   * sample). Throws `CONTAINER_NOT_FOUND`, or `NOT_RUNNING` when it is not running.
   */
  stats(id: string): Promise<ContainerStats>;
  /** Whether the engine has the image locally (`name` means `name:latest`). */
  hasImage(ref: string): Promise<boolean>;
}
