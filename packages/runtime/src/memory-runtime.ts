import { createHash } from 'node:crypto';
import type { FileSpec } from '@monk/model';
import { MonkError } from '@monk/model';
import { createAsyncQueue } from './async-queue.ts';
import type { AsyncQueue } from './async-queue.ts';
import type {
  NetworkOptions,
  ContainerInfo,
  ContainerRuntime,
  ContainerState,
  ContainerStats,
  CreateContainerOptions,
  ExecOutputChunk,
  ExecResult,
  ExecSession,
  LogEntry,
  RuntimeEvent,
  RuntimeEventType,
} from './container-runtime.ts';
import { labelsMatch } from './labels-match.ts';
import { containerFilePath } from './tar-archive.ts';
import { withDeadline } from './with-deadline.ts';

/** What an exec into a memory container is asked to run. */
export interface MemoryExecRequest {
  readonly containerId: string;
  readonly command: readonly string[];
  /** Everything written to stdin (only for `execStream` with `stdin`). */
  readonly stdin?: string;
}

/** Decides the result of every exec; the default answers exit code 0 with no output. */
export type MemoryExecHandler = (request: MemoryExecRequest) => ExecResult | Promise<ExecResult>;

/** What a memory container "does" when it starts: print lines, then keep running or exit. */
export interface MemoryProcess {
  readonly output?: readonly { readonly stream: 'stdout' | 'stderr'; readonly line: string }[];
  /** Exit right after the output with this code; absent: run until stopped or {@link MemoryRuntime.simulateExit}. */
  readonly exitCode?: number;
}

/** Decides what each container does when started; the default runs silently until stopped. */
export type MemoryProcessHandler = (container: {
  readonly info: ContainerInfo;
  readonly options: CreateContainerOptions;
}) => MemoryProcess;

export interface MemoryRuntimeOptions {
  /** Images the fake engine has; `createContainer` with any other fails with `IMAGE_NOT_FOUND`. */
  readonly images: readonly string[];
  /** Time source for created/started/finished times, events and log timestamps. Default: the system clock. */
  readonly clock?: () => Date;
  /** IP address a started container gets on its network. Default: a distinct 10.x address per container. */
  readonly ipAddress?: (request: { readonly container: string; readonly network: string }) => string;
}

/**
 * The in-memory twin of the Docker runtime, with controls for tests. Containers are records that move
 * through the same states; what they do is scripted with {@link MemoryRuntime.setProcessHandler} and
 * {@link MemoryRuntime.setExecHandler}.
 */
export interface MemoryRuntime extends ContainerRuntime {
  /** Makes a running container exit with this code (emits `die`). Throws `NOT_RUNNING`, `CONTAINER_NOT_FOUND`. */
  simulateExit(id: string, exitCode: number): void;
  /** Takes the fake engine down (every call then throws `RUNTIME_UNAVAILABLE`, open event streams fail) or up. */
  setAvailable(available: boolean): void;
  setExecHandler(handler: MemoryExecHandler | undefined): void;
  setProcessHandler(handler: MemoryProcessHandler | undefined): void;
  /** Appends a line to a container's output, as if its process printed it. */
  writeLog(id: string, entry: { readonly stream: 'stdout' | 'stderr'; readonly line: string }): void;
  /** A file written by `putFiles`, or undefined. */
  readFile(id: string, path: string): FileSpec | undefined;
  /** The options a container was created with, for assertions. */
  createOptionsOf(id: string): CreateContainerOptions;
  /** The options a network was made with, or undefined when there is no such network. */
  networkOptionsOf(name: string): NetworkOptions | undefined;
  /** Adds an image, as a `docker load` would. */
  addImage(ref: string): void;
  /**
   * Sets counters `stats` reports for a container (the rest keep their defaults: 4 MiB of 1 GiB used,
   * one core, no CPU or network used, the host's CPU time following the clock).
   */
  setStats(id: string, stats: Partial<Omit<ContainerStats, 'readAt'>>): void;
}

