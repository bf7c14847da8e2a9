import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultRecoveryPolicy,
  monkLabels,
  type JsonObject,
  type ResolvedRunnable,
  type Workload,
} from '@monk/model';
import { createMemoryRuntime } from '@monk/runtime';
import type { ClientFrame, PortForwardResult } from '@monk/sdk';
import type { CallChannel } from './handlers.ts';
import { createPortForwardHandlers } from './port-forward.ts';
import { buildWorkloads } from '@monk/planner';

const image = 'busybox:latest';
const self = 'peer-self';

function workloadsOf(path: string, owner: string): Workload[] {
  const runnable: ResolvedRunnable = {
    path,
    containers: [
      {
        key: 'web',
        spec: { image, environment: {}, ports: [], mounts: [], files: [], labels: {} },
      },
    ],
    services: [],
    dependsOn: [],
    connections: {},
    recovery: defaultRecoveryPolicy,
    variables: {},
    scale: 1,
  };
  return buildWorkloads({ deployment: path, runnables: [runnable], owner, generation: 1 });
}

/** A call whose client sends `input` (then closes its side), collecting what comes back. */
function channel(input: readonly string[]): CallChannel & { received: () => string } {
  const chunks: Buffer[] = [];
  return {
    received: () => Buffer.concat(chunks).toString(),
    emit: async (event: JsonObject) => {
      const data = event['data'];
      if (event['type'] === 'data' && typeof data === 'string') chunks.push(Buffer.from(data, 'base64'));
    },
    clientFrames: (async function* (): AsyncGenerator<ClientFrame> {
      for (const text of input) yield { stdin: Buffer.from(text).toString('base64') };
      yield { stdinEnd: true };
    })(),
    signal: new AbortController().signal,
  };
}

describe('portForward handler (a real TCP server standing in for the container)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  /** Answers what it read, upper-cased, once the client closed its side; then closes. */
  async function shoutServer(): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => socket.end(text.toUpperCase()));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  async function setup(workloads: Workload[]) {
    // The memory engine gives every container the loopback address, where the test server listens.
    const runtime = createMemoryRuntime({ images: [image], ipAddress: () => '127.0.0.1' });
    for (const w of workloads.filter((w) => w.owner === self)) {
      const created = await runtime.createContainer({
        name: w.name,
        spec: w.spec,
        labels: { [monkLabels.workload]: w.id, [monkLabels.peer]: self },
      });
      await runtime.startContainer(created.id);
    }
    const forwarded: Array<{ peer: string; params: JsonObject }> = [];
    const handlers = createPortForwardHandlers(
      { peerId: self },
      {
        graph: { listWorkloads: () => workloads },
        runtime,
        forward: async (peer, request) => {
          forwarded.push({ peer, params: request.params });
          return { forwardedTo: peer };
        },
      },
    );
    const portForward = handlers.portForward;
    if (portForward === undefined) throw new Error('no portForward handler');
    return { portForward, forwarded };
  }

  it('carries the bytes both ways and answers with what it carried', async () => {
    const port = await shoutServer();
    const { portForward } = await setup(workloadsOf('ns/web', self));
    const call = channel(['hello ', 'container']);
    const result = (await portForward({ path: 'ns/web', port, check: false }, call)) as PortForwardResult;
    expect(call.received()).toBe('HELLO CONTAINER');
    expect(result).toEqual({
      workloadId: 'ns/web#web',
      peer: self,
      address: '127.0.0.1',
      port,
      bytesIn: 15,
      bytesOut: 15,
    });
  });

  it('with check, says where it would connect without connecting', async () => {
    const { portForward } = await setup(workloadsOf('ns/web', self));
    const result = await portForward({ path: 'ns/web', port: 80, check: true }, channel([]));
    expect(result).toMatchObject({ workloadId: 'ns/web#web', address: '127.0.0.1', port: 80, bytesIn: 0 });
  });

  it('fails with NETWORK_ERROR naming the instance and port when nothing listens', async () => {
    const port = await shoutServer();
    await new Promise((r) => servers.pop()?.close(r));
    const { portForward } = await setup(workloadsOf('ns/web', self));
    await expect(portForward({ path: 'ns/web', port, check: false }, channel([]))).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      message: `cannot connect to ns/web#web port ${port} (127.0.0.1:${port}): ECONNREFUSED`,
    });
  });

  it('passes a call for an instance of another peer on to that peer', async () => {
    const { portForward, forwarded } = await setup(workloadsOf('ns/db', 'peer-other'));
    expect(await portForward({ path: 'ns/db', port: 5432, check: false }, channel([]))).toEqual({
      forwardedTo: 'peer-other',
    });
    expect(forwarded).toEqual([
      {
        peer: 'peer-other',
        params: { path: 'ns/db#web', container: 'web', port: 5432, check: false },
      },
    ]);
  });

  it('names the path when there is no such instance', async () => {
    const { portForward } = await setup(workloadsOf('ns/web', self));
    await expect(portForward({ path: 'ns/nope', port: 80, check: false }, channel([]))).rejects.toMatchObject(
      { code: 'RUNNABLE_NOT_FOUND', message: 'no instance at ns/nope' },
    );
  });
});
