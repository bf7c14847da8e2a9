import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, repoRoot, startMonkd, type MonkdProcess } from '../harness.ts';

const run = promisify(execFile);
const monkBin = join(repoRoot, 'bin/monk');

interface StatsRow {
  workloadId: string;
  peer: string;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
}

/** bin/monk left running (stats -f, port-forward): its output so far, and a way to stop it with Ctrl-C. */
interface LiveMonk extends AsyncDisposable {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Sends SIGINT (Ctrl-C) and resolves with the exit code. */
  interrupt(): Promise<number | null>;
}

function startLive(monkd: MonkdProcess, args: readonly string[]): LiveMonk {
  const child: ChildProcessWithoutNullStreams = spawn(monkBin, [...args], {
    env: { ...process.env, MONK_SOCKET: monkd.socket, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const interrupt = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    return exited;
  };
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    interrupt,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

const example = join(repoRoot, 'examples/app.yaml');

describe('monk stats, port-forward, import, completion and do, built bin/monk + bin/monkd (needs Docker)', () => {
  let monkd: MonkdProcess;
  let scratch: string;

  beforeAll(async () => {
    monkd = await startMonkd();
    scratch = await mkdtemp(join(tmpdir(), 'monk-e2e-cli-'));
    expect((await monkd.monk(['load', example])).code).toBe(0);
    const started = await monkd.monk(['run', 'examples/web']);
    expect(started.code, started.stderr).toBe(0);
  });
  afterAll(async () => {
    await monkd?.[Symbol.asyncDispose]();
    await rm(scratch, { recursive: true, force: true });
  });

  it('monk stats reads CPU, memory and network of each instance from the engine of its peer', async () => {
    const peerId = await monkd.peerId();
    const result = await monkd.monkJson<{ instances: StatsRow[]; unreachable: unknown[] }>([
      'stats',
      'examples/web',
      '--interval',
      '300',
    ]);
    expect(result.unreachable).toEqual([]);
    expect(result.instances.map((row) => [row.workloadId, row.peer])).toEqual([['examples/web#web', peerId]]);
    const [row] = result.instances;
    expect(row?.memoryBytes).toBeGreaterThan(0);
    expect(row?.memoryLimitBytes).toBeGreaterThanOrEqual(row?.memoryBytes ?? 0);
    expect(row?.cpuPercent).toBeGreaterThanOrEqual(0);

    const table = await monkd.monk(['stats', '-i', '300']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^INSTANCE\s+PEER\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET RX \/ TX\n/);
    expect(table.stdout).toMatch(/examples\/web#web .* \d+\.\d\d% .*iB \/ .*iB/);

    const missing = await monkd.monk(['stats', 'examples/nothing']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('Error [RUNNABLE_NOT_FOUND]: no running instance at examples/nothing');
  });

  it('monk stats -f refreshes until Ctrl-C, one JSON line per refresh with --json', async () => {
    await using live = startLive(monkd, ['stats', '-f', '--json', '-i', '300', 'examples/web']);
    const lines = await eventually(
      async () => {
        const complete = live.stdout().split('\n').slice(0, -1);
        return complete.length >= 2 ? complete : undefined;
      },
      { what: 'two refreshes of monk stats -f', timeoutMs: 30_000 },
    );
    for (const line of lines.slice(0, 2)) {
      const snapshot = JSON.parse(line) as { instances: StatsRow[] };
      expect(snapshot.instances.map((row) => row.workloadId)).toEqual(['examples/web#web']);
    }
    expect(await live.interrupt()).toBe(0);
  });

  it('monk port-forward carries real HTTP requests from this host to the container', async () => {
    await using live = startLive(monkd, ['port-forward', 'examples/web', '0:8080']);
    const port = await eventually(
      async () => /Forwarding 127\.0\.0\.1:(\d+) -> examples\/web#web port 8080/.exec(live.stdout())?.[1],
      { what: `port-forward to listen (stderr: ${live.stderr()})`, timeoutMs: 30_000 },
    );
    const bodies = await Promise.all(
      [1, 2, 3].map(async () => (await fetch(`http://127.0.0.1:${port}/`)).text()),
    );
    expect(bodies.map((body) => body.trim())).toEqual([
      'hello from monk',
      'hello from monk',
      'hello from monk',
    ]);
    // Nothing listens on port 81: that connection fails, the forward goes on.
    await using refused = startLive(monkd, ['port-forward', 'examples/web', '0:81']);
    const refusedPort = await eventually(
      async () => /Forwarding 127\.0\.0\.1:(\d+)/.exec(refused.stdout())?.[1],
      { what: 'the second port-forward to listen', timeoutMs: 30_000 },
    );
    await expect(fetch(`http://127.0.0.1:${refusedPort}/`)).rejects.toThrow();
    await eventually(async () => (refused.stderr().includes('ECONNREFUSED') ? true : undefined), {
      what: 'the refused connection to be reported',
    });
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect(await live.interrupt()).toBe(0);
    expect(await refused.interrupt()).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();

    const nowhere = await monkd.monk(['port-forward', 'examples/nothing', '8080:80']);
    expect(nowhere.code).toBe(4);
    const badPorts = await monkd.monk(['port-forward', 'examples/web', '8080:0']);
    expect(badPorts.code).toBe(2);
    expect(badPorts.stderr).toContain('8080:0: expected LOCAL:REMOTE ports');
  });

  it('monk import writes MonkScript that loads and resolves to the same containers as the Compose file', async () => {
    const project = join(scratch, 'importdemo');
    await mkdir(project);
    const compose = join(project, 'compose.yaml');
    await writeFile(
      compose,
      `services:
  web:
    image: monk-local/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo $$GREETING > /www/index.html && exec httpd -f -p 8080 -h /www"]
    environment:
      GREETING: \${GREETING:-imported}
      ENABLED: "no"
    depends_on: [cache]
  cache:
    image: monk-local/busybox:latest
    command: sleep 3600
    restart: "no"
`,
    );
    const loaded = await monkd.monk(['load', compose]);
    expect(loaded.code, loaded.stderr).toBe(0);
    const started = await monkd.monk(['run', 'importdemo/importdemo']);
    expect(started.code, started.stderr).toBe(0);
    const dumps = async (): Promise<unknown[]> =>
      Promise.all(
        ['importdemo/web', 'importdemo/cache', 'importdemo/importdemo'].map((path) =>
          monkd.monkJson(['dump', path]),
        ),
      );
    const fromCompose = await dumps();

    const output = join(scratch, 'importdemo.yaml');
    const imported = await monkd.monk(['import', compose, '-o', output]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(`Wrote namespace importdemo to ${output}`);
    const again = await monkd.monk(['import', compose, '-o', output]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists; give --force to overwrite it');

    const reloaded = await monkd.monk(['load', output]);
    expect(reloaded.code, reloaded.stderr).toBe(0);
    expect(await dumps()).toEqual(fromCompose);
    const plan = await monkd.monkJson<{ changes: Array<{ kind: string }> }>([
      'plan',
      'importdemo/importdemo',
    ]);
    expect(plan.changes.map((change) => change.kind)).toEqual(['unchanged', 'unchanged']);

    const renamed = await monkd.monkJson<{ namespace: string; yaml: string }>([
      'import',
      compose,
      '--namespace',
      'other',
    ]);
    expect(renamed.namespace).toBe('other');
    expect(renamed.yaml).toContain('namespace: other');
    expect((await monkd.monk(['purge', 'importdemo/importdemo'])).code).toBe(0);
  });

  it('monk completion bash completes commands, flags and the template paths monkd holds, in a real bash', async () => {
    const script = join(scratch, 'monk.bash');
    const generated = await monkd.monk(['completion', 'bash']);
    expect(generated.code, generated.stderr).toBe(0);
    await writeFile(script, generated.stdout);
    const complete = async (words: readonly string[]): Promise<string> => {
      const quoted = words.map((word) => `'${word}'`).join(' ');
      const { stdout } = await run(
        'bash',
        [
          '-c',
          `source '${script}'; complete -p monk; COMP_WORDS=('${monkBin}' ${quoted}); COMP_CWORD=${words.length}; _monk; echo "\${COMPREPLY[*]}"`,
        ],
        { env: { ...process.env, MONK_SOCKET: monkd.socket } },
      );
      return stdout;
    };
    expect(await complete(['po'])).toBe('complete -o default -F _monk monk\nport-forward\n');
    expect((await complete(['stats', '--f'])).split('\n')[1]).toBe('--follow');
    expect((await complete(['logs', 'examples/w'])).split('\n')[1]).toBe('examples/web');
    expect((await complete(['port-forward', '-c', 'web', 'examples/c'])).split('\n')[1]).toBe(
      'examples/client',
    );
    const zsh = await monkd.monk(['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef monk\n/);
    expect((await monkd.monk(['completion', 'fish'])).code).toBe(2);
  });

  it('monk do returns what the action computes with its Arrow type, for plain and <- `…` code', async () => {
    const file = join(scratch, 'acts.yaml');
    await writeFile(
      file,
      `namespace: acts
calc:
  defines: runnable
  variables:
    base: {type: int, value: 40}
  containers:
    main:
      image: monk-local/busybox
      image-tag: latest
      bash: exec sleep 3600
  checks:
    readiness:
      code: <- \`exec("main", "echo", "\${base}") "40" contains?\`
      period: 1
      initialDelay: 0
  actions:
    sum:
      arguments:
        a: {type: int}
        b: {type: int}
      code: $args["a"] $args["b"] add
    computed:
      code: <- \`$base 2 add\`
    object:
      arguments:
        a: {type: int, default: 1}
      code: $args
    text:
      code: exec("main", "echo", "hi")
`,
    );
    expect((await monkd.monk(['load', file])).code).toBe(0);
    const started = await monkd.monk(['run', 'acts/calc']);
    expect(started.code, started.stderr).toBe(0);
    expect(await monkd.monkJson(['do', 'acts/calc/sum', 'a=2', 'b=3'])).toEqual({ value: 5 });
    expect(await monkd.monkJson(['do', 'acts/calc/computed'])).toEqual({ value: 42 });
    expect(await monkd.monkJson(['do', 'acts/calc/object'])).toEqual({ value: { a: 1 } });
    expect(await monkd.monkJson(['do', 'acts/calc/text'])).toEqual({ value: 'hi\n' });
    expect((await monkd.monk(['do', 'acts/calc/sum', 'a=2', 'b=3'])).stdout).toBe('5\n');
    expect((await monkd.monk(['do', 'acts/calc/text'])).stdout).toBe('hi\n');
    expect((await monkd.monk(['do', 'acts/calc/object'])).stdout).toBe('{\n  "a": 1\n}\n');
  });
});
