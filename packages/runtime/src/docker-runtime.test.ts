import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerSpec } from '@monk/model';
import { MonkError } from '@monk/model';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuntimeEvent } from './container-runtime.ts';
import { createDockerRuntime } from './docker-runtime.ts';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

const spec: ContainerSpec = {
  image: 'monk-local/busybox:latest',
  environment: {},
  ports: [],
  mounts: [],
  files: [],
  labels: {},
};
const code = (value: string) => (error: unknown) => error instanceof MonkError && error.code === value;
const reply =
  (status: number, body: unknown): Route =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
const frame = (type: number, text: string): Buffer => {
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
};

/** A fake Docker engine on a unix socket: answers by `METHOD path` (without the query string). */
describe('docker runtime against a fake engine', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const fakeEngine = async (routes: Record<string, Route>) => {
    const dir = await mkdtemp(join(tmpdir(), 'monk-fake-docker-'));
    const socketPath = join(dir, 'docker.sock');
    const server: Server = createServer((req, res) => {
      const route = routes[`${req.method} ${(req.url ?? '').split('?')[0]}`];
      if (route === undefined) reply(500, { message: `unexpected ${req.method} ${req.url}` })(req, res);
      else route(req, res);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });
    return createDockerRuntime({ socketPath });
  };

  it('translates the engine errors once', async () => {
    const runtime = await fakeEngine({
      'GET /containers/gone/json': reply(404, { message: 'No such container: gone' }),
      'POST /containers/create': reply(404, { message: 'No such image: monk-local/busybox:latest' }),
      'POST /containers/stopped/exec': reply(409, { message: 'Container stopped is not running' }),
      'POST /containers/up/stop': (_req, res) => res.writeHead(304).end(),
      'POST /containers/up/start': (_req, res) => res.writeHead(304).end(),
      'GET /version': reply(500, { message: 'engine is confused' }),
    });
    await expect(runtime.inspectContainer('gone')).rejects.toSatisfy(code('CONTAINER_NOT_FOUND'));
    const create = runtime.createContainer({ name: 'x', spec, labels: {} });
    await expect(create).rejects.toSatisfy(code('IMAGE_NOT_FOUND'));
    await expect(create).rejects.toThrow(
      'cannot create container x: No such image: monk-local/busybox:latest',
    );
    await expect(runtime.exec('stopped', { command: ['true'] })).rejects.toSatisfy(code('NOT_RUNNING'));
    await runtime.stopContainer('up');
    await runtime.startContainer('up');
    const version = runtime.info();
    await expect(version).rejects.toSatisfy(code('RUNTIME_ERROR'));
    await expect(version).rejects.toMatchObject({ details: { statusCode: 500 } });
  });

  it('creates containers with an init process unless the spec turns it off, and anonymous volumes', async () => {
    const bodies: Array<{ HostConfig: { Init: boolean; Mounts: unknown[] } }> = [];
    const inspected = {
      Id: 'abc',
      Name: '/x',
      Created: '2025-01-01T00:00:00Z',
      Config: { Image: spec.image, Labels: {} },
      State: { Status: 'created', ExitCode: 0, StartedAt: '', FinishedAt: '', Error: '' },
      NetworkSettings: { Networks: {} },
    };
    const runtime = await fakeEngine({
      'POST /containers/create': (req, res) => {
        let text = '';
        req.on('data', (chunk: Buffer) => (text += chunk.toString()));
        req.on('end', () => {
          bodies.push(JSON.parse(text) as (typeof bodies)[number]);
          reply(201, { Id: 'abc', Warnings: [] })(req, res);
        });
      },
      'GET /containers/abc/json': reply(200, inspected),
    });
    await runtime.createContainer({ name: 'x', spec, labels: {} });
    await runtime.createContainer({
      name: 'x',
      spec: {
        ...spec,
        init: false,
        mounts: [{ kind: 'volume', source: '', target: '/data', readOnly: false }],
      },
      labels: {},
    });
    expect(bodies.map((body) => body.HostConfig.Init)).toEqual([true, false]);
    expect(bodies[1]?.HostConfig.Mounts).toEqual([
      { Type: 'volume', Source: '', Target: '/data', ReadOnly: false },
    ]);
  });

  it('parses events and fails with RUNTIME_UNAVAILABLE when the engine closes the stream', async () => {
    const runtime = await fakeEngine({
      'GET /events': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const event = {
          Type: 'container',
          Action: 'die',
          Actor: {
            ID: 'abc',
            Attributes: { exitCode: '3', image: 'busybox', name: 'web', 'monk.workload': 'w' },
          },
          time: 1_900_000_000,
          timeNano: 1_900_000_000_123_000_000,
        };
        res.write(`${JSON.stringify({ ...event, Action: 'exec_start: sh' })}\n${JSON.stringify(event)}\n`);
        res.end();
      },
    });
    const controller = new AbortController();
    const seen: RuntimeEvent[] = [];
    const consume = async () => {
      for await (const event of runtime.events({ signal: controller.signal })) seen.push(event);
    };
    await expect(consume()).rejects.toSatisfy(code('RUNTIME_UNAVAILABLE'));
    expect(seen).toEqual([
      {
        type: 'die',
        containerId: 'abc',
        labels: { 'monk.workload': 'w' },
        exitCode: 3,
        time: '2030-03-17T17:46:40.123Z',
      },
    ]);
  });

  it('demultiplexes logs and reads their timestamps', async () => {
    const runtime = await fakeEngine({
      'GET /containers/web/logs': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
        res.end(
          Buffer.concat([
            frame(1, '2030-01-01T00:00:00.123456789Z hello\n'),
            frame(2, '2030-01-01T00:00:01.5Z oops\n2030-01-01T00:00:02Z '),
            frame(2, 'again\n'),
          ]),
        );
      },
    });
    const entries = [];
    for await (const entry of runtime.logs('web', { timestamps: true })) entries.push(entry);
    expect(entries).toEqual([
      { stream: 'stdout', line: 'hello', time: '2030-01-01T00:00:00.123Z' },
      { stream: 'stderr', line: 'oops', time: '2030-01-01T00:00:01.500Z' },
      { stream: 'stderr', line: 'again', time: '2030-01-01T00:00:02.000Z' },
    ]);
  });
});
