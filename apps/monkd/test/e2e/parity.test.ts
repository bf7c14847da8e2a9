import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMonkd, type MonkdProcess } from '../harness.ts';

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
});
