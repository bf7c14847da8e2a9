import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, eventually, repoRoot, startMonkd, type MonkdProcess } from '../harness.ts';

interface PsRow {
  workloadId: string;
  phase: string;
  ready: boolean;
  containerId?: string;
}

const notes = join(repoRoot, 'examples/notes/notes.yaml');
const password = 'pa55-w0rd-e2e-7f3c';
const rotated = 'r0tated-e2e-91ab';

/** Every file under a folder (the daemon's data dir), except the secrets key itself. */
async function dataFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name !== 'secrets.key' && !entry.name.endsWith('.sock'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('MonkScript in full: secrets, actions, hooks, files, Compose (needs Docker)', () => {
  let monkd: MonkdProcess;
  let scratch: string;

  beforeAll(async () => {
    monkd = await startMonkd();
    scratch = await mkdtemp(join(tmpdir(), 'monk-e2e-monkscript-'));
  });
  afterAll(async () => {
    await monkd?.[Symbol.asyncDispose]();
    await rm(scratch, { recursive: true, force: true });
  });

  const ps = (): Promise<PsRow[]> => monkd.monkJson<PsRow[]>(['ps']);
  const inStore = async (script: string): Promise<string> => {
    const result = await monkd.monk(['exec', 'notes/store', '--', 'sh', '-c', script]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };

  it('stores a secret from stdin and lists it without its value (needs Docker)', async () => {
    const add = await monkd.monk(['secrets', 'add', 'notes-admin', '-'], { input: `${password}\n` });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toBe('Stored secret notes-admin (global)\n');
    const list = await monkd.monk(['secrets', 'list']);
    expect(list.stdout).toMatch(/^NAME\s+SCOPE\s+UPDATED\nnotes-admin\s+global\s+\d{4}-/);
    const json = await monkd.monkJson<Array<Record<string, string>>>(['secrets', 'list']);
    expect(json.map((entry) => Object.keys(entry).sort())).toEqual([['name', 'scope', 'updatedAt']]);
    expect(JSON.stringify(json)).not.toContain(password);
  });

  it('runs two connected runnables with --set, rendered files, readiness and a start hook (needs Docker)', async () => {
    expect((await monkd.monk(['load', notes])).code).toBe(0);
    const run = await monkd.monk(['run', 'notes/app', '--set', 'notes/store/title=Team notes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('notes/app is ready');
    expect((await ps()).map((row) => [row.workloadId, row.phase])).toEqual([
      ['notes/reader#reader', 'ready'],
      ['notes/store#store', 'ready'],
    ]);

    // files: rendered with the --set variable and the secret, with their modes
    expect(await inStore('cat /www/index.html')).toBe('<h1>Team notes</h1>\n');
    expect(await inStore('stat -c %a /www/index.html /etc/notes/admin')).toBe('644\n600\n');
    expect(await inStore('cat /etc/notes/admin')).toBe(`admin:${password}\n`);
    expect(await inStore('echo "$ADMIN_PASSWORD"')).toBe(`${password}\n`);

    // the container-started hook wrote the welcome note; the reader fetches it through its connection
    expect(await inStore('cat /www/notes/welcome.txt')).toBe('welcome\n');
    const logs = await eventually(
      async () => {
        const result = await monkd.monk(['logs', 'notes/reader']);
        return result.stdout.includes('welcome') ? result.stdout : undefined;
      },
      { what: 'the reader to print the welcome note it fetched from notes-store' },
    );
    expect(logs).toContain('welcome');
    expect(await monkd.log()).toMatch(/"message":"hook container-started ran".*"action":"seed"/);
  });

  it('runs actions with monk do: arguments, exec, connections, and names the actions that exist (needs Docker)', async () => {
    const add = await monkd.monk(['do', 'notes/store/add-note', 'name=todo', 'text=water the plants']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toBe('true\n');
    expect(await inStore('cat /www/notes/todo.txt')).toBe('water the plants\n');
    expect(await monkd.monkJson<{ value: number }>(['do', 'notes/store/count-notes'])).toEqual({ value: 2 });
    const check = await monkd.monk(['do', 'notes/reader/check']);
    expect(check.stdout).toBe('<h1>Team notes</h1>\n');

    const missing = await monkd.monk(['do', 'notes/store/nope']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toBe(
      'Error [ACTION_NOT_FOUND]: notes/store has no action "nope"; its actions: seed, add-note, count-notes\n',
    );
    const noName = await monkd.monk(['do', 'notes/store/add-note']);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('VARIABLE_REQUIRED');
  });

  it('never shows the secret: describe, ps, dump, plan, logs and the data dir (needs Docker)', async () => {
    const outputs = await Promise.all(
      [
        ['describe', 'notes/store'],
        ['describe', 'notes/app'],
        ['ps'],
        ['dump', 'notes/store'],
        ['plan', 'notes/app'],
      ].flatMap((args) => [monkd.monk(args), monkd.monk([...args, '--json'])]),
    );
    for (const output of outputs) {
      expect(output.code, output.stderr).toBe(0);
      expect(output.stdout + output.stderr).not.toContain(password);
    }
    for (const file of await dataFiles(monkd.dataDir)) {
      expect((await readFile(file)).includes(password), file).toBe(false);
    }
  });

  it('keeps random-uuid values and containers on update, and rolls out a rotated secret (needs Docker)', async () => {
    const containers = async (): Promise<string[][]> =>
      (await ps()).map((row) => [row.workloadId, row.containerId ?? '']);
    const before = await containers();
    const id = await inStore('echo "$INSTANCE_ID"');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/);
    const update = await monkd.monk(['update', 'notes/app']);
    expect(update.code, update.stderr).toBe(0);
    expect(await containers()).toEqual(before);
    expect(await inStore('echo "$INSTANCE_ID"')).toBe(id);

    expect((await monkd.monk(['secrets', 'add', 'notes-admin', rotated])).code).toBe(0);
    const plan = await monkd.monk(['plan', 'notes/app']);
    expect(plan.stdout).toContain('environment.ADMIN_PASSWORD changed');
    expect(plan.stdout + plan.stderr).not.toContain(rotated);
    expect((await monkd.monk(['update', 'notes/app'])).code).toBe(0);
    expect(await inStore('echo "$ADMIN_PASSWORD $INSTANCE_ID"')).toBe(`${rotated} ${id}`);
    // The new container ran its start hook again.
    await eventually(
      async () => ((await inStore('cat /www/notes/welcome.txt')) === 'welcome\n' ? true : undefined),
      { what: 'the hook of the recreated store container' },
    );
  });

  it('refuses a runnable that reads a secret without permission, naming both (needs Docker)', async () => {
    const run = await monkd.monk(['run', 'notes/intruder']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'Error [SECRET_NOT_PERMITTED]: secret failed: notes/intruder reads secret "notes-admin" but does not list it in permitted-secrets',
    );
    const scoped = await monkd.monk(['secrets', 'remove', 'notes-admin', '--runnable', 'notes/store']);
    expect(scoped.code).toBe(4);
    expect(scoped.stderr).toContain('there is no secret "notes-admin" for notes/store');
    expect((await monkd.monk(['purge', 'notes/app'])).code).toBe(0);
    expect((await monkd.monk(['secrets', 'remove', 'notes-admin'])).stdout).toBe(
      'Removed secret notes-admin (global)\n',
    );
  });

  it('stores the secrets a Compose file supplies and mounts them where Compose would (needs Docker)', async () => {
    const dir = join(scratch, 'vault');
    await mkdir(dir);
    const compose = join(dir, 'compose.yaml');
    await writeFile(join(dir, 'token.txt'), 'compose-secret-value');
    await writeFile(
      compose,
      [
        'services:',
        '  app:',
        '    image: monk-local/busybox:latest',
        '    command: sleep 3600',
        '    secrets: [token]',
        'secrets:',
        '  token:',
        '    file: ./token.txt',
        '',
      ].join('\n'),
    );
    const load = await monkd.monk(['load', compose]);
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toContain('Stored 1 secret(s) from Compose: vault-token');
    expect(load.stdout).not.toContain('compose-secret-value');
    const list = await monkd.monk(['secrets', 'list']);
    expect(list.stdout).toContain('vault-token');
    expect(list.stdout).not.toContain('compose-secret-value');
    expect((await monkd.monk(['run', 'vault/app'])).code).toBe(0);
    const read = await monkd.monk(['exec', 'vault/app', '--', 'cat', '/run/secrets/token']);
    expect(read.stdout).toBe('compose-secret-value');
    expect((await monkd.monk(['purge', 'vault/app'])).code).toBe(0);
  });

  it('runs a Compose app whose services reach each other by service name (needs Docker)', async () => {
    const dir = join(scratch, 'shop');
    await mkdir(dir);
    const compose = join(dir, 'compose.yaml');
    await writeFile(
      compose,
      `name: shop
services:
  web:
    image: monk-local/busybox:latest
    command: ["sh", "-c", "mkdir -p /www && echo compose-hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    init: true
    mem_limit: 64m
    cpus: 0.5
  client:
    image: monk-local/busybox:latest
    command: ["sh", "-c", "while true; do wget -qO- http://web:8080/ || echo unreachable; sleep 1; done"]
    depends_on: [web]
`,
    );
    const load = await monkd.monk(['load', compose]);
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toContain('Loaded 3 templates: shop/web, shop/client, shop/shop');
    const run = await monkd.monk(['run', 'shop/shop']);
    expect(run.code, run.stderr).toBe(0);
    await eventually(
      async () => {
        const result = await monkd.monk(['logs', 'shop/client']);
        return result.stdout.includes('compose-hello') ? true : undefined;
      },
      { what: 'the client to reach http://web:8080/ by its Compose service name' },
    );
    const web = (await ps()).find((row) => row.workloadId === 'shop/web#web');
    const inspected = await docker([
      'inspect',
      web?.containerId ?? '',
      '--format',
      '{{.HostConfig.Init}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}',
    ]);
    expect(inspected.trim()).toBe('true 67108864 500000000');
    expect((await monkd.monk(['purge', 'shop/shop'])).code).toBe(0);
  });
});
