import { deserializeError, MonkError, type JsonObject } from '@monk/model';
import type {
  DeployResult,
  DescribeResult,
  ConflictEvent,
  ExecOutputEvent,
  InfoResult,
  LogEvent,
  MethodName,
  MethodParams,
  PlanResult,
  ProgressEvent,
  PsEntry,
  ImagesResult,
  PortForwardDataEvent,
  PortForwardResult,
  StatsEvent,
  StatsResult,
  TemplateSummary,
} from './protocol.ts';
import { protocolVersion } from './protocol-version.ts';
import type { ControlTransport, FrameChannel } from './transport.ts';

export interface CallOptions {
  /** Called for each `{ event }` frame before the result arrives. */
  readonly onEvent?: (event: Record<string, unknown>) => void;
  readonly signal?: AbortSignal;
}

/**
 * The typed client of monkd's control API. Every method throws a {@link MonkError} carrying the daemon's
 * stable error code (`DAEMON_UNAVAILABLE` when no daemon answers).
 *
 * @example
 * const monk = createMonkClient({ transport: createUnixSocketTransport({ path: socket }) });
 * await monk.run({ path: 'examples/app' }, { onEvent: (e) => console.log(e) });
 * console.table(await monk.ps({}));
 */
export interface MonkClient {
  call(method: MethodName, params: object, options?: CallOptions): Promise<unknown>;
  info(): Promise<InfoResult>;
  putTemplates(params: MethodParams<'templates.put'>): Promise<{ loaded: string[] }>;
  listTemplates(): Promise<TemplateSummary[]>;
  dumpTemplate(params: MethodParams<'templates.dump'>): Promise<JsonObject>;
  plan(params: MethodParams<'plan'>): Promise<PlanResult>;
  run(
    params: MethodParams<'run'>,
    options?: { onProgress?: (event: ProgressEvent) => void; signal?: AbortSignal },
  ): Promise<DeployResult>;
  update(
    params: MethodParams<'update'>,
    options?: { onProgress?: (event: ProgressEvent) => void; signal?: AbortSignal },
  ): Promise<DeployResult>;
  /** Sets a runnable's replicas (`monk scale`); answers like `update`. */
  scale(
    params: MethodParams<'scale'>,
    options?: { onProgress?: (event: ProgressEvent) => void; signal?: AbortSignal },
  ): Promise<DeployResult>;
  stop(params: MethodParams<'stop'>): Promise<{ stopped: string[] }>;
  purge(params: MethodParams<'purge'>): Promise<{ removed: string[]; excised: string[] }>;
  ps(params: MethodParams<'ps'>): Promise<PsEntry[]>;
  /** Every image of every peer, and which peers hold it (`monk images`). */
  listImages(): Promise<ImagesResult>;
  describe(params: MethodParams<'describe'>): Promise<DescribeResult>;
  /** Recorded events, oldest first: conflicts between concurrent writes to a deployment. */
  events(params: MethodParams<'events'>): Promise<ConflictEvent[]>;
  logs(
    params: MethodParams<'logs'>,
    options: { onLog: (event: LogEvent) => void; signal?: AbortSignal },
  ): Promise<void>;
  exec(
    params: MethodParams<'exec'>,
    options: {
      onOutput: (stream: 'stdout' | 'stderr', data: Uint8Array) => void;
      stdin?: AsyncIterable<Uint8Array>;
      signal?: AbortSignal;
    },
  ): Promise<{ exitCode: number }>;
  /**
   * CPU, memory and network of running instances. With `follow`, `onStats` gets fresh rows of each peer
   * until `signal` aborts (the call then resolves with what it last had).
   */
  stats(
    params: MethodParams<'stats'>,
    options?: { onStats?: (event: StatsEvent) => void; signal?: AbortSignal },
  ): Promise<StatsResult>;
  /**
   * Carries one TCP connection to a port of an instance's container: `input` is what the local side sends
   * (its end closes the write side), `onData` gets what the container sends. Resolves when the connection
   * closes; with `check: true` it only says where it would connect.
   */
  portForward(
    params: MethodParams<'portForward'>,
    options?: {
      input?: AsyncIterable<Uint8Array>;
      onData?: (data: Uint8Array) => void;
      signal?: AbortSignal;
    },
  ): Promise<PortForwardResult>;
}

