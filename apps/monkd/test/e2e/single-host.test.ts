import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, eventually, peerContainers, repoRoot, startMonkd, type MonkdProcess } from '../harness.ts';

interface PsRow {
  workloadId: string;
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  containerId?: string;
  message?: string;
  errorCode?: string;
}

const example = join(repoRoot, 'examples/app.yaml');

describe('monk on one host, built bin/monk + bin/monkd (needs Docker)', () => {
  let monkd: MonkdProcess;
  let scratch: string;

  beforeAll(async () => {
    monkd = await startMonkd();
    scratch = await mkdtemp(join(tmpdir(), 'monk-e2e-templates-'));
  });
  afterAll(async () => {
    await monkd?.[Symbol.asyncDispose]();
    await rm(scratch, { recursive: true, force: true });
  });

  const ps = (all = false): Promise<PsRow[]> => monkd.monkJson<PsRow[]>(all ? ['ps', '-a'] : ['ps']);
  const readyIds = async (): Promise<Map<string, string>> =>
    new Map((await ps()).filter((r) => r.ready).map((r) => [r.workloadId, r.containerId ?? '']));

  it('loads and runs the example app; the client reaches the web server through its connection', async () => {
    const load = await monkd.monk(['load', example]);
    expect(load.stderr + load.stdout).toContain('examples/web');
    expect(load.code).toBe(0);

    const run = await monkd.monk(['run', 'examples/app']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('examples/web#web');
    expect(run.stdout).toContain('examples/app is ready');

    const rows = await ps();
    expect(rows.map((r) => [r.workloadId, r.phase, r.ready])).toEqual([
      ['examples/client#client', 'ready', true],
      ['examples/web#web', 'ready', true],
    ]);

    const logs = await eventually(
      async () => {
        const result = await monkd.monk(['logs', 'examples/client']);
        return result.stdout.includes('hello from monk') ? result.stdout : undefined;
      },
      { what: 'the client to print the greeting it fetched from examples-web' },
    );
    expect(logs).toContain('hello from monk');

    const exec = await monkd.monk(['exec', 'examples/web', '--', 'cat', '/www/index.html']);
    expect(exec.stdout.trim()).toBe('hello from monk');
    expect(exec.code).toBe(0);
    const failing = await monkd.monk(['exec', 'examples/web', '--', 'sh', '-c', 'exit 7']);
    expect(failing.code).toBe(7);
  });

  it('plan shows what update would change, and changes nothing', async () => {
    const before = await readyIds();
    const unchanged = await monkd.monkJson<{
      changes: Array<{ kind: string; workloadId: string; reasons: string[] }>;
    }>(['plan', 'examples/app']);
    expect(unchanged.changes.map((c) => c.kind)).toEqual(['unchanged', 'unchanged']);

    const changed = await monkd.monk(['plan', 'examples/app', '--set', 'examples/web/greeting=bonjour']);
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('examples/web#web');
    expect(changed.stdout).toMatch(/environment\.GREETING/);
    expect(changed.stdout).not.toContain('bonjour');
    expect(await readyIds()).toEqual(before);
  });

  it('update replaces only the container whose spec changed', async () => {
    const before = await readyIds();
    const update = await monkd.monk(['update', 'examples/app', '--set', 'examples/web/greeting=bonjour']);
    expect(update.code, update.stderr).toBe(0);
    const after = await readyIds();
    expect(after.get('examples/client#client')).toBe(before.get('examples/client#client'));
    expect(after.get('examples/web#web')).not.toBe(before.get('examples/web#web'));
    const exec = await monkd.monk(['exec', 'examples/web', '--', 'cat', '/www/index.html']);
    expect(exec.stdout.trim()).toBe('bonjour');
  });

  it('a container removed by hand comes back', async () => {
    const before = await readyIds();
    const webId = before.get('examples/web#web') ?? '';
    await docker(['rm', '-f', webId]);
    const replaced = await eventually(
      async () => {
        const id = (await readyIds()).get('examples/web#web');
        return id !== undefined && id !== webId ? id : undefined;
      },
      { what: 'examples/web#web to be recreated' },
    );
    expect(replaced).not.toBe(webId);
  });

  it('a container stopped by hand is restarted, and the restart is counted', async () => {
    const clientId = (await readyIds()).get('examples/client#client') ?? '';
    await docker(['stop', '-t', '1', clientId]);
    const row = await eventually(
      async () =>
        (await ps()).find((r) => r.workloadId === 'examples/client#client' && r.ready && r.restarts >= 1),
      { what: 'examples/client#client to be restarted' },
    );
    expect(row.containerId).toBe(clientId);
  });

  it('after kill -9 and a restart, monkd adopts its containers without recreating them', async () => {
    const peer = await monkd.peerId();
    const before = await peerContainers(peer);
    const ids = await readyIds();
    await monkd.kill('SIGKILL');
    await monkd.restart();
    await eventually(async () => ((await readyIds()).size === 2 ? true : undefined), {
      what: 'both ready again',
    });
    expect(await readyIds()).toEqual(ids);
    expect((await peerContainers(peer)).map((c) => c.id).sort()).toEqual(before.map((c) => c.id).sort());
  });

  it('stop keeps the containers, run starts them again, purge removes them', async () => {
    const peer = await monkd.peerId();
    const stop = await monkd.monk(['stop', 'examples/app']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(await ps()).toEqual([]);
    expect((await ps(true)).map((r) => r.phase)).toEqual(['stopped', 'stopped']);
    expect((await peerContainers(peer)).map((c) => c.state)).toEqual(['exited', 'exited']);

    const run = await monkd.monk(['run', 'examples/app']);
    expect(run.code, run.stderr).toBe(0);

    const purge = await monkd.monk(['purge', 'examples/app']);
    expect(purge.code, purge.stderr).toBe(0);
    expect(await peerContainers(peer)).toEqual([]);
    const list = await monkd.monkJson<Array<{ path: string }>>(['list']);
    expect(list.map((t) => t.path)).toContain('examples/app');

    const excise = await monkd.monk(['purge', '--excise', 'examples/app']);
    expect(excise.code, excise.stderr).toBe(0);
    const after = await monkd.monkJson<Array<{ path: string }>>(['list']);
    expect(after.map((t) => t.path)).not.toContain('examples/app');
  });

  it('a broken template is refused with file, line, column and key path, and nothing is stored', async () => {
    const file = join(scratch, 'broken.yaml');
    await writeFile(
      file,
      [
        'namespace: broken',
        'web:',
        '  defines: runnable',
        '  containers:',
        '    web:',
        '      image: [unclosed',
        '',
      ].join('\n'),
    );
    const load = await monkd.monk(['load', file]);
    expect(load.code).toBe(2);
    expect(load.stderr).toMatch(/broken\.yaml:\d+:\d+/);
    const list = await monkd.monkJson<Array<{ path: string }>>(['list']);
    expect(list.map((t) => t.path).filter((p) => p.startsWith('broken/'))).toEqual([]);
  });

  it('a missing image fails that instance with the engine message, visible in ps and describe; others run on', async () => {
    const file = join(scratch, 'missing.yaml');
    await writeFile(
      file,
      [
        'namespace: missing',
        'ghost:',
        '  defines: runnable',
        '  containers:',
        '    ghost:',
        '      image: monk-local/does-not-exist',
        '      image-tag: "1.0"',
        'fine:',
        '  defines: runnable',
        '  containers:',
        '    fine:',
        '      image: monk-local/busybox',
        '      image-tag: latest',
        '      bash: exec sleep 3600',
        '',
      ].join('\n'),
    );
    expect((await monkd.monk(['load', file])).code).toBe(0);
    expect((await monkd.monk(['run', 'missing/fine'])).code).toBe(0);

    const run = await monkd.monk(['run', 'missing/ghost', '--timeout', '60']);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('DEPLOY_FAILED');
    expect(run.stderr).toMatch(/does-not-exist/);

    const rows = await ps();
    const ghost = rows.find((r) => r.workloadId === 'missing/ghost#ghost');
    expect(ghost?.phase).toBe('failed');
    expect(ghost?.errorCode).toBe('IMAGE_NOT_FOUND');
    expect(ghost?.message).toMatch(/does-not-exist/);
    expect(rows.find((r) => r.workloadId === 'missing/fine#fine')?.ready).toBe(true);

    const describe = await monkd.monk(['describe', 'missing/ghost']);
    expect(describe.stdout).toContain('IMAGE_NOT_FOUND');
    await monkd.monk(['purge', 'missing/ghost']);
    await monkd.monk(['purge', 'missing/fine']);
  });

  it('commands fail with stable codes and exit codes when asked for what does not exist', async () => {
    const result = await monkd.monk(['describe', 'nope/nothing', '--json']);
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'RUNNABLE_NOT_FOUND' } });
  });
});

