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
});
