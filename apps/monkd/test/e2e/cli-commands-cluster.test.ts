import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerEntry, StatsResult } from '@monk/sdk';
import { eventually, monkAt, repoRoot, startMonkd, type CliResult, type MonkdProcess } from '../harness.ts';

const p2pArgs = (name: string): string[] => ['--name', name, '--p2p-host', '127.0.0.1', '--p2p-port', '0'];
const ok = (result: CliResult): CliResult => {
  expect(result.code, `${result.stderr}${result.stdout}`).toBe(0);
  return result;
};

/**
 * `monk port-forward` left running with this environment; resolves with the local port once it listens.
 * Disposing sends Ctrl-C and waits for the exit.
 */
async function portForward(
  env: NodeJS.ProcessEnv,
  args: readonly string[],
): Promise<{ port: string; stderr: () => string; exitCode: () => Promise<number | null> } & AsyncDisposable> {
  const child = spawn(join(repoRoot, 'bin/monk'), ['port-forward', ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    return exited;
  };
  try {
    const port = await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`port-forward exited: ${stderr}`);
        return /Forwarding 127\.0\.0\.1:(\d+) /.exec(stdout)?.[1];
      },
      { what: 'port-forward to listen', timeoutMs: 60_000 },
    );
    return {
      port,
      stderr: () => stderr,
      exitCode: stop,
      [Symbol.asyncDispose]: async () => void (await stop()),
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

describe('monk stats and port-forward across peers and from an operator machine (built binaries, needs Docker)', () => {
  let a: MonkdProcess;
  let b: MonkdProcess;
  let bId: string;
  let home: string;
  const operator = (args: readonly string[]): Promise<CliResult> => monkAt(args, { home });
  const operatorEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, MONK_HOME: home, NO_COLOR: '1' };
    delete env['MONK_SOCKET'];
    return env;
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startMonkd({ extraArgs: p2pArgs('fwd-a'), startTimeoutMs: 120_000 }),
      startMonkd({ extraArgs: p2pArgs('fwd-b'), startTimeoutMs: 120_000 }),
    ]);
    bId = await b.peerId();
    home = await mkdtemp(join(tmpdir(), 'monk-e2e-fwd-operator-'));
    ok(await a.monk(['cluster', 'new', '--name', 'fwd-e2e']));
    ok(await b.monk(['cluster', 'join', ok(await a.monk(['cluster', 'join-token'])).stdout.trim()]));
    await eventually(
      async () =>
        (await a.monkJson<PeerEntry[]>(['cluster', 'peers'])).filter((p) => p.state === 'alive').length === 2
          ? true
          : undefined,
      { what: 'both peers alive' },
    );
    ok(await a.monk(['load', join(repoRoot, 'examples/app.yaml')]));
    // Accepted by a, run by b: every call below about it has to cross the cluster.
    ok(await a.monk(['run', 'examples/web', '--peer', 'fwd-b']));
    const token = ok(await a.monk(['cluster', 'join-token', '--role', 'operator', '--access', 'deploy']));
    ok(await operator(['cluster', 'switch', token.stdout.trim()]));
  }, 600_000);
  afterAll(async () => {
    await Promise.all([a?.[Symbol.asyncDispose](), b?.[Symbol.asyncDispose]()]);
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  it('monk stats on one peer reads an instance that another peer runs', async () => {
    const fromA = await a.monkJson<StatsResult>(['stats', 'examples/web', '-i', '300']);
    expect(fromA.unreachable).toEqual([]);
    expect(fromA.instances.map((row) => [row.workloadId, row.peer])).toEqual([['examples/web#web', bId]]);
    expect(fromA.instances[0]?.memoryBytes).toBeGreaterThan(0);

    const fromOperator = JSON.parse(
      ok(await operator(['stats', '--json', '-i', '300'])).stdout,
    ) as StatsResult;
    expect(fromOperator.instances.map((row) => [row.workloadId, row.peer])).toEqual([
      ['examples/web#web', bId],
    ]);
  });

  it('monk port-forward on one peer reaches a container that another peer runs', async () => {
    await using forward = await portForward({ ...process.env, MONK_SOCKET: a.socket, NO_COLOR: '1' }, [
      'examples/web',
      '0:8080',
    ]);
    expect((await (await fetch(`http://127.0.0.1:${forward.port}/`)).text()).trim()).toBe('hello from monk');
    expect(await forward.exitCode()).toBe(0);
  });

  it('monk port-forward from an operator machine carries HTTP through libp2p to the container', async () => {
    await using forward = await portForward(operatorEnv(), ['examples/web', '0:8080']);
    // One after the other: each connection starts its own libp2p node on this machine.
    const bodies: string[] = [];
    for (const _attempt of [1, 2]) {
      const response = await fetch(`http://127.0.0.1:${forward.port}/`).catch((error: unknown) => {
        throw new Error(`${String(error)}; port-forward said: ${forward.stderr()}`);
      });
      bodies.push(await response.text());
    }
    expect(bodies.map((body) => body.trim())).toEqual(['hello from monk', 'hello from monk']);
    expect(await forward.exitCode()).toBe(0);
  });

  it('a view operator may read stats but not forward a port', async () => {
    const token = ok(await a.monk(['cluster', 'join-token', '--role', 'operator', '--access', 'view']));
    const viewerHome = await mkdtemp(join(tmpdir(), 'monk-e2e-fwd-viewer-'));
    try {
      ok(await monkAt(['cluster', 'switch', token.stdout.trim()], { home: viewerHome }));
      ok(await monkAt(['stats', '-i', '300'], { home: viewerHome }));
      const refused = await monkAt(['port-forward', 'examples/web', '0:8080'], { home: viewerHome });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('portForward needs deploy access');
    } finally {
      await rm(viewerHome, { recursive: true, force: true });
    }
  });
});
