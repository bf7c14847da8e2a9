import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Args, Flags } from '@oclif/core';
import { MonkError, toMonkError } from '@monk/model';
import type { PortForwardResult } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { shortPeerId } from '../render.ts';

/** `8080:80` → { local: 8080, remote: 80 }; `80` alone means the same port on both sides; local 0 picks one. */
export function parsePortPair(text: string): { local: number; remote: number } {
  const match = /^(?:(\d{1,5}):)?(\d{1,5})$/.exec(text.trim());
  const local = Number(match?.[1] ?? match?.[2]);
  const remote = Number(match?.[2]);
  if (match === null || local > 65_535 || remote < 1 || remote > 65_535) {
    throw new MonkError(
      'INVALID_REQUEST',
      `${text}: expected LOCAL:REMOTE ports, e.g. 8080:80 (LOCAL 0 picks a free port; REMOTE is 1-65535)`,
    );
  }
  return { local, remote };
}

export class PortForward extends MonkCommand {
  static override description =
    "Forward a port of this machine to a port of an instance's container, through the cluster: each " +
    'connection to 127.0.0.1:LOCAL is carried by monkd to the peer that runs the instance, which connects ' +
    'to the container. Runs until Ctrl-C. With --json, prints one JSON line when it listens and one per ' +
    'connection closed.';
  static override examples = [
    '<%= config.bin %> port-forward examples/web 8080:8080',
    '<%= config.bin %> port-forward -c db shop/stack 15432:5432',
    '<%= config.bin %> port-forward examples/web 0:8080   # pick a free local port',
  ];
  static override args = {
    path: Args.string({ required: true, description: 'a runnable or instance, e.g. examples/web' }),
    ports: Args.string({ required: true, description: 'LOCAL:REMOTE, e.g. 8080:80' }),
  };
  static override flags = {
    container: Flags.string({ char: 'c', description: 'container of the runnable (default: the first)' }),
    address: Flags.string({ description: 'local address to listen on', default: '127.0.0.1' }),
  };

  async run(): Promise<undefined> {
    const { args, flags } = await this.parse(PortForward);
    const { local, remote } = parsePortPair(args.ports);
    const client = this.client();
    const target = {
      path: args.path,
      port: remote,
      ...(flags.container === undefined ? {} : { container: flags.container }),
    };
    const where = await client.portForward({ ...target, check: true });
    const connections = new Set<AbortController>();
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      const controller = new AbortController();
      connections.add(controller);
      this.carry(socket, { target, signal: controller.signal })
        .then((result) => {
          if (this.jsonEnabled()) this.jsonLine({ closed: result });
        })
        .catch((error: unknown) => {
          if (controller.signal.aborted) return;
          const monkError = toMonkError(error);
          process.stderr.write(`connection failed [${monkError.code}]: ${monkError.message}\n`);
        })
        .finally(() => connections.delete(controller));
      socket.once('close', () => controller.abort());
    });
    const listening = await new Promise<AddressInfo>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new MonkError(
            'INVALID_REQUEST',
            error.code === 'EADDRINUSE'
              ? `${flags.address}:${local} is already in use on this machine; pick another LOCAL port (0 picks a free one)`
              : `cannot listen on ${flags.address}:${local}: ${error.message}`,
            { cause: error },
          ),
        ),
      );
      server.listen(local, flags.address, () => resolve(server.address() as AddressInfo));
    });
    if (this.jsonEnabled()) {
      this.jsonLine({ listening: { address: listening.address, port: listening.port }, target: where });
    } else {
      this.log(
        `Forwarding ${listening.address}:${listening.port} -> ${where.workloadId} port ${where.port} ` +
          `(${where.address} on peer ${shortPeerId(where.peer)}). Ctrl-C to stop.`,
      );
    }
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    for (const controller of connections) controller.abort();
    await new Promise((resolve) => server.close(resolve));
    return undefined;
  }

  /** One local connection, carried by one portForward call. */
  private async carry(
    socket: Socket,
    options: { target: { path: string; port: number; container?: string }; signal: AbortSignal },
  ): Promise<PortForwardResult> {
    socket.on('error', () => undefined);
    try {
      return await this.client().portForward(
        { ...options.target, check: false },
        {
          input: socket,
          onData: (data) => socket.write(data),
          signal: options.signal,
        },
      );
    } finally {
      socket.end();
    }
  }

  private jsonLine(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value)}\n`);
  }
}
