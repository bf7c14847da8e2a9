import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonkClient, createUnixSocketTransport, readJsonLines } from '@monk/sdk';
import { startApiServer, type ApiServer } from './api-server.ts';
import { createDispatcher } from './handlers.ts';
import { createLogger } from './logger.ts';

interface Fixture {
  readonly socketPath: string;
  readonly server: ApiServer;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(options: { requestTimeoutMs?: number; maxFrameBytes?: number } = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'monk-api-'));
  const socketPath = join(dir, 'monkd.sock');
  const service = createDispatcher([
    {
      info: () =>
        Promise.resolve({
          peerId: 'p1',
          peerName: 'one',
          version: 'test',
          dataDir: dir,
          startedAt: new Date(0).toISOString(),
        }),
    },
  ]);
  const server = await startApiServer(
    { socketPath, ...options },
    { service, logger: createLogger({ level: 'error' }) },
  );
  cleanups.push(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { socketPath, server };
}

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function callInfo(socketPath: string): Promise<string> {
  const socket = await open(socketPath);
  socket.write(`${JSON.stringify({ v: 1, method: 'info', params: {} })}\n`);
  for await (const frame of readJsonLines(socket)) {
    if ('result' in frame) {
      socket.destroy();
      return (frame['result'] as { peerId: string }).peerId;
    }
  }
  throw new Error('no result');
}

describe('control API server (real unix socket)', () => {
  it('refuses an endless frame with MESSAGE_TOO_LARGE as soon as the cap is passed, and goes on serving', async () => {
    const { socketPath } = await serve({ maxFrameBytes: 1024 * 1024 });
    const flooder = await open(socketPath);
    const answer = (async () => {
      for await (const frame of readJsonLines(flooder)) return frame;
      return undefined;
    })();
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    flooder.write('{"v":1,"method":"info","params":{"x":"');
    // Far more than the cap, never a newline: the server must not buffer it all.
    let sent = 0;
    while (sent < 64 * 1024 * 1024 && !flooder.destroyed) {
      const ok = flooder.write(chunk);
      sent += chunk.length;
      if (!ok) {
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => flooder.once('drain', () => resolve(true))),
          new Promise<boolean>((resolve) => flooder.once('close', () => resolve(false))),
          answer.then(() => false),
        ]);
        if (!drained) break;
      }
    }
    const frame = await answer;
    expect(frame).toMatchObject({ error: { code: 'MESSAGE_TOO_LARGE' } });
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    flooder.destroy();
    expect(await callInfo(socketPath)).toBe('p1');
  });

  it('closes a connection that never completes its request frame', async () => {
    const { socketPath } = await serve({ requestTimeoutMs: 200 });
    const idle = await open(socketPath);
    idle.write('{"v":1,');
    await new Promise<void>((resolve) => idle.once('close', () => resolve()));
    expect(idle.destroyed).toBe(true);
    expect(await callInfo(socketPath)).toBe('p1');
  });

  it('keeps a call that streams after its request open past the request timeout', async () => {
    const { socketPath } = await serve({ requestTimeoutMs: 100 });
    const client = createMonkClient({ transport: createUnixSocketTransport({ path: socketPath }) });
    await new Promise<void>((resolve) => setTimeout(resolve, 150).unref());
    await expect(client.info()).resolves.toMatchObject({ peerId: 'p1' });
  });

  it('answers while 4,000 connections hold half a frame each', async () => {
    const { socketPath } = await serve();
    const held: Socket[] = [];
    cleanups.push(() => {
      for (const socket of held) socket.destroy();
      return Promise.resolve();
    });
    for (let i = 0; i < 4000; i += 1) {
      const socket = await open(socketPath);
      socket.on('error', () => undefined);
      socket.write('{"v":1,"method":"in');
      held.push(socket);
    }
    expect(await callInfo(socketPath)).toBe('p1');
    expect(held.filter((s) => !s.destroyed)).toHaveLength(4000);
  });
});
