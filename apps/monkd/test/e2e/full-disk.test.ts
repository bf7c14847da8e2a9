import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfoResult, TemplateSummary } from '@monk/sdk';
import { startMonkd, type MonkdProcess } from '../harness.ts';

const run = promisify(execFile);

// Issue 7: on a full disk a failed `monk load` stayed listed until a restart, every later write failed
// even after space returned, and `monk info` showed nothing wrong.
describe.skipIf(process.getuid?.() !== 0)(
  'monkd whose graph lives on a full disk (built bin/monkd, needs root: a 256 KiB tmpfs)',
  () => {
    let dataDir: string;
    let graphDir: string;
    let monkd: MonkdProcess;

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'monk-e2e-full-'));
      graphDir = join(dataDir, 'graph');
      await mkdir(graphDir);
      await run('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', graphDir]);
      monkd = await startMonkd({ dataDir });
    });
    afterAll(async () => {
      await monkd?.[Symbol.asyncDispose]();
      await run('umount', [graphDir]).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    });

    it('a write the disk refused is not visible, is reported, and writes work again once space returns', async () => {
      const template = join(dataDir, 'big.yaml');
      const description = 'x'.repeat(64 * 1024);
      await writeFile(
        template,
        `namespace: full\nbig:\n  defines: runnable\n  metadata:\n    description: ${description}\n  containers:\n    c:\n      image: monk-local/busybox:latest\n`,
      );
      const filler = join(graphDir, 'filler');
      await writeFile(filler, Buffer.alloc(512 * 1024)).catch(() => undefined);

      const refused = await monkd.monk(['load', template]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('STORAGE_FAILED');
      expect((await monkd.monkJson<TemplateSummary[]>(['list'])).map((t) => t.path)).not.toContain(
        'full/big',
      );
      const info = await monkd.monkJson<InfoResult>(['info']);
      expect(info.problems.map((p) => p.code)).toEqual(['STORAGE_FAILED']);
      expect(info.problems[0]?.message).toContain('no space left');
      expect((await monkd.monk(['info'])).stdout).toContain('problem:  STORAGE_FAILED');

      await rm(filler);
      const loaded = await monkd.monk(['load', template]);
      expect(loaded.code, loaded.stderr).toBe(0);
      expect((await monkd.monkJson<TemplateSummary[]>(['list'])).map((t) => t.path)).toContain('full/big');
      expect((await monkd.monkJson<InfoResult>(['info'])).problems).toEqual([]);
      await monkd.restart();
      expect((await monkd.monkJson<TemplateSummary[]>(['list'])).map((t) => t.path)).toContain('full/big');
    });
  },
);
