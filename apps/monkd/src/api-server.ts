import { chmod, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { MonkError, toMonkError, type JsonObject } from '@monk/model';
import {
  clientFrameSchema,
  maxFrameBytes,
  methodParams,
  readJsonLines,
  requestFrameSchema,
  writeJsonLine,
  type ClientFrame,
  type MethodName,
} from '@monk/sdk';
import type { ControlService } from './handlers.ts';
import type { Logger } from './logger.ts';

export interface ApiServer {
  close(): Promise<void>;
}

export interface ApiServerOptions {
  readonly socketPath: string;
  /**
   * A connection that has not sent a whole request frame within this time is closed (default 10 s), so
   * half-open connections cannot pile up. Calls that stream for longer (logs -f) are not affected once
   * their request has arrived.
   */
  readonly requestTimeoutMs?: number;
  /** The largest frame accepted (default 16 MiB); a larger one is refused with MESSAGE_TOO_LARGE. */
  readonly maxFrameBytes?: number;
}

const defaultRequestTimeoutMs = 10_000;
/** After answering, a client that keeps sending is cut off after this long. */
const lingerMs = 1_000;

/**
 * Serves the control protocol of @monk/sdk on a unix socket readable only by its owner (mode 0600).
 * One request per connection. A stale socket file from a killed daemon is replaced; a live one means
 * another monkd owns this data dir, and starting fails with INVALID_REQUEST.
 */
export async function startApiServer(
  options: ApiServerOptions,
  components: { service: ControlService; logger: Logger },
): Promise<ApiServer> {
  const limits = {
    requestTimeoutMs: options.requestTimeoutMs ?? defaultRequestTimeoutMs,
    maxFrameBytes: options.maxFrameBytes ?? maxFrameBytes,
  };
  await removeStaleSocket(options.socketPath);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    serve(socket, limits, components).catch((error: unknown) => {
      components.logger.warn('control connection failed', { error: toMonkError(error).toJSON() });
      socket.destroy();
    });
  });
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A deep accept queue: a burst of callers (many CLIs, a script) waits instead of getting EAGAIN.
      server.listen({ path: options.socketPath, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previousUmask);
  }
  await chmod(options.socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * One control connection, whatever carries it: a unix socket (JSON lines) or a libp2p stream (one JSON
 * message per frame).
 */
export interface FrameConnection {
  readonly frames: AsyncIterator<Record<string, unknown>>;
  write(frame: JsonObject): Promise<void>;
  /** Ends the connection after the last frame. */
  end(): void;
  /** Aborts when the other side goes away. */
  readonly closed: AbortSignal;
}

function socketConnection(
  socket: Socket,
  limits: { requestTimeoutMs: number; maxFrameBytes: number },
): FrameConnection {
  const closed = new AbortController();
  socket.once('close', () => closed.abort());
  // Until the request frame is complete the connection costs memory and a descriptor for nothing.
  socket.setTimeout(limits.requestTimeoutMs, () => socket.destroy());
  const lines = readJsonLines(socket, limits.maxFrameBytes);
  let requestSeen = false;
  const frames: AsyncIterator<Record<string, unknown>> = {
    next: async () => {
      const next = await lines.next();
      if (!requestSeen) {
        requestSeen = true;
        socket.setTimeout(0);
      }
      return next;
    },
  };
  return {
    frames,
    write: (frame) => writeJsonLine(socket, frame),
    end: () => {
      socket.end();
      // A client that goes on sending after the answer (an oversized frame) is not read any further.
      setTimeout(() => socket.destroy(), lingerMs).unref();
    },
    closed: closed.signal,
  };
}

async function serve(
  socket: Socket,
  limits: { requestTimeoutMs: number; maxFrameBytes: number },
  components: { service: ControlService; logger: Logger },
): Promise<void> {
  await serveFrames(socketConnection(socket, limits), components);
}

/**
 * Serves one call of the control protocol on a connection: validates the request frame and its
 * parameters, runs the method, streams its events, and writes the final result or error.
 */
export async function serveFrames(
  connection: FrameConnection,
  components: { service: ControlService; logger: Logger },
): Promise<void> {
  const { frames } = connection;
  const controller = new AbortController();
  connection.closed.addEventListener('abort', () => controller.abort(), { once: true });
  const reply = async (frame: JsonObject): Promise<void> => {
    await connection.write(frame).catch(() => undefined);
    connection.end();
  };

  let method: MethodName;
  let params: unknown;
  try {
    const first = await frames.next();
    if (first.done === true) return;
    const request = requestFrameSchema.safeParse(first.value);
    if (!request.success) {
      throw new MonkError('PROTOCOL_ERROR', `malformed request: ${request.error.message}`);
    }
    if (!Object.hasOwn(methodParams, request.data.method)) {
      throw new MonkError('INVALID_REQUEST', `unknown method "${request.data.method}"`);
    }
    method = request.data.method as MethodName;
    const parsed = methodParams[method].safeParse(request.data.params ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'params'}: ${i.message}`)
        .join('; ');
      throw new MonkError('INVALID_REQUEST', `invalid parameters for ${method}: ${issues}`);
    }
    params = parsed.data;
  } catch (error) {
    await reply({ error: toMonkError(error, 'PROTOCOL_ERROR').toJSON() as unknown as JsonObject });
    return;
  }

  const clientFrames = (async function* (): AsyncGenerator<ClientFrame> {
    for (;;) {
      const next = await frames.next().catch(() => ({ done: true as const, value: undefined }));
      if (next.done === true) return;
      const frame = clientFrameSchema.safeParse(next.value);
      if (!frame.success) continue;
      if ('cancel' in frame.data) {
        controller.abort();
        return;
      }
      yield frame.data;
    }
  })();

  try {
    const result = await components.service.handle(method, params as never, {
      emit: (event) => connection.write({ event }),
      clientFrames,
      signal: controller.signal,
    });
    await reply({ result });
  } catch (error) {
    const monkError = toMonkError(error);
    if (monkError.code === 'INTERNAL') {
      components.logger.error(`${method} failed unexpectedly`, {
        error: monkError.toJSON(),
        stack: monkError.stack,
      });
    }
    await reply({ error: monkError.toJSON() as unknown as JsonObject });
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) {
    throw new MonkError('INVALID_REQUEST', `another monkd is already serving ${path}; stop it first`);
  }
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
