import type { Duplex, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import type { ContainerSpec } from '@monk/model';
import { MonkError } from '@monk/model';
import { createAsyncQueue } from './async-queue.ts';
import type {
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
import { containerStates, runtimeEventTypes } from './container-runtime.ts';
import { createDemultiplexer } from './demultiplexer.ts';
import { createLineSplitter } from './line-splitter.ts';
import { encodeTar } from './tar-archive.ts';
import { isAborted, withDeadline } from './with-deadline.ts';

export interface DockerRuntimeOptions {
  /** The engine's unix socket. Default `/var/run/docker.sock`. */
  readonly socketPath?: string;
}

/** Inspections run at once when listing containers. */
const inspectConcurrency = 8;

/**
 * Creates a {@link ContainerRuntime} on the Docker engine behind a unix socket (API 1.41 or newer; the API
 * version is not negotiated). Containers are created with `HostConfig.Init` so they stop promptly, join at most
 * one network at create time, and are never given a TTY. Images are never pulled. Nothing is contacted until
 * the first call.
 *
 * @example
 * const runtime = createDockerRuntime({ socketPath: '/var/run/docker.sock' });
 * const { version } = await runtime.info(); // throws RUNTIME_UNAVAILABLE when the engine is down
 */
export function createDockerRuntime(options: DockerRuntimeOptions = {}): ContainerRuntime {
  const { docker, where, engine } = connectDocker(options.socketPath);

  const inspect = async (idOrName: string): Promise<ContainerInfo> =>
    engine(`inspect container ${idOrName}`, async () =>
      toContainerInfo(await docker.getContainer(idOrName).inspect()),
    );

  const runtime: ContainerRuntime = {
    info() {
      return engine('read the engine version', async () => {
        const version = await docker.version();
        return { engine: 'docker', version: version.Version, apiVersion: version.ApiVersion };
      });
    },

    async listContainers(listOptions = {}) {
      const summaries = await engine('list containers', () =>
        docker.listContainers({
          all: listOptions.all === true,
          filters: {
            label: Object.entries(listOptions.labels ?? {}).map(([key, value]) => `${key}=${value}`),
          },
        }),
      );
      const infos: ContainerInfo[] = [];
      for (let index = 0; index < summaries.length; index += inspectConcurrency) {
        const batch = summaries.slice(index, index + inspectConcurrency);
        const inspected = await Promise.all(
          batch.map((summary) =>
            inspect(summary.Id).catch((error: unknown) => {
              // Removed between the list and the inspection: it is simply not there any more.
              if (error instanceof MonkError && error.code === 'CONTAINER_NOT_FOUND') return undefined;
              throw error;
            }),
          ),
        );
        for (const info of inspected) if (info !== undefined) infos.push(info);
      }
      return infos;
    },

    inspectContainer(idOrName) {
      return inspect(idOrName);
    },

    async createContainer(create) {
      const body = toCreateBody(create);
      const created = await engine(`create container ${create.name}`, () => docker.createContainer(body));
      return inspect(created.id);
    },

    async startContainer(id) {
      await engine(`start container ${id}`, () => ignoreNotModified(docker.getContainer(id).start()));
    },

    async stopContainer(id, stopOptions = {}) {
      const t = stopOptions.timeoutSeconds;
      await engine(`stop container ${id}`, () =>
        ignoreNotModified(docker.getContainer(id).stop(t === undefined ? {} : { t })),
      );
    },

    async removeContainer(id, removeOptions = {}) {
      await engine(`remove container ${id}`, () =>
        docker.getContainer(id).remove({ force: removeOptions.force === true, v: true }),
      );
    },

    async putFiles(id, files) {
      if (files.length === 0) return;
      const archive = encodeTar({ files, mtime: new Date() });
      await engine(`write ${files.length} file(s) into container ${id}`, async () => {
        await docker.getContainer(id).putArchive(archive, { path: '/' });
      });
    },

    logs(id, logOptions = {}) {
      return readLogs({ docker, id, options: logOptions, where });
    },

    async exec(id, execOptions) {
      const what = `exec ${execOptions.command.join(' ')} in container ${id}`;
      const controller = new AbortController();
      const run = engine(what, async () => {
        const exec = await docker
          .getContainer(id)
          .exec({ Cmd: [...execOptions.command], AttachStdout: true, AttachStderr: true });
        const stream = (await exec.start({ abortSignal: controller.signal })) as Readable;
        const demultiplexer = createDemultiplexer();
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const collect = (frames: { stream: 'stdout' | 'stderr'; data: Buffer }[]): void => {
          for (const frame of frames) (frame.stream === 'stdout' ? out : err).push(frame.data);
        };
        for await (const chunk of stream) collect(demultiplexer.push(chunk as Buffer));
        collect(demultiplexer.flush());
        const exitCode = await waitForExitCode(exec);
        const result: ExecResult = {
          exitCode,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        };
        return result;
      });
      try {
        return await withDeadline(run, {
          ...(execOptions.timeoutMs === undefined ? {} : { timeoutMs: execOptions.timeoutMs }),
          ...(execOptions.signal === undefined ? {} : { signal: execOptions.signal }),
          what,
        });
      } finally {
        controller.abort();
        run.catch(() => undefined);
      }
    },

    execStream(id, streamOptions) {
      return startExecSession({ docker, id, options: streamOptions, where });
    },

    events(eventOptions) {
      const controller = new AbortController();
      const onAbort = (): void => controller.abort();
      const queue = createAsyncQueue<RuntimeEvent>({
        onClose: () => {
          controller.abort();
          eventOptions.signal.removeEventListener('abort', onAbort);
        },
      });
      if (eventOptions.signal.aborted) {
        queue.end();
        return queue;
      }
      eventOptions.signal.addEventListener('abort', onAbort);
      // Asking for events since the call, not since the subscription is set up, keeps the ones in between.
      const since = Math.floor(Date.now()) / 1000;
      const subscribe = async (): Promise<void> => {
        const stream = (await docker.getEvents({
          since,
          filters: {
            type: ['container'],
            event: [...runtimeEventTypes],
            label: Object.entries(eventOptions.labels ?? {}).map(([key, value]) => `${key}=${value}`),
          },
          abortSignal: controller.signal,
        })) as Readable;
        const lines = createLineSplitter();
        for await (const chunk of stream) {
          for (const line of lines.push(chunk as Buffer)) {
            const event = toRuntimeEvent(line);
            if (event !== undefined) queue.push(event);
          }
        }
        if (!controller.signal.aborted) {
          throw new MonkError('RUNTIME_UNAVAILABLE', `the ${where} closed the event stream`);
        }
      };
      subscribe().then(
        () => queue.end(),
        (error: unknown) => {
          if (controller.signal.aborted) queue.end();
          else queue.fail(translateError(error, { what: 'follow events', where, unavailable: true }));
        },
      );
      return queue;
    },

    async ensureNetwork(name, networkOptions = {}) {
      await engine(`create network ${name}`, async () => {
        const existing = await docker.listNetworks({ filters: { name: [name] } });
        // The name filter matches substrings.
        const found = existing.find((network) => network.Name === name);
        const wanted = networkOptions.ipv4;
        if (found !== undefined) {
          const subnets = (found.IPAM?.Config ?? []).map((c) => c.Subnet);
          if (wanted === undefined || subnets.includes(wanted.subnet)) return;
          // This peer's subnet moved (the address plan settled a collision): the old network goes.
          await docker.getNetwork(found.Id).remove();
        }
        try {
          await docker.createNetwork({
            Name: name,
            Driver: 'bridge',
            CheckDuplicate: true,
            Labels: { ...networkOptions.labels },
            ...(wanted === undefined
              ? {}
              : {
                  IPAM: { Driver: 'default', Config: [{ Subnet: wanted.subnet, Gateway: wanted.gateway }] },
                }),
            ...(networkOptions.bridgeName === undefined
              ? {}
              : { Options: { 'com.docker.network.bridge.name': networkOptions.bridgeName } }),
          });
        } catch (error) {
          // Someone else created it in between.
          if (statusOf(error) !== 409) throw error;
        }
      });
    },

    async removeNetwork(name) {
      await engine(`remove network ${name}`, async () => {
        try {
          await docker.getNetwork(name).remove();
        } catch (error) {
          if (statusOf(error) !== 404) throw error;
        }
      });
    },

    async stats(id) {
      const what = `read the stats of container ${id}`;
      const raw = await engine(
        what,
        async () =>
          (await docker.getContainer(id).stats({ stream: false, 'one-shot': true } as {
            stream: false;
          })) as unknown as DockerStats,
      );
      return toContainerStats(raw, { id, what });
    },

    async hasImage(ref) {
      return engine(`look up image ${ref}`, async () => {
        try {
          await docker.getImage(ref).inspect();
          return true;
        } catch (error) {
          if (statusOf(error) === 404) return false;
          throw error;
        }
      });
    },
  };
  return runtime;
}

/** The fields of the engine's `GET /containers/{id}/stats` that monk reads. */
interface DockerStats {
  readonly read?: string;
  readonly cpu_stats?: {
    readonly cpu_usage?: { readonly total_usage?: number; readonly percpu_usage?: readonly number[] };
    readonly system_cpu_usage?: number;
    readonly online_cpus?: number;
  };
  readonly memory_stats?: {
    readonly usage?: number;
    readonly limit?: number;
    readonly stats?: Readonly<Record<string, number>>;
  };
  readonly networks?: Readonly<Record<string, { readonly rx_bytes?: number; readonly tx_bytes?: number }>>;
}

function toContainerStats(raw: DockerStats, context: { id: string; what: string }): ContainerStats {
  const cpu = raw.cpu_stats;
  const memory = raw.memory_stats;
  // A container that is not running has no system CPU reading and an empty memory section.
  if (cpu?.system_cpu_usage === undefined || memory?.usage === undefined) {
    throw new MonkError('NOT_RUNNING', `cannot ${context.what}: it is not running`, {
      details: { container: context.id },
    });
  }
  // As the docker CLI: cgroup v2 reports inactive_file, v1 total_inactive_file; the page cache is not "used".
  const inactive = memory.stats?.['inactive_file'] ?? memory.stats?.['total_inactive_file'] ?? 0;
  const usage = memory.usage;
  const networks = Object.values(raw.networks ?? {});
  return {
    readAt: raw.read ?? new Date().toISOString(),
    cpuNanos: cpu.cpu_usage?.total_usage ?? 0,
    systemCpuNanos: cpu.system_cpu_usage,
    onlineCpus: cpu.online_cpus ?? cpu.cpu_usage?.percpu_usage?.length ?? 1,
    memoryBytes: inactive < usage ? usage - inactive : usage,
    memoryLimitBytes: memory.limit ?? 0,
    networkRxBytes: networks.reduce((sum, n) => sum + (n.rx_bytes ?? 0), 0),
    networkTxBytes: networks.reduce((sum, n) => sum + (n.tx_bytes ?? 0), 0),
  };
}

function toCreateBody(create: CreateContainerOptions): Docker.ContainerCreateOptions {
  const spec: ContainerSpec = create.spec;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostPort: string; HostIp?: string }[]> = {};
  for (const port of spec.ports) {
    const key = `${port.containerPort}/${port.protocol}`;
    exposed[key] = {};
    if (port.hostPort !== undefined) {
      const binding = {
        HostPort: String(port.hostPort),
        ...(port.hostIp === undefined ? {} : { HostIp: port.hostIp }),
      };
      bindings[key] = [...(bindings[key] ?? []), binding];
    }
  }
  const binds = spec.mounts
    .filter((mount) => mount.kind === 'bind')
    .map((mount) => `${mount.source}:${mount.target}${mount.readOnly ? ':ro' : ''}`);
  const mounts: Docker.MountSettings[] = [];
  for (const mount of spec.mounts) {
    switch (mount.kind) {
      case 'bind':
        // As Binds, so a missing host directory is created like `docker run -v` does.
        break;
      case 'volume':
        mounts.push({ Type: 'volume', Source: mount.source, Target: mount.target, ReadOnly: mount.readOnly });
        break;
      case 'tmpfs':
        mounts.push({ Type: 'tmpfs', Source: '', Target: mount.target, ReadOnly: mount.readOnly });
        break;
    }
  }
  const resources = spec.resources;
  return {
    name: create.name,
    Image: spec.image,
    ...(spec.entrypoint === undefined ? {} : { Entrypoint: [...spec.entrypoint] }),
    ...(spec.command === undefined ? {} : { Cmd: [...spec.command] }),
    Env: Object.entries(spec.environment).map(([key, value]) => `${key}=${value}`),
    Labels: { ...spec.labels, ...create.labels },
    ExposedPorts: exposed,
    ...(spec.workingDir === undefined ? {} : { WorkingDir: spec.workingDir }),
    ...(spec.user === undefined ? {} : { User: spec.user }),
    ...(create.hostname === undefined ? {} : { Hostname: create.hostname }),
    HostConfig: {
      Init: spec.init ?? true,
      PortBindings: bindings,
      Binds: binds,
      Mounts: mounts,
      ...(resources?.cpus === undefined ? {} : { NanoCpus: Math.round(resources.cpus * 1e9) }),
      ...(resources?.memoryBytes === undefined ? {} : { Memory: resources.memoryBytes }),
      ...(spec.privileged === undefined ? {} : { Privileged: spec.privileged }),
      ...(spec.capAdd === undefined ? {} : { CapAdd: [...spec.capAdd] }),
      ...(create.network === undefined ? {} : { NetworkMode: create.network.name }),
      ...(create.dns === undefined ? {} : { Dns: [...create.dns] }),
    },
    ...(create.network === undefined
      ? {}
      : {
          NetworkingConfig: {
            EndpointsConfig: { [create.network.name]: { Aliases: [...create.network.aliases] } },
          },
        }),
  };
}

function toContainerInfo(inspected: Docker.ContainerInspectInfo): ContainerInfo {
  const state = inspected.State;
  const status = (containerStates as readonly string[]).includes(state.Status)
    ? (state.Status as ContainerState)
    : 'dead';
  const ipAddresses: Record<string, string> = {};
  for (const [network, settings] of Object.entries(inspected.NetworkSettings.Networks)) {
    if (settings.IPAddress !== '') ipAddresses[network] = settings.IPAddress;
  }
  const hasExited = status === 'exited' || status === 'dead';
  return {
    id: inspected.Id,
    name: inspected.Name.replace(/^\//, ''),
    image: inspected.Config.Image,
    labels: { ...inspected.Config.Labels },
    state: status,
    ...(hasExited ? { exitCode: state.ExitCode } : {}),
    ...(isSetTime(state.StartedAt) ? { startedAt: state.StartedAt } : {}),
    ...(isSetTime(state.FinishedAt) ? { finishedAt: state.FinishedAt } : {}),
    ...(state.Error === '' ? {} : { error: state.Error }),
    ipAddresses,
    createdAt: inspected.Created,
  };
}

/** Docker reports "never" as the zero time. */
function isSetTime(time: string | undefined): time is string {
  return time !== undefined && time !== '' && !time.startsWith('0001-01-01');
}

/** Attributes Docker puts on container events besides the container's labels. */
const eventAttributes = new Set(['image', 'name', 'exitCode', 'signal', 'execID', 'container']);

function toRuntimeEvent(line: string): RuntimeEvent | undefined {
  if (line.trim() === '') return undefined;
  const raw = JSON.parse(line) as {
    Type?: string;
    Action?: string;
    Actor?: { ID?: string; Attributes?: Record<string, string> };
    time?: number;
    timeNano?: number;
  };
  const type = raw.Action as RuntimeEventType | undefined;
  if (raw.Type !== 'container' || type === undefined || !runtimeEventTypes.includes(type)) return undefined;
  const attributes = raw.Actor?.Attributes ?? {};
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) if (!eventAttributes.has(key)) labels[key] = value;
  const exitCode = attributes['exitCode'];
  const millis = raw.timeNano !== undefined ? raw.timeNano / 1e6 : (raw.time ?? 0) * 1000;
  return {
    type,
    containerId: raw.Actor?.ID ?? '',
    labels,
    ...(exitCode === undefined ? {} : { exitCode: Number(exitCode) }),
    time: new Date(millis).toISOString(),
  };
}

async function* readLogs(request: {
  docker: Docker;
  id: string;
  options: { follow?: boolean; tail?: number; timestamps?: boolean; signal?: AbortSignal };
  where: string;
}): AsyncGenerator<LogEntry> {
  const { docker, id, options } = request;
  if (isAborted(options.signal)) return;
  const what = `read logs of container ${id}`;
  const base = {
    stdout: true,
    stderr: true,
    timestamps: options.timestamps === true,
    ...(options.tail === undefined ? {} : { tail: options.tail }),
    ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
  };
  const demultiplexer = createDemultiplexer();
  const splitters = { stdout: createLineSplitter(), stderr: createLineSplitter() };
  const toEntries = (frames: { stream: 'stdout' | 'stderr'; data: Buffer }[], atEnd: boolean): LogEntry[] => {
    const entries: LogEntry[] = [];
    for (const frame of frames) {
      for (const line of splitters[frame.stream].push(frame.data)) {
        entries.push(toLogEntry({ stream: frame.stream, line, timestamps: options.timestamps === true }));
      }
    }
    if (atEnd) {
      for (const stream of ['stdout', 'stderr'] as const) {
        for (const line of splitters[stream].flush()) {
          entries.push(toLogEntry({ stream, line, timestamps: options.timestamps === true }));
        }
      }
    }
    return entries;
  };

  if (options.follow !== true) {
    let body: unknown;
    try {
      body = await docker.getContainer(id).logs({ ...base, follow: false });
    } catch (error) {
      if (isAborted(options.signal)) return;
      throw translateError(error, { what, where: request.where });
    }
    // docker-modem parses bodies that happen to be JSON; logs are bytes.
    const bytes = Buffer.isBuffer(body)
      ? body
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    yield* toEntries([...demultiplexer.push(bytes), ...demultiplexer.flush()], true);
    return;
  }

  let stream: Readable | undefined;
  try {
    stream = (await docker.getContainer(id).logs({ ...base, follow: true })) as Readable;
    for await (const chunk of stream) yield* toEntries(demultiplexer.push(chunk as Buffer), false);
    yield* toEntries(demultiplexer.flush(), true);
  } catch (error) {
    if (isAborted(options.signal)) return;
    throw translateError(error, { what, where: request.where });
  } finally {
    stream?.destroy();
  }
}

function toLogEntry(entry: { stream: 'stdout' | 'stderr'; line: string; timestamps: boolean }): LogEntry {
  if (!entry.timestamps) return { stream: entry.stream, line: entry.line };
  const space = entry.line.indexOf(' ');
  const stamp = space === -1 ? entry.line : entry.line.slice(0, space);
  const time = new Date(stamp);
  if (Number.isNaN(time.getTime())) return { stream: entry.stream, line: entry.line };
  return {
    stream: entry.stream,
    line: space === -1 ? '' : entry.line.slice(space + 1),
    time: time.toISOString(),
  };
}

function startExecSession(request: {
  docker: Docker;
  id: string;
  options: {
    command: readonly string[];
    tty: boolean;
    stdin?: AsyncIterable<Uint8Array>;
    signal?: AbortSignal;
  };
  where: string;
}): ExecSession {
  const { docker, id, options } = request;
  const what = `exec ${options.command.join(' ')} in container ${id}`;
  const output = createAsyncQueue<ExecOutputChunk>();
  let socket: Duplex | undefined;
  const onAbort = (): void => {
    socket?.destroy();
  };

  const run = async (): Promise<number> => {
    if (isAborted(options.signal)) throw new MonkError('CANCELLED', `${what} was cancelled`);
    options.signal?.addEventListener('abort', onAbort);
    try {
      const exec = await docker.getContainer(id).exec({
        Cmd: [...options.command],
        AttachStdin: options.stdin !== undefined,
        AttachStdout: true,
        AttachStderr: true,
        Tty: options.tty,
      });
      const opened = await exec.start({ hijack: true, stdin: options.stdin !== undefined, Tty: options.tty });
      socket = opened;
      if (isAborted(options.signal)) opened.destroy();
      if (options.stdin !== undefined) pumpStdin(options.stdin, opened);
      const demultiplexer = createDemultiplexer();
      const forward = (frames: { stream: 'stdout' | 'stderr'; data: Buffer }[]): void => {
        for (const frame of frames) output.push({ stream: frame.stream, data: new Uint8Array(frame.data) });
      };
      for await (const chunk of opened) {
        const bytes = chunk as Buffer;
        if (options.tty) output.push({ stream: 'stdout', data: new Uint8Array(bytes) });
        else forward(demultiplexer.push(bytes));
      }
      forward(demultiplexer.flush());
      if (isAborted(options.signal)) throw new MonkError('CANCELLED', `${what} was cancelled`);
      const exitCode = await waitForExitCode(exec);
      output.end();
      return exitCode;
    } catch (error) {
      const translated = isAborted(options.signal)
        ? new MonkError('CANCELLED', `${what} was cancelled`, { cause: error })
        : translateError(error, { what, where: request.where });
      output.fail(translated);
      throw translated;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      socket?.destroy();
    }
  };
  const exitCode = run();
  // Callers may read only `output`; the same failure must not also surface as unhandled.
  exitCode.catch(() => undefined);
  return { output, exitCode };
}

function pumpStdin(stdin: AsyncIterable<Uint8Array>, socket: Duplex): void {
  const pump = async (): Promise<void> => {
    for await (const chunk of stdin) {
      if (socket.destroyed) return;
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    // Half-close: the process sees end of input and its output keeps flowing.
    if (!socket.destroyed) socket.end();
  };
  pump().catch(() => socket.destroy());
}

/** The output stream can end a moment before the engine records the exit code. */
async function waitForExitCode(exec: Docker.Exec): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    const inspected = await exec.inspect();
    if (!inspected.Running && inspected.ExitCode !== null) return inspected.ExitCode;
    if (attempt >= 100) {
      throw new MonkError('RUNTIME_ERROR', `exec ${inspected.ID} ended its output but reports no exit code`);
    }
    await sleep(20);
  }
}