export function createMonkClient(options: { transport: ControlTransport }): MonkClient {
  const { transport } = options;

  async function drain(channel: FrameChannel, callOptions: CallOptions): Promise<unknown> {
    const abort = (): void => channel.close();
    callOptions.signal?.addEventListener('abort', abort, { once: true });
    try {
      for await (const frame of channel) {
        if ('event' in frame) callOptions.onEvent?.(frame['event'] as Record<string, unknown>);
        else if ('result' in frame) return frame['result'];
        else if ('error' in frame) throw deserializeError(frame['error']);
      }
      if (callOptions.signal?.aborted === true) throw new MonkError('CANCELLED', 'cancelled');
      throw new MonkError(
        'PROTOCOL_ERROR',
        `monkd at ${transport.target} closed the connection without an answer`,
      );
    } finally {
      callOptions.signal?.removeEventListener('abort', abort);
      channel.close();
    }
  }

  async function call(method: MethodName, params: object, callOptions: CallOptions = {}): Promise<unknown> {
    const channel = await transport.open({ v: protocolVersion, method, params: params as JsonObject });
    return drain(channel, callOptions);
  }

  const deploy =
    (method: 'run' | 'update' | 'scale') =>
    (
      params: object,
      deployOptions: { onProgress?: (event: ProgressEvent) => void; signal?: AbortSignal } = {},
    ) =>
      call(method, params, {
        onEvent: (event) => {
          if (event['type'] === 'progress') deployOptions.onProgress?.(event as unknown as ProgressEvent);
        },
        ...(deployOptions.signal === undefined ? {} : { signal: deployOptions.signal }),
      }) as Promise<DeployResult>;

  return {
    call,
    info: () => call('info', {}) as Promise<InfoResult>,
    putTemplates: (params) => call('templates.put', params) as Promise<{ loaded: string[] }>,
    listTemplates: () => call('templates.list', {}) as Promise<TemplateSummary[]>,
    dumpTemplate: (params) => call('templates.dump', params) as Promise<JsonObject>,
    plan: (params) => call('plan', params) as Promise<PlanResult>,
    run: deploy('run'),
    update: deploy('update'),
    scale: deploy('scale'),
    stop: (params) => call('stop', params) as Promise<{ stopped: string[] }>,
    purge: (params) => call('purge', params) as Promise<{ removed: string[]; excised: string[] }>,
    ps: (params) => call('ps', params) as Promise<PsEntry[]>,
    listImages: () => call('images.list', {}) as Promise<ImagesResult>,
    describe: (params) => call('describe', params) as Promise<DescribeResult>,
    events: (params) => call('events', params) as Promise<ConflictEvent[]>,
    logs: async (params, logOptions) => {
      await call('logs', params, {
        onEvent: (event) => {
          if (event['type'] === 'log') logOptions.onLog(event as unknown as LogEvent);
        },
        ...(logOptions.signal === undefined ? {} : { signal: logOptions.signal }),
      });
    },
    exec: async (params, execOptions) => {
      const channel = await transport.open({
        v: protocolVersion,
        method: 'exec',
        params: params as JsonObject,
      });
      const pump = async (): Promise<void> => {
        if (execOptions.stdin === undefined) return;
        for await (const chunk of execOptions.stdin) {
          await channel.send({ stdin: Buffer.from(chunk).toString('base64') });
        }
        await channel.send({ stdinEnd: true });
      };
      // stdin ends when the user closes it; the command may finish first, which closes the channel.
      pump().catch(() => undefined);
      const result = await drain(channel, {
        onEvent: (event) => {
          if (event['type'] === 'output') {
            const output = event as unknown as ExecOutputEvent;
            execOptions.onOutput(output.stream, Buffer.from(output.data, 'base64'));
          }
        },
        ...(execOptions.signal === undefined ? {} : { signal: execOptions.signal }),
      });
      return result as { exitCode: number };
    },
    stats: async (params, statsOptions = {}) =>
      call('stats', params, {
        onEvent: (event) => {
          if (event['type'] === 'stats') statsOptions.onStats?.(event as unknown as StatsEvent);
        },
        ...(statsOptions.signal === undefined ? {} : { signal: statsOptions.signal }),
      }) as Promise<StatsResult>,
    portForward: async (params, forwardOptions = {}) => {
      const channel = await transport.open({
        v: protocolVersion,
        method: 'portForward',
        params: params as JsonObject,
      });
      const pump = async (): Promise<void> => {
        if (forwardOptions.input === undefined) return;
        for await (const chunk of forwardOptions.input) {
          await channel.send({ stdin: Buffer.from(chunk).toString('base64') });
        }
        await channel.send({ stdinEnd: true });
      };
      // The container may close first, which closes the channel under the pump.
      pump().catch(() => undefined);
      return (await drain(channel, {
        onEvent: (event) => {
          if (event['type'] === 'data') {
            const data = (event as unknown as PortForwardDataEvent).data;
            forwardOptions.onData?.(Buffer.from(data, 'base64'));
          }
        },
        ...(forwardOptions.signal === undefined ? {} : { signal: forwardOptions.signal }),
      })) as PortForwardResult;
    },
  };
}
