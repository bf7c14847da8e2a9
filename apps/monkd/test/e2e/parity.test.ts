import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, startMonkd, type MonkdProcess } from '../harness.ts';

describe('Monk parity: what a Monk user types works', () => {
  let monkd: MonkdProcess;
  let scratch: string;

  beforeAll(async () => {
    monkd = await startMonkd();
    scratch = await mkdtemp(join(tmpdir(), 'monk-e2e-parity-'));
  });
  afterAll(async () => {
    await monkd?.[Symbol.asyncDispose]();
    await rm(scratch, { recursive: true, force: true });
  });

  it('monk load does not call a template "not loaded" when the cluster already holds it', async () => {
    const kit = join(scratch, 'kit.yaml');
    const app = join(scratch, 'app.yaml');
    await writeFile(
      kit,
      'namespace: postgresql\ndb-v16:\n  defines: runnable\n  containers: {db: {image: postgres:16}}\n',
    );
    await writeFile(
      app,
      'namespace: agentsmesh-postgres\nbase:\n  defines: runnable\n  inherits: postgresql/db-v16\n',
    );
    const before = await monkd.monk(['load', app]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stderr).toContain('refers to postgresql/db-v16 (inherits), which is not loaded');
    expect((await monkd.monk(['load', kit])).code).toBe(0);
    const after = await monkd.monk(['load', app]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toBe('');
    expect(after.stdout).toBe('Loaded 1 template: agentsmesh-postgres/base\n');
  });

  it("monk secrets add takes Monk's -g NAME=VALUE and -r NS/RUNNABLE NAME=VALUE beside NAME VALUE", async () => {
    const global = await monkd.monk(['secrets', 'add', '-g', 'p-one=1', 'p-two=2']);
    expect(global.code, global.stderr).toBe(0);
    expect(global.stdout).toBe('Stored secret p-one (global)\nStored secret p-two (global)\n');
    const scoped = await monkd.monk(['secrets', 'add', '-r', 'shop/web', 'p-token=-'], {
      input: 'from-stdin\n',
    });
    expect(scoped.code, scoped.stderr).toBe(0);
    expect(scoped.stdout).toBe('Stored secret p-token (for shop/web)\n');
    const classic = await monkd.monk(['secrets', 'add', 'p-classic', '-'], { input: 'x\n' });
    expect(classic.stdout).toBe('Stored secret p-classic (global)\n');
    const list = await monkd.monkJson<Array<{ name: string; scope: string }>>([
      'secrets',
      'list',
      '-r',
      'shop/web',
    ]);
    expect(list.map((entry) => `${entry.name} ${entry.scope}`).sort()).toContain('p-token shop/web');
    const both = await monkd.monk(['secrets', 'add', '-g', '-r', 'shop/web', 'a=1']);
    expect(both.code).not.toBe(0);
    const bad = await monkd.monk(['secrets', 'add', '-g', 'a=1', 'b']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('"b" is not NAME=VALUE');
  });

  it('monk version, status, ls, info PATH and actions PATH answer as Monk users expect', async () => {
    const version = await monkd.monkJson<{ cli: string; daemon: string; node: string }>(['version']);
    expect(version.cli).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.daemon).toBe((await monkd.monkJson<{ version: string }>(['info'])).version);
    const text = await monkd.monk(['version']);
    expect(text.stdout).toMatch(/^monk \S+ \(node v\d+.*\)\nmonkd \S+\n$/);

    const tool = join(scratch, 'tool.yaml');
    await writeFile(
      tool,
      `namespace: parity
calc:
  defines: runnable
  metadata: {name: Calculator, description: adds numbers, version: "1.2"}
  variables:
    greeting: {type: string, value: hello, description: what it says, env: GREETING}
  containers: {calc: {image: busybox}}
  services: {http: {container: calc, port: 8080, protocol: tcp}}
  actions:
    sum:
      description: sums two numbers
      arguments:
        a: {type: int, description: first number}
        b: {type: int, description: second number}
        add-one: {type: bool, default: false}
      code: $args["a"] $args["b"] add
`,
    );
    expect((await monkd.monk(['load', tool])).code).toBe(0);
    const ls = await monkd.monk(['ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('parity/calc');
    expect(ls.stdout).toBe((await monkd.monk(['list'])).stdout);

    const info = await monkd.monk(['info', 'parity/calc']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toBe(
      [
        'parity/calc (runnable)',
        '  name: Calculator',
        '  description: adds numbers',
        '  version: 1.2',
        '',
        'variables:',
        'NAME       TYPE     VALUE   ENV        DESCRIPTION',
        'greeting   string   hello   GREETING   what it says',
        '',
        'services:',
        'NAME   CONTAINER   PORT   PROTOCOL   DESCRIPTION',
        'http   calc        8080   tcp',
        '',
        'actions:',
        'ACTION   ARGUMENTS                              DESCRIPTION',
        'sum      [a:int] [b:int] [add-one:bool=false]   sums two numbers',
        '',
      ].join('\n'),
    );
    const actions = await monkd.monkJson<Array<{ name: string }>>(['actions', 'parity/calc']);
    expect(actions.map((action) => action.name)).toEqual(['sum']);
    const missing = await monkd.monk(['info', 'parity/nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('parity/nope');
    expect((await monkd.monk(['info'])).stdout).toMatch(/^context: /);

    const status = await monkd.monkJson<{ templates: number; instances: { total: number } }>(['status']);
    expect(status.templates).toBeGreaterThanOrEqual(1);
    expect(status.instances.total).toBe(0);
    expect((await monkd.monk(['status'])).stdout).toMatch(
      /^context: .*\ndaemon: .*\nruntime: .*\ncluster:\s+none \(CLUSTER_NOT_FOUND; monk cluster new makes one\)\ntemplates:\s+\d+ loaded, 0 running\ninstances:\s+0 \(0 running, 0 ready\)\n$/,
    );
    const nuke = await monkd.monk(['cluster', 'nuke', '--help']);
    expect(nuke.stdout).toContain('Destroy the cluster');
  });

  it('monk plan names every secret that is not set at once, with the command that adds each', async () => {
    const stack = join(scratch, 'secrets.yaml');
    await writeFile(
      stack,
      `namespace: vault
db:
  defines: runnable
  permitted-secrets: {db-password: true, db-root: true}
  variables:
    password: <- secret("db-password")
    root: <- secret("db-root")
  containers: {db: {image: busybox, environment: ["P=<- $password", "R=<- $root"]}}
web:
  defines: runnable
  permitted-secrets: {api-token: true}
  variables: {token: <- secret("api-token")}
  containers: {web: {image: busybox, environment: ["T=<- $token"]}}
app:
  defines: process-group
  runnable-list: [vault/db, vault/web]
`,
    );
    expect((await monkd.monk(['load', stack])).code).toBe(0);
    const plan = await monkd.monk(['plan', 'vault/app']);
    expect(plan.code).toBe(4);
    expect(plan.stderr).toContain(
      [
        'vault/app reads 3 secrets that are not set; add them with:',
        '  monk secrets add -g db-password=VALUE   # read by vault/db (or -r vault/db for it alone)',
        '  monk secrets add -g db-root=VALUE   # read by vault/db (or -r vault/db for it alone)',
        '  monk secrets add -g api-token=VALUE   # read by vault/web (or -r vault/web for it alone)',
      ].join('\n'),
    );
    expect((await monkd.monk(['secrets', 'add', '-g', 'db-password=a', 'db-root=b'])).code).toBe(0);
    const fewer = await monkd.monk(['plan', 'vault/app']);
    expect(fewer.stderr).toContain(
      'vault/app reads a secret that is not set; add it with:\n  monk secrets add -g api-token=VALUE',
    );
    expect((await monkd.monk(['secrets', 'add', '-g', 'api-token=c'])).code).toBe(0);
    const ok = await monkd.monk(['plan', 'vault/app']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('monk restart restarts the same containers through the daemon and waits for them (needs Docker)', async () => {
    const app = join(scratch, 'restart.yaml');
    await writeFile(
      app,
      `namespace: parity-restart
web:
  defines: runnable
  containers:
    web:
      image: monk-local/busybox
      image-tag: latest
      bash: mkdir -p /www && echo up > /www/index.html && exec httpd -f -p 8080 -h /www
  checks:
    readiness:
      code: exec("web", "wget", "-qO-", "http://127.0.0.1:8080/") "up" contains?
      period: 1
      initialDelay: 0
      attempts: 30
`,
    );
    expect((await monkd.monk(['load', app])).code).toBe(0);
    const run = await monkd.monk(['run', 'parity-restart/web']);
    expect(run.code, run.stderr).toBe(0);
    try {
      const [before] = await monkd.monkJson<Array<{ containerId: string }>>(['ps']);
      const containerId = before?.containerId ?? '';
      expect(containerId).not.toBe('');
      const marker = await monkd.monk(['exec', 'parity-restart/web', '--', 'touch', '/tmp/kept']);
      expect(marker.code, marker.stderr).toBe(0);
      const startedBefore = (await docker(['inspect', '-f', '{{.State.StartedAt}}', containerId])).trim();

      const restart = await monkd.monk(['restart', 'parity-restart/web']);
      expect(restart.code, restart.stderr).toBe(0);
      expect(restart.stdout).toBe('Restarted 1 container of parity-restart/web: parity-restart/web#web\n');
      const startedAfter = (await docker(['inspect', '-f', '{{.State.StartedAt}}', containerId])).trim();
      expect(Date.parse(startedAfter)).toBeGreaterThan(Date.parse(startedBefore));
      // The same container: what it wrote survives, and it is ready again when restart returns.
      const [after] = await monkd.monkJson<Array<{ containerId: string; ready: boolean }>>(['ps']);
      expect(after).toMatchObject({ containerId, ready: true });
      expect((await monkd.monk(['exec', 'parity-restart/web', '--', 'ls', '/tmp/kept'])).code).toBe(0);

      const idle = await monkd.monk(['restart', 'parity/nothing']);
      expect(idle.code).not.toBe(0);
      expect(idle.stderr).toContain('parity/nothing is not running');
    } finally {
      await monkd.monk(['purge', 'parity-restart/web']);
    }
  });
});
