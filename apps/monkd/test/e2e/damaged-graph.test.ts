import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createMonkClient, createUnixSocketTransport, type InfoResult, type PsEntry } from '@monk/sdk';
import { docker, eventually, peerContainers, repoRoot, startMonkd, type MonkdProcess } from '../harness.ts';

const run = promisify(execFile);
const example = join(repoRoot, 'examples/app.yaml');

/** Flips one byte of `<data-dir>/graph/graph.log` near its start; returns the damaged content. */
async function damageLog(dataDir: string, offset = 20): Promise<Buffer> {
  const path = join(dataDir, 'graph', 'graph.log');
  const content = await readFile(path);
  expect(content.length).toBeGreaterThan(offset);
  content[offset] = (content[offset] ?? 0) ^ 0x5a;
  await writeFile(path, content);
  return content;
}

/** Each running container of a peer with the time it last started: a container stopped and started again changes. */
async function running(peerId: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const container of await peerContainers(peerId)) {
    if (container.state !== 'running') continue;
    result.set(container.id, (await docker(['inspect', '-f', '{{.State.StartedAt}}', container.id])).trim());
  }
  return result;
}

describe('a lone peer with a damaged graph log (built bin/monkd, needs Docker)', () => {
  const cleanup: MonkdProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const monkd of cleanup) await monkd[Symbol.asyncDispose]();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start naming file and offset, stops nothing, and --recover-graph keeps a copy and spares the containers', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'monk-e2e-damaged-'));
    dirs.push(dataDir);
    const first = await startMonkd({ dataDir });
    const peerId = await first.peerId();
    expect((await first.monk(['load', example])).code).toBe(0);
    const started = await first.monk(['run', 'examples/web']);
    expect(started.code, started.stderr).toBe(0);
    await eventually(
      async () => ((await first.monkJson<PsEntry[]>(['ps'])).some((r) => r.ready) ? true : undefined),
      { what: 'examples/web ready' },
    );
    const before = await running(peerId);
    expect(before.size).toBeGreaterThan(0);
    await first.kill();
    const damaged = await damageLog(dataDir);

    // Started as a user would: it must exit, say what is damaged and where, and how to repair it.
    const refused = await run(join(repoRoot, 'bin/monkd'), ['--data-dir', dataDir], { timeout: 30_000 }).then(
      () => undefined,
      (error: { code?: number; stdout?: string; stderr?: string }) => error,
    );
    expect(refused?.code).toBe(1);
    const said = `${refused?.stdout ?? ''}${refused?.stderr ?? ''}`;
    expect(said).toContain('GRAPH_CORRUPT');
    expect(said).toContain(`graph log ${join(dataDir, 'graph', 'graph.log')} is damaged at byte`);
    expect(said).toMatch(/is damaged at byte \d+ \(record \d+\)/);
    expect(said).toContain(`monkd --data-dir ${dataDir} --recover-graph`);
    expect(await readFile(join(dataDir, 'graph', 'graph.log'))).toEqual(damaged);
    expect(await running(peerId)).toEqual(before);

    const recovered = await startMonkd({ dataDir, extraArgs: ['--recover-graph'] });
    cleanup.push(recovered);
    const info = await recovered.monkJson<InfoResult>(['info']);
    expect(info.problems).toEqual([expect.objectContaining({ code: 'GRAPH_CORRUPT' })]);
    expect(
      (await readdir(join(dataDir, 'graph'))).filter((f) => f.startsWith('graph.log.damaged-')),
    ).toHaveLength(1);
    // The reconciler is at work (it runs something new), and still leaves the containers it lost alone.
    const scratch = join(dataDir, 'extra.yaml');
    await writeFile(
      scratch,
      'namespace: extra\nidle:\n  defines: runnable\n  containers:\n    idle:\n      image: monk-local/busybox:latest\n      entrypoint: sleep 3600\n',
    );
    expect((await recovered.monk(['load', scratch])).code).toBe(0);
    expect((await recovered.monk(['run', 'extra/idle'])).code).toBe(0);
    await eventually(
      async () =>
        (await recovered.monkJson<PsEntry[]>(['ps'])).some(
          (r) => r.workloadId === 'extra/idle#idle' && r.ready,
        )
          ? true
          : undefined,
      { what: 'extra/idle ready' },
    );
    const after = await running(peerId);
    for (const [id, startedAt] of before) expect(after.get(id), `container ${id}`).toBe(startedAt);
    expect(await recovered.log()).toMatch(
      /left \d+ container\(s\) running that the recovered graph does not know/,
    );
  });
});

describe('a cluster peer with a damaged graph log (built bin/monkd, needs Docker, loopback TCP)', () => {
  const cleanup: MonkdProcess[] = [];
  afterAll(async () => {
    for (const monkd of cleanup) await monkd[Symbol.asyncDispose]();
  });

  it('recovers its graph from the other peer, says so, and never stops its containers', async () => {
    const args = ['--p2p-host', '127.0.0.1', '--p2p-port', '0'];
    const a = await startMonkd({ extraArgs: ['--name', 'a', ...args] });
    const b = await startMonkd({ extraArgs: ['--name', 'b', ...args] });
    cleanup.push(a, b);
    const client = (m: MonkdProcess) =>
      createMonkClient({ transport: createUnixSocketTransport({ path: m.socket }) });
    await client(a).call('cluster.new', { name: 'damaged' });
    const { token } = (await client(a).call('cluster.joinToken', { ttlSeconds: 600, role: 'peer' })) as {
      token: string;
    };
    await client(b).call('cluster.join', { token });
    expect((await a.monk(['load', example])).code).toBe(0);
    // a is down a while (killed, its log damaged, restarted): long enough to be seen dead. `recovery.after`
    // keeps the instance on a meanwhile, so what is checked is the recovery, not a move (repair.test.ts).
    const kept = join(a.dataDir, 'kept.yaml');
    await writeFile(
      kept,
      'namespace: kept\nweb:\n  defines: runnable\n  inherits: examples/web\n  recovery: {after: 10m}\n',
    );
    expect((await a.monk(['load', kept])).code).toBe(0);
    expect((await a.monk(['run', 'kept/web'])).code).toBe(0);
    const aId = await a.peerId();
    for (const peer of [a, b]) {
      await eventually(
        async () =>
          (await peer.monkJson<PsEntry[]>(['ps'])).some((r) => r.ready && r.peer === aId) ? true : undefined,
        { what: 'kept/web ready on a, as both peers see it' },
      );
    }
    const before = await running(aId);
    expect(before.size).toBe(1);

    await a.kill();
    await damageLog(a.dataDir);
    await a.restart();
    await eventually(
      async () => ((await a.monkJson<InfoResult>(['info'])).problems.length === 0 ? true : undefined),
      { what: 'a to recover its graph from b', timeoutMs: 30_000 },
    );
    const log = await a.log();
    expect(log).toContain('the graph on disk is damaged');
    expect(log).toContain('graph recovered from a cluster peer');
    const rows = await a.monkJson<PsEntry[]>(['ps']);
    expect(rows).toEqual([expect.objectContaining({ workloadId: 'kept/web#web', peer: aId })]);
    await eventually(
      async () => ((await a.monkJson<PsEntry[]>(['ps']))[0]?.ready === true ? true : undefined),
      { what: 'kept/web ready again on a' },
    );
    expect(await running(aId)).toEqual(before);
    expect(
      (await readdir(join(a.dataDir, 'graph'))).filter((f) => f.startsWith('graph.log.damaged-')),
    ).toHaveLength(1);
  });
});
