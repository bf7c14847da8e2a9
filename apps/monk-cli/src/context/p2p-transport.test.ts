import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MonkError } from '@monk/model';
import {
  createP2PNode,
  encodeNetworkKey,
  generateIdentity,
  generateNetworkKey,
  loadOrCreateIdentity,
} from '@monk/p2p';
import type { MessageStream, P2PNode } from '@monk/p2p';
import { controlProtocol, createMonkClient, decodeJsonMessage, encodeJsonMessage } from '@monk/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterContext } from './context-store.ts';
import { createP2PTransport } from './p2p-transport.ts';
import type { DisposableTransport } from './p2p-transport.ts';

/**
 * A stand-in for monkd's control server: `info` answers its params (after an event carrying them), `exec`
 * echoes every stdin frame as output until stdinEnd, `fail` answers an error frame.
 */
async function serveControl(stream: MessageStream): Promise<void> {
  const send = (frame: unknown): Promise<void> => stream.send(encodeJsonMessage(frame));
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) return;
  const request = decodeJsonMessage(first.value) as { method: string; params: unknown };
  switch (request.method) {
    case 'info':
      await send({ event: { type: 'echoed', params: request.params } });
      await send({ result: { params: request.params, from: 'server' } });
      break;
    case 'exec':
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        const frame = decodeJsonMessage(next.value) as { stdin?: string; stdinEnd?: true };
        if (frame.stdinEnd === true) break;
        await send({ event: { type: 'output', stream: 'stdout', data: frame.stdin } });
      }
      await send({ result: { exitCode: 7 } });
      break;
    default:
      await send({ error: { code: 'RUNNABLE_NOT_FOUND', message: `no runnable for ${request.method}` } });
  }
  await stream.close();
}

const networkKey = generateNetworkKey();
let home: string;
let server: P2PNode;
let identityFile: string;
let operatorId: string;
const transports: DisposableTransport[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'monk-p2p-transport-'));
  identityFile = join(home, 'identity.key');
  operatorId = (await loadOrCreateIdentity({ file: identityFile })).peerId;
  server = await createP2PNode({
    identity: await generateIdentity(),
    listen: { host: '127.0.0.1', port: 0 },
    networkKey,
    allowList: [operatorId],
  });
  await server.start();
  server.handleStream(controlProtocol, serveControl);
});

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.dispose()));
});

afterAll(async () => {
  await server.stop();
  await rm(home, { recursive: true, force: true });
});

function contextWith(peers: ClusterContext['peers']): ClusterContext {
  return {
    name: 'test',
    clusterId: 'cluster-1',
    clusterName: 'test',
    networkKey: encodeNetworkKey(networkKey),
    peers,
    createdAt: new Date(0).toISOString(),
  };
}

function transportFor(peers: ClusterContext['peers'], file = identityFile): DisposableTransport {
  const transport = createP2PTransport({
    context: contextWith(peers),
    identityFile: file,
    connectTimeoutMs: 3000,
  });
  transports.push(transport);
  return transport;
}

/** An address where nothing listens: a port we bound and released. */
async function deadAddress(peerId: string): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `/ip4/127.0.0.1/tcp/${String(port)}/p2p/${peerId}`;
}

const serverPeer = (): ClusterContext['peers'][number] => ({
  id: server.peerId,
  addresses: server.addresses(),
});

describe('the control protocol over libp2p (real nodes on 127.0.0.1)', () => {
  it('carries the request, the events and the result of a call', async () => {
    const client = createMonkClient({ transport: transportFor([serverPeer()]) });
    const events: unknown[] = [];
    const result = await client.call('info', { hello: 'world' }, { onEvent: (e) => events.push(e) });
    expect(result).toEqual({ params: { hello: 'world' }, from: 'server' });
    expect(events).toEqual([{ type: 'echoed', params: { hello: 'world' } }]);
  });

  it('streams stdin frames to the server and its output back (exec)', async () => {
    const client = createMonkClient({ transport: transportFor([serverPeer()]) });
    const output: string[] = [];
    async function* stdin(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('one');
      yield new TextEncoder().encode('two');
    }
    const result = await client.exec(
      { path: 'ns/app', command: ['cat'] },
      { onOutput: (_stream, data) => output.push(Buffer.from(data).toString()), stdin: stdin() },
    );
    expect(result).toEqual({ exitCode: 7 });
    expect(output).toEqual(['one', 'two']);
  });

  it('rethrows an error frame as a MonkError with its code', async () => {
    const client = createMonkClient({ transport: transportFor([serverPeer()]) });
    await expect(client.call('ps', {})).rejects.toMatchObject({
      code: 'RUNNABLE_NOT_FOUND',
      message: 'no runnable for ps',
    });
  });

  it('tries the peers in order and uses the first that answers', async () => {
    const dead = await deadAddress((await generateIdentity()).peerId);
    const deadId = dead.split('/p2p/')[1] ?? '';
    const client = createMonkClient({
      transport: transportFor([{ id: deadId, addresses: [dead] }, serverPeer()]),
    });
    expect(await client.call('info', { n: 1 })).toEqual({ params: { n: 1 }, from: 'server' });
  });

  it('fails with PEER_UNREACHABLE naming the cluster and the addresses tried', async () => {
    const id = (await generateIdentity()).peerId;
    const dead = await deadAddress(id);
    const client = createMonkClient({ transport: transportFor([{ id, addresses: [dead] }]) });
    const error = await client.call('info', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MonkError);
    expect(error).toMatchObject({ code: 'PEER_UNREACHABLE' });
    expect((error as MonkError).message).toContain('cluster test');
    expect((error as MonkError).message).toContain(dead);
  });

  it('fails with NOT_A_MEMBER when a live peer refuses this operator and the others are down', async () => {
    const strangerFile = join(home, 'stranger.key');
    await loadOrCreateIdentity({ file: strangerFile });
    const id = (await generateIdentity()).peerId;
    const dead = { id, addresses: [await deadAddress(id)] };
    const client = createMonkClient({ transport: transportFor([dead, serverPeer()], strangerFile) });
    await expect(client.call('info', {})).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
  });

  it('fails with CONTEXT_NOT_FOUND when the context has no identity', async () => {
    const client = createMonkClient({ transport: transportFor([serverPeer()], join(home, 'missing.key')) });
    await expect(client.call('info', {})).rejects.toMatchObject({ code: 'CONTEXT_NOT_FOUND' });
  });

  it('stops its node when the call is over: the server sees the operator go', async () => {
    const gone = new Promise<string>((resolve) => {
      const off = server.onPeerDisconnected((peer) => {
        if (peer !== operatorId) return;
        off();
        resolve(peer);
      });
    });
    const transport = transportFor([serverPeer()]);
    await createMonkClient({ transport }).call('info', {});
    await transport.dispose();
    expect(await gone).toBe(operatorId);
  });
});
