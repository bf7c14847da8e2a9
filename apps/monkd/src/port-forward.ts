import { connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { monkLabels, MonkError, type JsonObject, type JsonValue, type Workload } from '@monk/model';
import type { Graph } from '@monk/graph';
import type { ContainerRuntime } from '@monk/runtime';
import type { MethodName, PortForwardResult } from '@monk/sdk';
import type { CallChannel, HandlerGroup } from './handlers.ts';
import { selectWorkloads } from './workloads.ts';

/**
 * The `portForward` method: one TCP connection from an operator's machine to a port of an instance's
 * container, carried by the call itself. The peer that runs the instance connects to the container's
 * address (other peers pass the call on through `forward`); bytes from the client arrive as `stdin` frames,
 * `stdinEnd` half-closes the connection, and the container's bytes go back as `data` events. The call
 * answers when the connection closes (the container closed it, or the client hung up).
 *
 * Throws `RUNNABLE_NOT_FOUND` (no such instance), `NOT_RUNNING` (no running container or no address yet),
 * `NETWORK_ERROR` (the container refused the connection).
 */
export function createPortForwardHandlers(
  options: { peerId: string },
  components: {
    graph: Pick<Graph, 'listWorkloads'>;
    runtime: Pick<ContainerRuntime, 'listContainers'>;
    forward?: (
      peerId: string,
      request: { method: MethodName; params: JsonObject },
      channel: CallChannel,
    ) => Promise<JsonValue>;
    /** Opens the TCP connection (default: node:net). */
    connect?: (target: { host: string; port: number }) => Socket;
  },
): HandlerGroup {
  const connect = components.connect ?? ((target) => netConnect(target));

  function pick(path: string, container: string | undefined): Workload {
    const normalized = path.replace(/^\/+/, '');
    const matching = selectWorkloads(components.graph.listWorkloads(), normalized).filter(
      (w) => container === undefined || w.container === container,
    );
    const workload = matching.find((w) => w.state === 'running') ?? matching[0];
    if (workload === undefined) {
      throw new MonkError(
        'RUNNABLE_NOT_FOUND',
        container === undefined
          ? `no instance at ${normalized}`
          : `no container "${container}" in ${normalized}`,
      );
    }
    return workload;
  }

  async function addressOf(workload: Workload): Promise<string> {
    const containers = await components.runtime.listContainers({
      labels: { [monkLabels.workload]: workload.id, [monkLabels.peer]: options.peerId },
    });
    const running = containers.find((c) => c.state === 'running');
    if (running === undefined) {
      throw new MonkError('NOT_RUNNING', `${workload.id} has no running container; see monk ps`);
    }
    const address = Object.values(running.ipAddresses)[0];
    if (address === undefined) {
      throw new MonkError('NOT_RUNNING', `${workload.id} has no network address yet`);
    }
    return address;
  }

  return {
    portForward: async (params, channel) => {
      const workload = pick(params.path, params.container);
      if (workload.owner !== options.peerId) {
        if (components.forward === undefined) {
          throw new MonkError(
            'PEER_UNREACHABLE',
            `${workload.owner} runs ${workload.id}, and this peer is in no cluster`,
          );
        }
        return components.forward(
          workload.owner,
          {
            method: 'portForward',
            params: {
              path: workload.id,
              container: workload.container,
              port: params.port,
              check: params.check,
            },
          },
          channel,
        );
      }
      const address = await addressOf(workload);
      const target = { workloadId: workload.id, peer: options.peerId, address, port: params.port };
      if (params.check) {
        const result: PortForwardResult = { ...target, bytesIn: 0, bytesOut: 0 };
        return result;
      }
      const socket = connect({ host: address, port: params.port });
      return carry(socket, { channel, target });
    },
  };
}

/** Pumps one connection both ways until it closes; resolves with the bytes carried. */
async function carry(
  socket: Socket,
  context: { channel: CallChannel; target: Omit<PortForwardResult, 'bytesIn' | 'bytesOut'> },
): Promise<PortForwardResult> {
  const { channel, target } = context;
  const where = `${target.workloadId} port ${target.port} (${target.address}:${target.port})`;
  const abort = (): void => {
    socket.destroy();
  };
  channel.signal.addEventListener('abort', abort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', (error: NodeJS.ErrnoException) => {
        const reason = error.code ?? error.message;
        reject(new MonkError('NETWORK_ERROR', `cannot connect to ${where}: ${reason}`, { cause: error }));
      });
      // Destroyed before it connected: the client hung up.
      socket.once('close', () => reject(new MonkError('CANCELLED', 'the client went away')));
    });
    let bytesIn = 0;
    let bytesOut = 0;
    // Errors after the connection was made (a reset) end the connection like a close.
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      bytesOut += chunk.length;
      // One event in flight at a time: the container waits while the client is slow.
      socket.pause();
      channel.emit({ type: 'data', data: chunk.toString('base64') }).then(
        () => socket.resume(),
        () => socket.destroy(),
      );
    });
    const closed = once(socket, 'close');
    const pump = (async () => {
      for await (const frame of channel.clientFrames) {
        if ('stdin' in frame) {
          const data = Buffer.from(frame.stdin, 'base64');
          bytesIn += data.length;
          if (!socket.write(data)) await Promise.race([once(socket, 'drain'), closed]);
        } else {
          socket.end();
          return;
        }
      }
      // The client went away without closing its side.
      socket.destroy();
    })();
    pump.catch(() => socket.destroy());
    await closed;
    const result: PortForwardResult = { ...target, bytesIn, bytesOut };
    return result;
  } finally {
    channel.signal.removeEventListener('abort', abort);
    socket.destroy();
  }
}