interface StoredLog {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  readonly time: string;
}

interface MemoryContainer {
  readonly id: string;
  readonly name: string;
  readonly options: CreateContainerOptions;
  readonly labels: Record<string, string>;
  readonly network: string;
  readonly createdAt: string;
  state: ContainerState;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  ipAddress?: string;
  readonly logs: StoredLog[];
  readonly followers: Set<AsyncQueue<StoredLog>>;
  readonly files: Map<string, FileSpec>;
  stats?: Partial<Omit<ContainerStats, 'readAt'>>;
}

const stopExitCode = 143;
const killExitCode = 137;

/**
 * Creates an in-memory {@link ContainerRuntime} for unit tests of the layers above it; it passes the same
 * compliance suite as the Docker runtime.
 *
 * @example
 * const runtime = createMemoryRuntime({ images: ['monk-local/busybox:latest'] });
 * runtime.setExecHandler(() => ({ exitCode: 1, stdout: '', stderr: 'not yet' }));
 * const { id } = await runtime.createContainer({ name: 'db', spec, labels: {} });
 * await runtime.startContainer(id);
 * runtime.simulateExit(id, 1);
 */
export function createMemoryRuntime(options: MemoryRuntimeOptions): MemoryRuntime {
  const clock = options.clock ?? (() => new Date());
  const images = new Set(options.images.map(normalizeImage));
  const containers = new Map<string, MemoryContainer>();
  const networks = new Map<string, NetworkOptions>([['bridge', {}]]);
  const subscribers = new Set<{
    queue: AsyncQueue<RuntimeEvent>;
    labels?: Readonly<Record<string, string>>;
  }>();
  let available = true;
  let sequence = 0;
  let addressSequence = 0;
  let execHandler: MemoryExecHandler = () => ({ exitCode: 0, stdout: '', stderr: '' });
  let processHandler: MemoryProcessHandler = () => ({});
  const now = (): string => clock().toISOString();

  const ensureAvailable = (): void => {
    if (!available) throw new MonkError('RUNTIME_UNAVAILABLE', 'the memory container engine is down');
  };

  const find = (idOrName: string): MemoryContainer => {
    const byId = containers.get(idOrName);
    if (byId !== undefined) return byId;
    const bare = idOrName.startsWith('/') ? idOrName.slice(1) : idOrName;
    for (const container of containers.values()) {
      if (container.name === bare) return container;
    }
    if (idOrName.length >= 12) {
      const matches = [...containers.values()].filter((container) => container.id.startsWith(idOrName));
      if (matches.length === 1 && matches[0] !== undefined) return matches[0];
    }
    throw new MonkError('CONTAINER_NOT_FOUND', `no container "${idOrName}" in the memory engine`);
  };

  const toInfo = (container: MemoryContainer): ContainerInfo => ({
    id: container.id,
    name: container.name,
    image: container.options.spec.image,
    labels: { ...container.labels },
    state: container.state,
    ...(container.exitCode === undefined ? {} : { exitCode: container.exitCode }),
    ...(container.startedAt === undefined ? {} : { startedAt: container.startedAt }),
    ...(container.finishedAt === undefined ? {} : { finishedAt: container.finishedAt }),
    ipAddresses: container.ipAddress === undefined ? {} : { [container.network]: container.ipAddress },
    createdAt: container.createdAt,
  });

  const emit = (container: MemoryContainer, event: { type: RuntimeEventType; exitCode?: number }): void => {
    const runtimeEvent: RuntimeEvent = {
      type: event.type,
      containerId: container.id,
      labels: { ...container.labels },
      ...(event.exitCode === undefined ? {} : { exitCode: event.exitCode }),
      time: now(),
    };
    for (const subscriber of subscribers) {
      if (labelsMatch(container.labels, subscriber.labels)) subscriber.queue.push(runtimeEvent);
    }
  };

  const appendLog = (
    container: MemoryContainer,
    entry: { stream: 'stdout' | 'stderr'; line: string },
  ): void => {
    const stored: StoredLog = { stream: entry.stream, line: entry.line, time: now() };
    container.logs.push(stored);
    for (const follower of container.followers) follower.push(stored);
  };

  const exit = (container: MemoryContainer, exitCode: number): void => {
    container.state = 'exited';
    container.exitCode = exitCode;
    container.finishedAt = now();
    delete container.ipAddress;
    emit(container, { type: 'die', exitCode });
    for (const follower of container.followers) follower.end();
    container.followers.clear();
  };

  const allocateAddress = (container: MemoryContainer): string => {
    if (options.ipAddress !== undefined)
      return options.ipAddress({ container: container.name, network: container.network });
    addressSequence += 1;
    return `10.88.${Math.floor(addressSequence / 250)}.${(addressSequence % 250) + 2}`;
  };

  const runExec = async (
    request: MemoryExecRequest & { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<ExecResult> => {
    ensureAvailable();
    const container = find(request.containerId);
    if (container.state !== 'running') {
      throw new MonkError('NOT_RUNNING', `container ${container.name} is not running; cannot exec into it`);
    }
    const handled = Promise.resolve(
      execHandler({
        containerId: container.id,
        command: request.command,
        ...(request.stdin === undefined ? {} : { stdin: request.stdin }),
      }),
    );
    return await withDeadline(handled, {
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
      what: `exec ${request.command.join(' ')} in ${container.name}`,
    });
  };

  const runtime: MemoryRuntime = {
    info() {
      return call(() => ({ engine: 'memory', version: '0.0.0', apiVersion: '1.41' }));
    },

    listContainers(listOptions = {}) {
      return call(() =>
        [...containers.values()]
          .filter((container) => listOptions.all === true || container.state === 'running')
          .filter((container) => labelsMatch(container.labels, listOptions.labels))
          .reverse()
          .map(toInfo),
      );
    },

    inspectContainer(idOrName) {
      return call(() => toInfo(find(idOrName)));
    },

    createContainer(create) {
      return call(() => {
        if (!images.has(normalizeImage(create.spec.image))) {
          throw new MonkError('IMAGE_NOT_FOUND', `No such image: ${create.spec.image}`, {
            details: { image: create.spec.image },
          });
        }
        for (const container of containers.values()) {
          if (container.name === create.name) {
            throw new MonkError(
              'RUNTIME_ERROR',
              `Conflict. The container name "/${create.name}" is already in use`,
              {
                details: { statusCode: 409 },
              },
            );
          }
        }
        // Like Docker, the network is only looked up when the container starts.
        const network = create.network?.name ?? 'bridge';
        sequence += 1;
        const container: MemoryContainer = {
          id: createHash('sha256').update(`memory-container-${sequence}`).digest('hex'),
          name: create.name,
          options: create,
          labels: { ...create.spec.labels, ...create.labels },
          network,
          createdAt: now(),
          state: 'created',
          logs: [],
          followers: new Set(),
          files: new Map(),
        };
        containers.set(container.id, container);
        emit(container, { type: 'create' });
        return toInfo(container);
      });
    },

    startContainer(id) {
      return call(() => {
        const container = find(id);
        if (container.state === 'running') return;
        if (!networks.has(container.network)) {
          throw new MonkError('RUNTIME_ERROR', `network ${container.network} not found`, {
            details: { statusCode: 404 },
          });
        }
        container.state = 'running';
        delete container.exitCode;
        container.startedAt = now();
        container.ipAddress = allocateAddress(container);
        emit(container, { type: 'start' });
        const process = processHandler({ info: toInfo(container), options: container.options });
        for (const entry of process.output ?? []) appendLog(container, entry);
        if (process.exitCode !== undefined) exit(container, process.exitCode);
      });
    },

    stopContainer(id) {
      return call(() => {
        const container = find(id);
        if (container.state !== 'running') return;
        emit(container, { type: 'kill' });
        exit(container, stopExitCode);
        emit(container, { type: 'stop' });
      });
    },

    removeContainer(id, removeOptions = {}) {
      return call(() => {
        const container = find(id);
        if (container.state === 'running') {
          if (removeOptions.force !== true) {
            throw new MonkError(
              'RUNTIME_ERROR',
              `cannot remove running container ${container.name} without force`,
              {
                details: { statusCode: 409 },
              },
            );
          }
          emit(container, { type: 'kill' });
          exit(container, killExitCode);
        }
        containers.delete(container.id);
        emit(container, { type: 'destroy' });
      });
    },

    putFiles(id, files) {
      return call(() => {
        const container = find(id);
        const normalized = files.map((file) => ({ ...file, path: containerFilePath(file.path) }));
        for (const file of normalized) container.files.set(file.path, file);
      });
    },

    logs(id, logOptions = {}) {
      return (async function* (): AsyncGenerator<LogEntry> {
        ensureAvailable();
        const container = find(id);
        const toEntry = (entry: StoredLog): LogEntry =>
          logOptions.timestamps === true ? entry : { stream: entry.stream, line: entry.line };
        const signal = logOptions.signal;
        if (signal?.aborted === true) return;
        const tail = logOptions.tail;
        const start = tail === undefined ? 0 : Math.max(0, container.logs.length - tail);
        const past = container.logs.slice(start);
        if (logOptions.follow !== true || container.state !== 'running') {
          yield* past.map(toEntry);
          return;
        }
        const queue = createAsyncQueue<StoredLog>({
          onClose: () => {
            container.followers.delete(queue);
            signal?.removeEventListener('abort', onAbort);
          },
        });
        const onAbort = (): void => queue.end();
        signal?.addEventListener('abort', onAbort);
        for (const entry of past) queue.push(entry);
        container.followers.add(queue);
        for await (const entry of queue) yield toEntry(entry);
      })();
    },

    exec(id, execOptions) {
      return runExec({
        containerId: id,
        command: execOptions.command,
        ...(execOptions.timeoutMs === undefined ? {} : { timeoutMs: execOptions.timeoutMs }),
        ...(execOptions.signal === undefined ? {} : { signal: execOptions.signal }),
      });
    },

    execStream(id, streamOptions) {
      const output = createAsyncQueue<ExecOutputChunk>();
      const exitCode = (async (): Promise<number> => {
        try {
          const stdin = streamOptions.stdin === undefined ? undefined : await collect(streamOptions.stdin);
          const result = await runExec({
            containerId: id,
            command: streamOptions.command,
            ...(stdin === undefined ? {} : { stdin }),
            ...(streamOptions.signal === undefined ? {} : { signal: streamOptions.signal }),
          });
          const encoder = new TextEncoder();
          if (result.stdout !== '') output.push({ stream: 'stdout', data: encoder.encode(result.stdout) });
          if (result.stderr !== '') {
            output.push({
              stream: streamOptions.tty ? 'stdout' : 'stderr',
              data: encoder.encode(result.stderr),
            });
          }
          output.end();
          return result.exitCode;
        } catch (error) {
          output.fail(error);
          throw error;
        }
      })();
      // The caller may only read `output`; the same failure must not also surface as unhandled.
      exitCode.catch(() => undefined);
      const session: ExecSession = { output, exitCode };
      return session;
    },

    events(eventOptions) {
      const subscriber: { queue: AsyncQueue<RuntimeEvent>; labels?: Readonly<Record<string, string>> } = {
        queue: createAsyncQueue<RuntimeEvent>({
          onClose: () => {
            subscribers.delete(subscriber);
            eventOptions.signal.removeEventListener('abort', onAbort);
          },
        }),
        ...(eventOptions.labels === undefined ? {} : { labels: eventOptions.labels }),
      };
      const onAbort = (): void => subscriber.queue.end();
      if (!available) {
        subscriber.queue.fail(new MonkError('RUNTIME_UNAVAILABLE', 'the memory container engine is down'));
      } else if (eventOptions.signal.aborted) {
        subscriber.queue.end();
      } else {
        subscribers.add(subscriber);
        eventOptions.signal.addEventListener('abort', onAbort);
      }
      return subscriber.queue;
    },

    ensureNetwork(name, networkOptions = {}) {
      return call(() => {
        const found = networks.get(name);
        if (
          found !== undefined &&
          (networkOptions.ipv4 === undefined || found.ipv4?.subnet === networkOptions.ipv4.subnet)
        ) {
          return;
        }
        if (
          found !== undefined &&
          [...containers.values()].some((c) => c.network === name && c.state === 'running')
        ) {
          throw new MonkError('RUNTIME_ERROR', `network ${name} has active endpoints`, {
            details: { statusCode: 403 },
          });
        }
        networks.set(name, { ...networkOptions });
      });
    },

    removeNetwork(name) {
      return call(() => {
        const attached = [...containers.values()].filter((c) => c.network === name && c.state === 'running');
        if (attached.length > 0) {
          throw new MonkError('RUNTIME_ERROR', `network ${name} has active endpoints`, {
            details: { statusCode: 403 },
          });
        }
        networks.delete(name);
      });
    },

    hasImage(ref) {
      return call(() => images.has(normalizeImage(ref)));
    },

    stats(id) {
      return call(() => {
        const container = find(id);
        if (container.state !== 'running') {
          throw new MonkError('NOT_RUNNING', `container ${container.name} is not running; it has no stats`);
        }
        const at = clock();
        return {
          readAt: at.toISOString(),
          cpuNanos: 0,
          systemCpuNanos: at.getTime() * 1e6,
          onlineCpus: 1,
          memoryBytes: 4 * 1024 * 1024,
          memoryLimitBytes: 1024 * 1024 * 1024,
          networkRxBytes: 0,
          networkTxBytes: 0,
          ...container.stats,
        };
      });
    },

    setStats(id, stats) {
      const container = find(id);
      container.stats = { ...container.stats, ...stats };
    },

    simulateExit(id, exitCode) {
      const container = find(id);
      if (container.state !== 'running') {
        throw new MonkError('NOT_RUNNING', `container ${container.name} is not running; it cannot exit`);
      }
      exit(container, exitCode);
    },

    setAvailable(next) {
      available = next;
      if (next) return;
      for (const subscriber of subscribers) {
        subscriber.queue.fail(new MonkError('RUNTIME_UNAVAILABLE', 'the memory container engine went away'));
      }
      subscribers.clear();
      for (const container of containers.values()) {
        for (const follower of container.followers) {
          follower.fail(new MonkError('RUNTIME_UNAVAILABLE', 'the memory container engine went away'));
        }
        container.followers.clear();
      }
    },

    setExecHandler(handler) {
      execHandler = handler ?? (() => ({ exitCode: 0, stdout: '', stderr: '' }));
    },

    setProcessHandler(handler) {
      processHandler = handler ?? (() => ({}));
    },

    writeLog(id, entry) {
      appendLog(find(id), entry);
    },

    readFile(id, path) {
      return find(id).files.get(containerFilePath(path));
    },

    createOptionsOf(id) {
      return find(id).options;
    },

    networkOptionsOf(name) {
      return networks.get(name);
    },

    addImage(ref) {
      images.add(normalizeImage(ref));
    },
  };

  /** Runs a synchronous engine operation as an async call, failing when the engine is down. */
  function call<T>(operation: () => T): Promise<T> {
    // A throw inside the executor becomes the rejection.
    return new Promise((resolve) => {
      ensureAvailable();
      resolve(operation());
    });
  }

  return runtime;
}

/** `busybox` and `busybox:latest` name the same image. */
function normalizeImage(ref: string): string {
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of chunks) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}
