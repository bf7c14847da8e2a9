import { connect } from 'node:net';
import { MonkError } from '@monk/model';
import { readJsonLines, writeJsonLine } from './frames.ts';
import type { ClientFrame, RequestFrame } from './protocol.ts';

/** One open call: the server's frames as they arrive, and a way to send client frames. */
export interface FrameChannel extends AsyncIterable<Record<string, unknown>> {
  send(frame: ClientFrame): Promise<void>;
  close(): void;
}

/**
 * How a client reaches a daemon. The unix-socket transport talks to a local monkd; a libp2p transport
 * (operator contexts) talks to any live peer of a cluster. Both carry the same frames.
 */
export interface ControlTransport {
  /** Sends the request frame and returns the channel. Throws `DAEMON_UNAVAILABLE` when nobody answers. */
  open(request: RequestFrame): Promise<FrameChannel>;
  /** A human description of where this transport points, for error messages. */
  readonly target: string;
}

/**
 * A transport over monkd's unix socket.
 *
 * @example
 * const client = createMonkClient({ transport: createUnixSocketTransport({ path: '/root/.monk/monkd.sock' }) });
 */
export function createUnixSocketTransport(options: { path: string }): ControlTransport {
  return {
    target: options.path,
    open: (request) =>
      new Promise<FrameChannel>((resolve, reject) => {
        const socket = connect({ path: options.path });
        socket.once('error', (error: NodeJS.ErrnoException) => {
          const unavailable =
            error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'EACCES';
          reject(
            new MonkError(
              unavailable ? 'DAEMON_UNAVAILABLE' : 'NETWORK_ERROR',
              unavailable
                ? `monkd is not answering at ${options.path} (${error.code ?? 'error'}); start it with bin/monkd or scripts/up.sh`
                : `cannot talk to monkd at ${options.path}: ${error.message}`,
              { cause: error },
            ),
          );
        });
        socket.once('connect', () => {
          socket.removeAllListeners('error');
          // Errors after connect surface through the frame iterator.
          socket.on('error', () => undefined);
          const frames = readJsonLines(socket);
          writeJsonLine(socket, request).then(
            () =>
              resolve({
                [Symbol.asyncIterator]: () => frames,
                send: (frame) => writeJsonLine(socket, frame),
                close: () => socket.destroy(),
              }),
            reject,
          );
        });
      }),
  };
}