describe('monkd when the Docker engine goes away (needs Docker)', () => {
  it('keeps running, reports the runtime unavailable, and recovers when the engine returns', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'monk-e2e-engine-'));
    const proxyPath = join(dir, 'docker.sock');
    // A stand-in for the engine's socket: closing it is, to monkd, the engine going away.
    const sockets = new Set<Socket>();
    const startProxy = (): Promise<Server> =>
      new Promise((resolve) => {
        const server = createServer((client) => {
          const upstream = connect('/var/run/docker.sock');
          sockets.add(client);
          sockets.add(upstream);
          client.pipe(upstream).pipe(client);
          client.on('error', () => upstream.destroy());
          upstream.on('error', () => client.destroy());
          client.on('close', () => upstream.destroy());
        });
        server.listen(proxyPath, () => resolve(server));
      });
    const stopProxy = async (server: Server): Promise<void> => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise((r) => server.close(r));
    };

    let proxy = await startProxy();
    await using monkd = await startMonkd({ dockerSocket: proxyPath });
    try {
      expect((await monkd.monk(['load', example])).code).toBe(0);
      expect((await monkd.monk(['run', 'examples/web'])).code).toBe(0);

      await stopProxy(proxy);
      const down = await eventually(
        async () => {
          const info = await monkd.monkJson<{ runtime: { available: boolean; message?: string } }>(['info']);
          return info.runtime.available ? undefined : info;
        },
        { what: 'monkd to notice the engine is gone' },
      );
      expect(down.runtime.message).toBeDefined();
      const rows = await monkd.monkJson<PsRow[]>(['ps']);
      expect(rows[0]).toMatchObject({
        errorCode: 'RUNTIME_UNAVAILABLE',
        state: 'unknown',
        reason: 'runtime unavailable',
        ready: false,
      });
      const table = await monkd.monk(['ps']);
      expect(table.stdout).toContain('unknown: runtime unavailable');
      expect(table.stdout).not.toContain('running, ready');

      proxy = await startProxy();
      await eventually(
        async () => {
          const info = await monkd.monkJson<{ runtime: { available: boolean } }>(['info']);
          const ps = await monkd.monkJson<PsRow[]>(['ps']);
          return info.runtime.available && ps[0]?.ready === true && ps[0].errorCode === undefined
            ? true
            : undefined;
        },
        { what: 'monkd to recover when the engine is back' },
      );
      await monkd.monk(['purge', 'examples/web']);
    } finally {
      await stopProxy(proxy);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