async function ignoreNotModified(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if (statusOf(error) !== 304) throw error;
  }
}

export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

function engineMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const json = (error as { json?: unknown }).json;
  if (typeof json === 'object' && json !== null) {
    const message = (json as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  if (Buffer.isBuffer(json)) return json.toString('utf8').trim();
  return error instanceof Error ? error.message : 'unknown engine error';
}

const unavailableCodes = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE']);

/**
 * One engine connection as the runtime and the image store use it: the dockerode client, a name for
 * messages, and `engine(what, op)`, which turns the engine's errors into MonkErrors saying what failed where.
 */
export function connectDocker(socketPath = '/var/run/docker.sock'): {
  docker: Docker;
  where: string;
  engine: <T>(what: string, operation: () => Promise<T>) => Promise<T>;
} {
  const docker = new Docker({ socketPath });
  const where = `Docker engine at ${socketPath}`;
  const engine = async <T>(what: string, operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw translateError(error, { what, where });
    }
  };
  return { docker, where, engine };
}

/** The one place Docker's errors become monk's (containers here, images in docker-image-store.ts). */
export function translateError(
  error: unknown,
  context: { what: string; where: string; unavailable?: boolean },
): MonkError {
  if (error instanceof MonkError) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && unavailableCodes.has(code)) {
    return new MonkError(
      'RUNTIME_UNAVAILABLE',
      `cannot ${context.what}: the ${context.where} does not answer (${code})`,
      {
        cause: error,
      },
    );
  }
  const status = statusOf(error);
  const message = engineMessage(error);
  if (status === 404 && /no such container/i.test(message)) {
    return new MonkError('CONTAINER_NOT_FOUND', `cannot ${context.what}: ${message}`, { cause: error });
  }
  if ((status === 404 || status === 400) && /no such image|pull access denied/i.test(message)) {
    return new MonkError('IMAGE_NOT_FOUND', `cannot ${context.what}: ${message}`, { cause: error });
  }
  if (status === 409 && /is not running|is paused|is restarting/i.test(message)) {
    return new MonkError('NOT_RUNNING', `cannot ${context.what}: ${message}`, { cause: error });
  }
  if (status === undefined && context.unavailable === true) {
    return new MonkError('RUNTIME_UNAVAILABLE', `cannot ${context.what}: the ${context.where} went away`, {
      cause: error,
    });
  }
  return new MonkError('RUNTIME_ERROR', `cannot ${context.what}: ${message}`, {
    cause: error,
    ...(status === undefined ? {} : { details: { statusCode: status } }),
  });
}
