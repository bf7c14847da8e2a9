import { chmod, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import { createMonkClient, createUnixSocketTransport, type MonkClient } from '@monk/sdk';
import { repoRoot, startMonkd, type MonkdProcess } from '../harness.ts';

const example = join(repoRoot, 'examples/app.yaml');

/** Runs bin/monkd until it exits (it is expected to refuse to start); gives its exit code and output. */
async function monkdUntilExit(dataDir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(repoRoot, 'bin/monkd'), ['--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

describe('hostile and clumsy input at the edges of monk (needs Docker)', () => {
  let monkd: MonkdProcess;
  let client: MonkClient;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'monk-e2e-edge-'));
    const dataDir = join(scratch, 'data');
    await mkdir(dataDir);
    await chmod(dataDir, 0o755);
    monkd = await startMonkd({ dataDir });
    client = createMonkClient({ transport: createUnixSocketTransport({ path: monkd.socket }) });
  });
  afterAll(async () => {
    await monkd?.[Symbol.asyncDispose]();
    await rm(scratch, { recursive: true, force: true });
  });

  it('tightens a 0755 data dir to 0700 on start, and says so in the log', async () => {
    expect((await stat(monkd.dataDir)).mode & 0o777).toBe(0o700);
    expect(await monkd.log()).toContain(`tightened the data dir ${monkd.dataDir} from mode 0755 to 0700`);
  });

  it('refuses a raw templates.put with the path ../../etc, naming it, and stores nothing', async () => {
    const record = {
      path: '../../etc',
      namespace: '..',
      name: '../etc',
      kind: 'runnable',
      file: 'x.yaml',
      definition: { defines: 'runnable' },
      locations: {},
    };
    const error: unknown = await client.putTemplates({ templates: [record] }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(MonkError);
    expect((error as MonkError).code).toBe('INVALID_REQUEST');
    expect((error as MonkError).message).toContain('template #1 has the path "../../etc"');
    expect((await client.listTemplates()).map((t) => t.path)).not.toContain('../../etc');
  });

  it('refuses a 50 MB template file by its size, at once, with the limit in the message', async () => {
    const file = join(scratch, 'huge.yaml');
    await writeFile(file, 'namespace: huge\n');
    await truncate(file, 50 * 1000 * 1000);
    const started = Date.now();
    const load = await monkd.monk(['load', file]);
    expect(load.code).toBe(2);
    expect(load.stderr).toContain(
      `Error [TEMPLATE_TOO_LARGE]: ${file} is 47.7 MiB; monk reads template files of at most 4 MiB`,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('warns about --set of an undeclared variable, and --strict refuses it', async () => {
    expect((await monkd.monk(['load', example])).code).toBe(0);
    const strict = await monkd.monk(['run', 'examples/web', '--set', 'nosuchvar=1', '--strict', '--no-wait']);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(
      'Error [VARIABLE_UNKNOWN]: --set nosuchvar: examples/web declares no variable "nosuchvar" (its variables: greeting)',
    );
    expect(await client.ps({ all: true })).toEqual([]);

    const run = await monkd.monk(['run', 'examples/web', '--set', 'nosuchvar=1', '--no-wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      'warning: --set nosuchvar: examples/web declares no variable "nosuchvar" (its variables: greeting)',
    );
    expect((await monkd.monk(['purge', 'examples/web'])).code).toBe(0);
  });
});

describe('monkd with a damaged peer.json', () => {
  it('refuses to start with DATA_FILE_INVALID, naming the file and how to repair it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'monk-e2e-peerjson-'));
    try {
      await writeFile(join(dataDir, 'peer.json'), '{"name": "p1"'.slice(0, 9));
      const { code, output } = await monkdUntilExit(dataDir);
      expect(code).toBe(1);
      const line = output.split('\n').find((l) => l.includes('could not start'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 'error', code: 'DATA_FILE_INVALID' });
      expect(line).toContain(`${join(dataDir, 'peer.json')} is not valid JSON`);
      expect(line).toContain('write it as {\\"name\\": \\"PEER-NAME\\"}');
      expect(await readFile(join(dataDir, 'peer.json'), 'utf8')).toBe('{"name": ');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
