import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDockerImageStore } from './docker-image-store.ts';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

const progress =
  (lines: readonly object[]): Route =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(lines.map((line) => `${JSON.stringify(line)}\r\n`).join(''));
  };

/** Pulls against a fake engine on a unix socket: what a registry's answers become. */
describe('docker image store pulls (fake engine)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const fakeEngine = async (routes: Record<string, Route>, seen: string[] = []) => {
    const dir = await mkdtemp(join(tmpdir(), 'monk-fake-docker-'));
    const socketPath = join(dir, 'docker.sock');
    const server: Server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${String(req.headers['x-registry-auth'] ?? '')}`);
      const route = routes[`${req.method} ${(req.url ?? '').split('?')[0]}`];
      if (route === undefined) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `unexpected ${req.method} ${req.url}` }));
      } else route(req, res);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });
    return createDockerImageStore({ socketPath });
  };

  it('fails with REGISTRY_UNAVAILABLE when no registry answers within the time', async () => {
    // The engine accepts the pull and then waits on a registry that never answers.
    const store = await fakeEngine({ 'POST /images/create': () => undefined });
    const started = Date.now();
    await expect(store.pullImage('registry.example.com/app:1', { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      message: 'cannot pull image registry.example.com/app:1: no registry answered within 200 ms',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each([
    [
      'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
      'REGISTRY_UNAVAILABLE',
    ],
    ['pull access denied for monk-local/app, repository does not exist', 'IMAGE_NOT_FOUND'],
    ['manifest for registry.example.com/app:1 not found: manifest unknown', 'IMAGE_NOT_FOUND'],
  ])('reads the engine’s %j as %s', async (message, expected) => {
    const store = await fakeEngine({
      'POST /images/create': (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message }));
      },
    });
    await expect(store.pullImage('monk-local/app:1', { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: expected,
    });
  });

  it('reads an error in the progress stream, and sends the credentials as X-Registry-Auth', async () => {
    const seen: string[] = [];
    const store = await fakeEngine(
      {
        'POST /images/create': progress([
          { status: 'Pulling from team/app' },
          { errorDetail: { message: 'unauthorized' }, error: 'unauthorized: authentication required' },
        ]),
      },
      seen,
    );
    await expect(
      store.pullImage('registry.example.com/team/app:1', {
        timeoutMs: 5_000,
        auth: { username: 'ci', password: 'hunter2', serverAddress: 'registry.example.com' },
      }),
    ).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    const [request] = seen;
    expect(request).toContain('fromImage=registry.example.com%2Fteam%2Fapp');
    expect(request).toContain('tag=1');
    expect(request).not.toContain('hunter2');
    const header = request?.split(' ')[2] ?? '';
    expect(JSON.parse(Buffer.from(header, 'base64').toString('utf8'))).toEqual({
      username: 'ci',
      password: 'hunter2',
      serveraddress: 'registry.example.com',
    });
  });

  it('returns the pulled image', async () => {
    const store = await fakeEngine({
      'POST /images/create': progress([{ status: 'Downloaded newer image for app:1' }]),
      'GET /images/app:1/json': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ Id: `sha256:${'c'.repeat(64)}`, RepoTags: ['app:1'], Size: 42 }));
      },
    });
    expect(await store.pullImage('app:1', { timeoutMs: 5_000 })).toEqual({
      id: `sha256:${'c'.repeat(64)}`,
      repoTags: ['app:1'],
      sizeBytes: 42,
    });
  });
});
